// Shared test set-up: fixed thread count so results do not depend on the machine.
#include "test_helpers.h"
#include "seva_test_paths.h"

#include <ATen/Parallel.h>
#include <cstdlib>

namespace {
struct ThreadSetup : ::testing::Environment {
  void SetUp() override { at::set_num_threads(2); }
};
const auto* const kThreadSetup = ::testing::AddGlobalTestEnvironment(new ThreadSetup);
}  // namespace

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
}  // namespace seva::test
