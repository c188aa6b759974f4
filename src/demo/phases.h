// The demo's engine: a run's phases, each a list of `seva` commands run as child processes (so
// every phase goes through the real CLI and its files), skipped when its done-marker says it
// finished before, with one log per phase and its time and commands kept for the report.
#pragma once
#include "util/flags.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace seva::demo {

// One `seva` command without the program: its name, then the argv its flag function writes for
// `options` (the flags that differ from the defaults, and the required ones).
template <class Options, class ListFlags>
std::vector<std::string> command(const std::string& name, ListFlags&& list_flags, const Options& options) {
  std::vector<std::string> args = util::write_argv(list_flags, options);
  args.insert(args.begin(), name);
  return args;
}

class Runner {
 public:
  // `out`: the run directory (.done/ and logs/ are made in it); `seva`: the executable the
  // commands run; `echo`: pass the commands' stderr through.
  Runner(std::string out, std::string seva, bool echo);

  // Runs `commands` (each a command as `command` writes it) as phase `key` (unique within the run;
  // its marker and log are named after it), timing it; `label` names it in the report. Returns
  // true when it ran now, false when it was already done.
  bool phase(const std::string& key, const std::string& label, const std::vector<std::vector<std::string>>& commands);

  // Work done in-process (no command), timed and recorded the same way.
  void step(const std::string& key, const std::string& label, const std::function<void()>& work);

  // [{phase, key, seconds, commands, resumed?}] in the order they were met.
  const nlohmann::ordered_json& phases() const { return phases_; }

 private:
  // True when `key` finished before; its marker's entry is then recorded, as resumed.
  bool resumed(const std::string& key);
  std::string marker(const std::string& key) const;

  std::string out_, seva_;
  bool echo_;
  nlohmann::ordered_json phases_ = nlohmann::ordered_json::array();
};

}  // namespace seva::demo
