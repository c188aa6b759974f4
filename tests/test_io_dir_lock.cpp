// One seva run per output directory: a second one refuses in one line naming the holder, and the
// lock goes with the run that held it (its end, or its death).
#include "io/files.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <optional>

using namespace seva;

TEST(DirLock, SecondHolderRefusesAndTheLockEndsWithTheFirst) {
  const auto dir = test::temp_dir("dir_lock");
  std::optional<io::DirLock> first;
  first.emplace(dir, "seva train");
  try {
    io::DirLock second(dir, "seva train");
    ADD_FAILURE() << "the second lock was granted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir + " is in use by another seva run (seva train, pid "), std::string::npos) << what;
    EXPECT_NE(what.find("give another --out"), std::string::npos) << what;
  }
  first.reset();
  EXPECT_NO_THROW(io::DirLock again(dir, "seva train"));
}

TEST(DirLock, AnotherProcessOnTheSameOutputRefuses) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI (SEVA_PARTS)";
  const auto dir = test::temp_dir("dir_lock_cli");
  const auto questions = dir + "/q.jsonl";
  io::write_file_atomic(questions, R"({"id": "a", "image": "img0_97x61.png", "text": "What?"})" "\n");
  io::make_dir(dir + "/gen");
  io::DirLock held(dir + "/gen", "seva generate");
  auto r = test::run_seva("generate --model " + test::fixture_path("model_A") + " --questions " + questions +
                          " --images " + test::fixture_path("images") + " --out " + dir + "/gen --max-new-tokens 2");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("is in use by another seva run (seva generate, pid"), std::string::npos) << r.out;
  EXPECT_FALSE(io::file_exists(dir + "/gen/answers.jsonl"));
}
