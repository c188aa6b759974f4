// Test helpers: where the fixtures are, scratch directories.
#pragma once
#include <gtest/gtest.h>
#include <map>
#include <string>

namespace seva::test {
std::string data_path(const std::string& rel);     // tests/data/<rel>
std::string fixture_path(const std::string& rel);  // tests/data/llava-tiny-a/<rel>
std::string temp_dir(const std::string& name);     // a fresh directory under the test temp dir
// Every file below `dir`: its path relative to `dir` → its bytes.
std::map<std::string, std::string> read_tree(const std::string& dir);

// Runs the built `seva ARGS` through the shell; stdout and stderr together.
struct RunResult {
  int status;
  std::string out;
};
RunResult run_seva(const std::string& args);
RunResult run_shell(const std::string& cmd);  // a shell command line; stdout and stderr together
std::string shell_quote(const std::string& s);  // single-quoted for the shell
}  // namespace seva::test
