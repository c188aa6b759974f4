// The CLI11 side of util::Flags: registers each listed flag on a subcommand, bound to its field,
// with its check as a CLI11 validator, its default shown in --help and `required` enforced.
// Header-only so that the tests can parse argv into an option struct exactly as `seva` does.
#pragma once
#include "util/flags.h"

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace seva::cli {

class CliFlags : public util::Flags {
 public:
  explicit CliFlags(CLI::App& cmd) : cmd_(cmd) {}

  void add(const util::Flag& f, std::string& v) override { finish<std::string>(f, cmd_.add_option(f.name, v, f.help)); }
  void add(const util::Flag& f, double& v) override { finish<double>(f, cmd_.add_option(f.name, v, f.help)); }
  void add(const util::Flag& f, int& v) override { finish<int>(f, cmd_.add_option(f.name, v, f.help)); }
  void add(const util::Flag& f, int64_t& v) override { finish<int64_t>(f, cmd_.add_option(f.name, v, f.help)); }
  void add(const util::Flag& f, uint64_t& v) override { finish<uint64_t>(f, cmd_.add_option(f.name, v, f.help)); }
  void add(const util::Flag& f, bool& v) override {
    if (f.required || f.check != util::Check::none || f.delimiter)
      throw std::logic_error("switch " + f.name + ": a switch takes no check, delimiter or requirement");
    auto* opt = cmd_.add_flag(f.name, v, f.help);
    if (!f.excludes.empty()) opt->excludes(f.excludes);
  }
  void add(const util::Flag& f, std::vector<std::string>& v) override {
    finish<std::string>(f, cmd_.add_option(f.name, v, f.help));
  }
  void add(const util::Flag& f, const util::TextValue& v) override {
    auto set = v.set;
    auto* opt = cmd_.add_option_function<std::string>(f.name, [set](const std::string& s) { set(s); }, f.help);
    if (f.show_default) opt->default_str(v.get());
    finish<std::string>(f, opt, /*capture_default=*/false);
  }

 private:
  // T: the type a single value reads as (a list's element type), for the range check.
  template <class T>
  void finish(const util::Flag& f, CLI::Option* opt, bool capture_default = true) {
    if (f.delimiter) opt->delimiter(f.delimiter);
    switch (f.check) {
      case util::Check::none: break;
      case util::Check::existing_file: opt->check(CLI::ExistingFile); break;
      case util::Check::existing_dir: opt->check(CLI::ExistingDirectory); break;
      case util::Check::positive: opt->check(CLI::PositiveNumber); break;
      case util::Check::non_negative: opt->check(CLI::NonNegativeNumber); break;
      case util::Check::choices: opt->check(CLI::IsMember(f.choices)); break;
      case util::Check::range:
        if constexpr (std::is_arithmetic_v<T>) {
          opt->check(CLI::Range(static_cast<T>(f.min), static_cast<T>(f.max)));
        } else {
          throw std::logic_error("flag " + f.name + ": a range check on a value that is not a number");
        }
        break;
    }
    if (capture_default && f.show_default) opt->capture_default_str();
    if (f.required) opt->required();
    if (!f.excludes.empty()) opt->excludes(f.excludes);
  }

  CLI::App& cmd_;
};

// Registers the flags `list_flags` lists for `options` on `cmd`.
template <class Options, class ListFlags>
void add_flags(CLI::App& cmd, ListFlags&& list_flags, Options& options) {
  CliFlags f(cmd);
  list_flags(f, options);
}

}  // namespace seva::cli
