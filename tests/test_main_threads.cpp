// Shared test set-up: a fixed libtorch thread count, so results do not depend on the machine.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

namespace {
struct ThreadSetup : ::testing::Environment {
  void SetUp() override { at::set_num_threads(2); }
};
const auto* const kThreadSetup = ::testing::AddGlobalTestEnvironment(new ThreadSetup);
}  // namespace
