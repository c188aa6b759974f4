// Command-line flags defined once, beside the option struct they fill, and read two ways: the CLI
// registers them (src/cli/cli_flags.h) and `seva demo` writes a command's argv from a filled struct
// (write_argv). A flag function lists a command's flags on a visitor:
//
//   void train_flags(util::Flags& f, TrainOptions& o) {
//     f.add(util::Flag("--pairs", "pairs file").require().existing_file(), o.pairs);
//     f.add(util::Flag("--beta", "DPO beta"), o.loss.beta);
//     ...
//   }
//
// so a renamed field fails to compile and a flag's name, check and default cannot differ between
// the parser and the programs that write command lines.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace seva::util {

// What a flag's value must satisfy, checked when it is parsed.
enum class Check { none, existing_file, existing_dir, positive, non_negative, range, choices };

// One flag's spec. Built by chaining: Flag("--lr", "peak learning rate").positive().
struct Flag {
  Flag(std::string name, std::string help);

  std::string name;                  // with its dashes: "--lr"
  std::string help;
  bool required = false;
  Check check = Check::none;
  double min = 0, max = 0;           // Check::range, inclusive
  std::vector<std::string> choices;  // Check::choices (each element of a list)
  char delimiter = 0;                // a list given as one value split on this; 0: the flag repeated
  bool show_default = true;          // --help shows the default value
  std::string excludes;              // a flag (added before this one) it cannot be given with

  Flag& require();
  Flag& existing_file();
  Flag& existing_dir();
  Flag& positive();
  Flag& non_negative();
  Flag& range(double lo, double hi);
  Flag& one_of(std::vector<std::string> names);
  Flag& split_on(char c);
  Flag& hide_default();
  Flag& exclude(std::string other);
};

// A value the struct holds in another form than text (an enum): how to write it and read it.
struct TextValue {
  std::function<std::string()> get;
  std::function<void(const std::string&)> set;
};

// An enum field as a TextValue, through its name and parse functions.
template <class E>
TextValue enum_value(E& value, const char* (*name)(E), E (*parse)(const std::string&)) {
  return {[&value, name] { return std::string(name(value)); }, [&value, parse](const std::string& s) { value = parse(s); }};
}

// The visitor a flag function lists its flags on. A bool is a switch (given: true).
class Flags {
 public:
  virtual ~Flags() = default;
  virtual void add(const Flag& f, std::string& value) = 0;
  virtual void add(const Flag& f, double& value) = 0;
  virtual void add(const Flag& f, int& value) = 0;
  virtual void add(const Flag& f, int64_t& value) = 0;
  virtual void add(const Flag& f, uint64_t& value) = 0;
  virtual void add(const Flag& f, bool& value) = 0;
  virtual void add(const Flag& f, std::vector<std::string>& value) = 0;
  virtual void add(const Flag& f, const TextValue& value) = 0;
};

// A double as the shortest text that reads back (as CLI11 reads it) to the same value: "0.0001",
// "2e-06". Throws for NaN and infinities.
std::string format_double(double v);

// Writes argv for the flags whose value differs from the one recorded for them in the defaults'
// pass, and for the required ones: "--name value" (a list: joined by its delimiter, or the flag
// repeated; a switch: the name alone). Use write_argv.
class ArgvWriter : public Flags {
 public:
  // The first pass records the defaults; the second writes.
  void start_writing() { writing_ = true; }
  const std::vector<std::string>& argv() const { return argv_; }

  void add(const Flag& f, std::string& value) override;
  void add(const Flag& f, double& value) override;
  void add(const Flag& f, int& value) override;
  void add(const Flag& f, int64_t& value) override;
  void add(const Flag& f, uint64_t& value) override;
  void add(const Flag& f, bool& value) override;
  void add(const Flag& f, std::vector<std::string>& value) override;
  void add(const Flag& f, const TextValue& value) override;

 private:
  // `shown`: the value as it is compared with the default; `args`: what follows the flag's name
  // (one element per occurrence for a repeated flag; none for a switch that is on).
  void put(const Flag& f, const std::string& shown, const std::vector<std::string>& args);
  bool writing_ = false;
  std::map<std::string, std::string> defaults_;
  std::vector<std::string> argv_;
};

// The argv (without the program and command names) that gives a command, whose flags `list_flags`
// lists, the values of `filled`: the flags differing from a default-constructed Options, and the
// required ones. Throws when a value cannot be written (an empty required value, a list element
// holding its delimiter, a switch off whose default is on).
template <class Options, class ListFlags>
std::vector<std::string> write_argv(ListFlags&& list_flags, const Options& filled) {
  ArgvWriter w;
  Options defaults{};
  list_flags(w, defaults);
  w.start_writing();
  Options copy = filled;
  list_flags(w, copy);
  return w.argv();
}

}  // namespace seva::util
