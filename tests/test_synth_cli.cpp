// `seva world` through the binary: flags, --quick, the files, determinism.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "io/files.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

namespace {

using seva::test::run_seva;
using seva::test::shell_quote;

#define REQUIRE_BINARY() \
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI (SEVA_PARTS)"

}  // namespace

TEST(SynthCli, WorldWritesTheFilesDeterministically) {
  REQUIRE_BINARY();
  const std::string a = seva::test::temp_dir("cli_world_a") + "/w", b = seva::test::temp_dir("cli_world_b") + "/w";
  const std::string flags = " --seed 3 --train 200 --pool 100 --bench 120 --quick --pool-questions-per-image 2";
  auto r = run_seva("world --out " + shell_quote(a) + flags);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("seva world: wrote"), std::string::npos) << r.out;
  r = run_seva("world --quiet --threads 1 --out " + shell_quote(b) + flags);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const auto w = seva::io::read_json(a + "/world.json");
  EXPECT_EQ(w["splits"]["train"], 20);
  EXPECT_EQ(w["splits"]["pool"], 10);
  EXPECT_EQ(w["splits"]["bench"], 12);
  EXPECT_EQ(w["counts"]["pool_questions"], 20);
  EXPECT_EQ(w["chair"]["images"], 12);  // --describe's 300 cut to the 12 bench images
  for (const char* f : {"world.json", "sft_stage1.json", "sft_stage2.json", "pool.json", "pool_labels.jsonl", "pope.jsonl",
                        "mmbench.tsv", "vqa.jsonl", "corpus.txt", "images/bench/bench_000011.png",
                        "chair/instances_bench.json", "chair/captions_bench.json", "chair/objects.txt"})
    EXPECT_EQ(seva::io::read_file(a + "/" + f), seva::io::read_file(b + "/" + f)) << f;
  // The pool goes through `seva sample` as any instruction file does.
  r = run_seva("sample --instructions " + shell_quote(a + "/pool.json") + " --per-image 2 --out " +
               shell_quote(a + "/questions.jsonl"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("wrote 20 image-question pairs"), std::string::npos) << r.out;
}

TEST(SynthCli, WorldRejectsBadFlags) {
  REQUIRE_BINARY();
  const std::string d = seva::test::temp_dir("cli_world_bad") + "/w";
  EXPECT_NE(run_seva("world --out " + shell_quote(d) + " --pool-questions-per-image 8").status, 0);
  EXPECT_NE(run_seva("world --out " + shell_quote(d) + " --describe -1").status, 0);
  auto r = run_seva("world --out " + shell_quote(d) + " --train 2 --pool 2 --bench 2 --pool-family colour");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown question family 'colour'"), std::string::npos) << r.out;
}

TEST(SynthCli, WorldHelpNamesDescriptions) {
  REQUIRE_BINARY();
  auto r = run_seva("world --help");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("--describe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("choice, caption"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default all seven"), std::string::npos) << r.out;
}

TEST(SynthCli, WorldDescribeZeroWritesNoChairFiles) {
  REQUIRE_BINARY();
  const std::string d = seva::test::temp_dir("cli_world_describe") + "/w";
  auto r = run_seva("world --quiet --out " + shell_quote(d) + " --train 0 --pool 7 --bench 5 --describe 0");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(seva::io::file_exists(d + "/chair"));
  EXPECT_FALSE(seva::io::read_json(d + "/world.json").contains("chair"));
  r = run_seva("world --quiet --out " + shell_quote(d) + " --train 0 --pool 7 --bench 5 --describe 3");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(seva::io::read_json(d + "/chair/captions_bench.json")["annotations"].size(), 3u);
}
