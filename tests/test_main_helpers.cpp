// Test helpers (test_helpers.h). No libtorch here: the ThreadSanitizer tests link this file too.
#include "test_helpers.h"
#include "seva_test_paths.h"
#include "io/files.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sys/wait.h>

namespace seva::test {
std::string data_path(const std::string& rel) { return std::string(SEVA_TEST_DATA) + "/" + rel; }
std::string fixture_path(const std::string& rel) { return data_path("llava-tiny-a/" + rel); }
std::string temp_dir(const std::string& name) {
  std::string base = ::testing::TempDir() + "seva_" + name + "_XXXXXX";
  std::vector<char> buf(base.begin(), base.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed for " + base);
  return std::string(buf.data());
}

std::map<std::string, std::string> read_tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = io::read_file(e.path().string());
  }
  return out;
}

RunResult run_shell(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(("(" + cmd + ") 2>&1").c_str(), "r"), ::pclose);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe.release());
  return {WEXITSTATUS(status), out};
}

RunResult run_seva(const std::string& args) { return run_shell(std::string(SEVA_BINARY) + " " + args); }

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace seva::test
