// `seva eval --chair` end to end: the tiny fixture model describes a small synthetic world's
// images (its answers are noise: the checks are counts, files, and metrics that agree with a
// re-scoring of the answers file), and the reference fixture scored through the CLI.
#include "io/files.h"
#include "io/jsonl.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <nlohmann/json.hpp>

namespace {

using seva::test::run_seva;

}  // namespace

TEST(EvalChairCli, DescribesScoresAndRescores) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  const std::string dir = seva::test::temp_dir("eval_chair_cli");
  const std::string world = dir + "/world", out = dir + "/run";
  auto w = run_seva("world --out " + world + " --train 0 --pool 0 --bench 8 --describe 6 --quiet");
  ASSERT_EQ(w.status, 0) << w.out;
  const std::string chair =
      " --chair " + world + "/chair --chair-split bench --chair-vocabulary " + world + "/chair/objects.txt";
  const std::string model = "eval --model " + seva::test::fixture_path("model_A") +
                            " --max-new-tokens 6 --batch-size 4 --threads 2 --images " + world + "/images" + chair +
                            " --describe-prompt 'Describe the image.'";
  const std::string cmd = model + " --chair-images 4 --out " + out;
  auto r = run_seva(cmd + " --samples 2 --temperature 1");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rows = seva::io::read_jsonl(out + "/chair/answers.jsonl");
  ASSERT_EQ(rows.size(), 4u);  // --chair-images 4 of the 6
  for (const auto& row : rows) {
    EXPECT_EQ(row["prompt"], "Describe the image.");
    EXPECT_GE(row["question_id"].get<int>(), 1);
    EXPECT_LE(row["question_id"].get<int>(), 6);
    EXPECT_GT(row["tokens"].get<int>(), 0);
  }
  EXPECT_EQ(seva::io::read_jsonl(out + "/chair/objects.jsonl").size(), 4u);
  auto m = seva::io::read_json(out + "/metrics.json");
  const auto& o = m["chair"]["overall"];
  EXPECT_EQ(o["questions"], 4);
  EXPECT_EQ(o["scored"], 4);
  EXPECT_TRUE(o["mean_tokens"].is_number());
  ASSERT_TRUE(m.contains("chair@T=1")) << m.dump();
  EXPECT_EQ(m["chair@T=1"]["overall"]["sampled_answers"], 8);
  EXPECT_DOUBLE_EQ(m["chair@T=1"]["overall"]["greedy_chair_i"].get<double>(), o["chair_i"].get<double>());

  // The answers file scored without a model gives the same CHAIR.
  auto s = run_seva("eval --answers " + out + "/chair/answers.jsonl --out " + dir + "/rescored" + chair);
  ASSERT_EQ(s.status, 0) << s.out;
  const auto rescored = seva::io::read_json(dir + "/rescored/metrics.json");
  const auto& ro = rescored["chair"]["overall"];
  for (const char* k : {"chair_s", "chair_i", "recall", "mean_words", "mean_tokens"}) EXPECT_EQ(ro[k], o[k]) << k;

  // An image file gone is counted as missing, not described.
  seva::io::remove_tree(world + "/images/bench");
  auto missing = run_seva(model + " --chair-images 0 --out " + dir + "/missing");
  ASSERT_EQ(missing.status, 0) << missing.out;
  const auto mm = seva::io::read_json(dir + "/missing/metrics.json");
  const auto& mo = mm["chair"]["overall"];
  EXPECT_EQ(mo["questions"], 6);
  EXPECT_EQ(mo["missing_images"], 6);
  EXPECT_EQ(mo["scored"], 0);
}

TEST(EvalChairCli, ScoresTheReferenceFixtureAsChairPy) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  const std::string dir = seva::test::temp_dir("eval_chair_fixture");
  const std::string data = seva::test::data_path("chair");
  auto r = run_seva("eval --chair " + data + " --answers " + data + "/answers.jsonl --out " + dir);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto expected = seva::io::read_json(data + "/expected.json");
  const auto m = seva::io::read_json(dir + "/metrics.json");
  const auto& o = m["chair"]["overall"];
  const auto& ref = expected["overall"];  // chair.py's overall_metrics
  EXPECT_NEAR(o["chair_s"].get<double>(), ref["CHAIRs"].get<double>(), 1e-12);
  EXPECT_NEAR(o["chair_i"].get<double>(), ref["CHAIRi"].get<double>(), 1e-12);
  EXPECT_NEAR(o["recall"].get<double>(), ref["Recall"].get<double>(), 1e-12);
  EXPECT_EQ(seva::io::read_jsonl(dir + "/chair/objects.jsonl").size(), 63u);
  // A benchmark folder without the split's files is refused in one line naming the file.
  auto bad = run_seva("eval --chair " + data + " --chair-split val2017 --answers " + data + "/answers.jsonl");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.out.find("instances_val2017.json"), std::string::npos) << bad.out;
}
