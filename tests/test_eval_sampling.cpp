// Robustness under sampling: the scoring of sampled answers beside the greedy ones (exact values
// on hand-made answers), and `seva eval --samples` end to end on the tiny fixture model.
#include "eval/answers.h"
#include "eval/runner.h"
#include "eval/sampling.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <gtest/gtest.h>

namespace {

using seva::eval::Benchmark;

Benchmark pope_benchmark() {
  Benchmark b;
  b.name = "pope";
  for (int i = 1; i <= 4; ++i) {
    seva::eval::PopeQuestion q;
    q.question_id = i;
    q.key = std::to_string(i);
    q.image = "x.png";
    q.text = "Is there a dog?";
    q.label_yes = i <= 2;  // 1, 2: yes; 3, 4: no
    b.pope.push_back(q);
  }
  return b;
}

}  // namespace

TEST(EvalSampling, ScoresEachSetAndAgreementWithGreedy) {
  const Benchmark b = pope_benchmark().first(3);  // questions 1..3
  ASSERT_EQ(b.pope.size(), 3u);
  // Greedy: all right on 1..3 (question 4 is outside the sampled ones and is ignored).
  std::map<std::string, std::string> greedy = {{"1", "Yes"}, {"2", "Yes."}, {"3", "No"}, {"4", "Yes"}};
  // Sample 0: all right; sample 1: 2 and 3 flipped; "Not at all." reads as yes (the official rule).
  std::vector<std::map<std::string, std::string>> samples = {
      {{"1", "Yes, there is."}, {"2", "Yes"}, {"3", "No, there is not."}},
      {{"1", "Yes"}, {"2", "No"}, {"3", "Not at all."}}};
  auto m = seva::eval::score_sampling(b, greedy, samples, {})["overall"];
  EXPECT_DOUBLE_EQ(m["greedy_accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), (1.0 + 1.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(m["accuracy_min"].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m["accuracy_max"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["agreement"].get<double>(), 4.0 / 6.0);
  EXPECT_EQ(m["samples"], 2);
  EXPECT_EQ(m["sampled_answers"], 6);
  EXPECT_EQ(m["questions"], 3);
  EXPECT_EQ(m["scored"], 3);
}

TEST(EvalSampling, FileAndEntryNamesReadAsTheFlag) {
  EXPECT_EQ(seva::eval::samples_file(0.5), "samples_T0.5.jsonl");
  EXPECT_EQ(seva::eval::samples_file(1.0), "samples_T1.jsonl");
  EXPECT_EQ(seva::eval::sampling_metrics_name("vqa", 0.7), "vqa@T=0.7");
}

TEST(EvalSampling, SampledRowsAreReadApartFromTheAnswers) {
  const std::string dir = seva::test::temp_dir("sampling_rows");
  const std::string path = dir + "/s.jsonl";
  seva::io::write_file_atomic(path,
                              R"({"question_id": 1, "text": "yes", "tokens": 2}
{"question_id": 1, "sample": 0, "text": "no"}
{"question_id": 1, "sample": 1, "text": "maybe"}
{"question_id": 2, "round_id": 1, "sample": 1, "text": "B"}
)");
  auto greedy = seva::eval::read_answers(path);
  EXPECT_EQ(greedy, (std::map<std::string, std::string>{{"1", "yes"}}));
  auto s = seva::eval::read_sampled_answers(path);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("1"), "no");
  EXPECT_EQ(s[1].at("1"), "maybe");
  EXPECT_EQ(s[1].at("2#1"), "B");
  std::vector<int64_t> tokens;
  seva::eval::for_each_answer(path, false, [&](const seva::eval::AnswerRow& a) { tokens.push_back(a.tokens); });
  EXPECT_EQ(tokens, (std::vector<int64_t>{2, -1, -1, -1}));
  seva::io::write_file_atomic(path, "{\"question_id\": 1, \"text\": \"a\", \"sample\": -1}\n");
  try {
    seva::eval::read_sampled_answers(path);
    FAIL() << "accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("s.jsonl:1: sample must be"), std::string::npos) << e.what();
  }
}

TEST(EvalSampling, CliSamplesBesideGreedyAnswersAndKeepsEveryTemperature) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  const std::string dir = seva::test::temp_dir("eval_sampling_cli");
  const std::string pope = dir + "/pope.jsonl", out = dir + "/run";
  seva::io::write_file_atomic(
      pope,
      R"({"question_id": 1, "image": "img0_97x61.png", "text": "Is there a dog in the image?", "label": "yes", "category": "random"}
{"question_id": 2, "image": "img1_40x120.jpg", "text": "Is there a cat in the image?", "label": "no", "category": "random"}
{"question_id": 3, "image": "img2_64x64.png", "text": "Is there a car in the image?", "label": "yes", "category": "random"}
)");
  const std::string base = "eval --model " + seva::test::fixture_path("model_A") +
                           " --max-new-tokens 4 --batch-size 4 --threads 2 --pope " + pope + " --images " +
                           seva::test::fixture_path("images") + " --out " + out;
  auto r = seva::test::run_seva(base + " --samples 3 --sample-questions 2 --temperature 1");
  ASSERT_EQ(r.status, 0) << r.out;
  auto greedy_rows = seva::io::read_jsonl(out + "/pope/answers.jsonl");
  ASSERT_EQ(greedy_rows.size(), 3u);
  for (const auto& row : greedy_rows) {
    EXPECT_FALSE(row.contains("sample"));
    EXPECT_TRUE(row["tokens"].is_number_integer());
  }
  auto sampled = seva::io::read_jsonl(out + "/pope/samples_T1.jsonl");
  ASSERT_EQ(sampled.size(), 6u);  // questions 1 and 2, three samples each
  for (const auto& row : sampled) EXPECT_LE(row["question_id"].get<int>(), 2);
  auto m = seva::io::read_json(out + "/metrics.json");
  ASSERT_TRUE(m.contains("pope@T=1")) << m.dump();
  EXPECT_EQ(m["pope@T=1"]["overall"]["samples"], 3);
  EXPECT_EQ(m["pope@T=1"]["overall"]["questions"], 2);
  EXPECT_EQ(m["pope@T=1"]["overall"]["sampled_answers"], 6);

  // Another temperature into the same directory reuses the greedy answers and keeps T=1's entry.
  auto again = seva::test::run_seva(base + " --samples 2 --sample-questions 2 --temperature 0.5");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("3 already in " + out + "/pope/answers.jsonl, 0 to generate"), std::string::npos)
      << again.out;
  m = seva::io::read_json(out + "/metrics.json");
  EXPECT_TRUE(m.contains("pope@T=1"));
  EXPECT_EQ(m["pope@T=0.5"]["overall"]["samples"], 2);

  // The same temperature with another top-p would mix samples: refused.
  auto mixed = seva::test::run_seva(base + " --samples 3 --temperature 1 --top-p 0.5");
  EXPECT_NE(mixed.status, 0);
  EXPECT_NE(mixed.out.find("samples_T1.jsonl sampled with other settings"), std::string::npos) << mixed.out;
  // Samples need a temperature, and a model.
  auto greedy_samples = seva::test::run_seva(base + " --samples 3");
  EXPECT_NE(greedy_samples.status, 0);
  EXPECT_NE(greedy_samples.out.find("--samples needs --temperature above 0"), std::string::npos) << greedy_samples.out;
  auto no_model = seva::test::run_seva("eval --pope " + pope + " --answers " + out + "/pope/answers.jsonl --samples 2");
  EXPECT_NE(no_model.status, 0);
}
