// The `seva` binary end to end: chat reproduces transformers' greedy tokens; errors name the file.
#include "io/files.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <memory>

namespace {

using seva::test::run_seva;

using seva::test::shell_quote;

std::string model_dir() { return seva::test::fixture_path("model_A"); }
std::string image0() { return seva::test::fixture_path("images/img0_97x61.png"); }

}  // namespace

TEST(Cli, ChatWithRawPromptGivesTransformersGreedyTokens) {
  // generate_single[0]: the vicuna prompt on img0 with the plain CLIP processor.
  auto ref = seva::io::read_json(seva::test::fixture_path("reference_A.json"))["generate_single"][0];
  std::string prompt = ref["prompt"].get<std::string>();
  std::string quoted = shell_quote(prompt);  // it holds "human's"
  auto r = run_seva("chat --model " + model_dir() + " --image " + image0() + " --image-aspect none --prompt " +
                quoted + " --max-new-tokens 20 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tokens"], ref["new_token_ids"]);
  EXPECT_EQ(j["finish_reason"], "length");
}

TEST(Cli, ChatQuestionAppliesTheTemplate) {
  // --question "What is shown?" builds exactly the fixture's vicuna prompt, so the same tokens come.
  auto ref = seva::io::read_json(seva::test::fixture_path("reference_A.json"))["generate_single"][0];
  auto r = run_seva("chat --model " + model_dir() + " --image " + image0() +
                " --image-aspect none --question 'What is shown?' --max-new-tokens 20 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tokens"], ref["new_token_ids"]);
}

TEST(Cli, ChatSamplingIsSeededAndRepeatable) {
  std::string base = "chat --model " + model_dir() + " --image " + image0() +
                     " --question 'What is shown?' --max-new-tokens 12 --temperature 1.0 --top-p 0.9 --json";
  auto a = run_seva(base + " --seed 7"), b = run_seva(base + " --seed 7"), c = run_seva(base + " --seed 8");
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(nlohmann::json::parse(a.out)["tokens"], nlohmann::json::parse(c.out)["tokens"]);
}

TEST(Cli, InteractiveLoopAnswersEachLine) {
  std::string dir = seva::test::temp_dir("cli");
  std::string input = dir + "/in.txt";
  seva::io::write_file_atomic(input, "What is shown?\n/image " + image0() + "\nWhat is shown?\n");
  auto r = run_seva("chat --model " + model_dir() + " --image " + image0() +
                " --image-aspect none --max-new-tokens 20 --json < " + input);
  ASSERT_EQ(r.status, 0) << r.out;
  auto first = r.out.substr(0, r.out.find('\n'));
  auto ref = seva::io::read_json(seva::test::fixture_path("reference_A.json"))["generate_single"][0];
  EXPECT_EQ(nlohmann::json::parse(first)["tokens"], ref["new_token_ids"]);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
}

TEST(Cli, PromptWithoutImageMarkerIsRefused) {
  auto r = run_seva("chat --model " + model_dir() + " --image " + image0() + " --prompt 'no marker here'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("<image>"), std::string::npos) << r.out;
}

TEST(Cli, UndecodableImageIsNamed) {
  std::string dir = seva::test::temp_dir("cli");
  std::string bad = dir + "/broken.png";
  seva::io::write_file_atomic(bad, "\x89PNG\r\n\x1a\n garbage");
  auto r = run_seva("chat --model " + model_dir() + " --image " + bad + " --question hi");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("broken.png"), std::string::npos) << r.out;
}

TEST(Cli, InfoReportsArchitectureAndCounts) {
  auto r = run_seva("info --model " + model_dir() + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total_parameters"], 208064);
  EXPECT_EQ(j["image_tokens"], 16);
  EXPECT_EQ(j["stored_dtypes"]["F32"], 63);
}

TEST(Cli, HelpListsSubcommands) {
  auto r = run_seva("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("chat"), std::string::npos);
  EXPECT_NE(r.out.find("info"), std::string::npos);
}

TEST(Cli, BenchTinyWritesHeadlinesAndBothDpoModesAgree) {
  // `seva bench` is timing, but what it checks is not: our packed DPO step and the official
  // algorithm must give the same loss, and every headline key must be in the JSON report.
  std::string dir = seva::test::temp_dir("cli_bench");
  std::string json_path = dir + "/bench.json";
  auto r = run_seva("bench --size tiny --threads 2 --json " + json_path + " --profile " + dir + "/prof");
  ASSERT_EQ(r.status, 0) << r.out;
  // --profile: one trace of the DPO step and one of the decode steps at each batch (tiny: 1 and 4),
  // each a chrome://tracing event list that holds the decoder's matmuls.
  for (const char* name : {"dpo_step", "decode_b1", "decode_b4"}) {
    auto trace = seva::io::read_json(dir + "/prof/" + name + ".trace.json");
    ASSERT_TRUE(trace.is_array()) << name;
    bool linear = false;
    for (const auto& e : trace) linear = linear || (e.contains("name") && e["name"] == "aten::linear");
    EXPECT_TRUE(linear) << name << ": no aten::linear event in " << trace.size();
  }
  auto j = seva::io::read_json(json_path);
  for (const char* k : {"gemm_gflops", "prefill_mfu", "train_mfu", "batched_generation_speedup",
                        "batched_generation_ceiling", "dpo_speedup_vs_official", "multi_negative_speedup",
                        "loss_max_abs_diff"})
    ASSERT_TRUE(j.contains(k)) << k << " missing from " << j.dump();
  EXPECT_LT(j["loss_max_abs_diff"].get<double>(), 1e-5);
  EXPECT_GT(j["gemm_gflops"].get<double>(), 0.0);
  // The ceiling is a ratio of two separately timed runs (batch-1 generate over its vision +
  // prefill part), so a loaded machine can put it anywhere: only that it was measured is checked
  // (a CI run under load once gave 0.4).
  EXPECT_GT(j["batched_generation_ceiling"].get<double>(), 0.0);
  EXPECT_NE(r.out.find("DPO ours / official"), std::string::npos) << r.out;
}
