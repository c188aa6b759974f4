// Every model command through the `seva` binary on the tiny Qwen2-VL and Qwen2.5-VL checkpoints:
// chat gives transformers' greedy tokens; info, generate with augmentations, pair, logps, train
// (DPO + LoRA), merge, sft and eval run as they do on LLaVA.
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using seva::test::run_seva;

std::string qwen(const std::string& rel) { return seva::test::data_path("qwen2-vl-tiny/" + rel); }

class QwenCli : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI (SEVA_PARTS)";
  }
  std::string model() const { return qwen(GetParam()); }
};

}  // namespace

TEST_P(QwenCli, ChatQuestionGivesTransformersGreedyTokens) {
  auto ref = seva::io::read_json(qwen("reference_" + GetParam() + ".json"))["generate"]["single"];
  auto r = run_seva("chat --model " + model() + " --image " + qwen("images/img2_190x125.png") +
                    " --question 'What is in the picture?' --max-new-tokens 8 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["tokens"], ref["new_token_ids"][0]);
}

TEST_P(QwenCli, InfoNamesTheFamily) {
  auto r = run_seva("info --model " + model());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(GetParam() == "qwen2-vl" ? "Qwen2-VL ViT" : "Qwen2.5-VL ViT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("M-RoPE sections 2/3/3"), std::string::npos) << r.out;
  auto j = run_seva("info --model " + model() + " --json");
  ASSERT_EQ(j.status, 0) << j.out;
  EXPECT_EQ(nlohmann::json::parse(j.out)["model_type"], GetParam() == "qwen2-vl" ? "qwen2_vl" : "qwen2_5_vl");
}

TEST_P(QwenCli, GeneratePairTrainMergeLogpsSftEval) {
  const auto dir = seva::test::temp_dir("qwen_cli_" + GetParam());
  const auto images = qwen("images");
  std::string q;
  const char* rows[][3] = {{"a", "img0_64x40.png", "What is shown?"},
                           {"b", "img1_90x120.png", "<image>\nDescribe it."},
                           {"c", "img2_190x125.png", "What colour is it?"}};
  for (auto& row : rows) q += nlohmann::json{{"id", row[0]}, {"image", row[1]}, {"text", row[2]}}.dump() + "\n";
  seva::io::write_file_atomic(dir + "/q.jsonl", q);
  auto r = run_seva("generate --model " + model() + " --questions " + dir + "/q.jsonl --images " + images +
                    " --aug diffusion:500 --aug flip+rrcrop --out " + dir + "/gen --max-new-tokens 6 --batch-size 2 --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(seva::io::read_jsonl(dir + "/gen/answers.jsonl").size(), 9u);
  r = run_seva("pair --answers " + dir + "/gen/answers.jsonl --out " + dir + "/generated_pairs.jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  // Training pairs written here, so the count does not hang on what a random model says.
  std::string pairs;
  for (auto& row : rows)
    pairs += nlohmann::json{{"id", row[0]}, {"image", row[1]}, {"question", row[2]}, {"chosen", "A red square."},
                            {"rejected", {"A blue dog.", "Nothing."}}}.dump() + "\n";
  seva::io::write_file_atomic(dir + "/pairs.jsonl", pairs);

  r = run_seva("logps --model " + model() + " --pairs " + dir + "/pairs.jsonl --images " + images + " --out " + dir +
               "/logps.jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const auto& row : seva::io::read_jsonl(dir + "/logps.jsonl")) EXPECT_LT(row["chosen_logp"].get<double>(), 0.0);

  r = run_seva("train --model " + model() + " --pairs " + dir + "/pairs.jsonl --images " + images + " --out " + dir +
               "/train --lora-r 4 --lora-alpha 8 --lr 1e-2 --batch-size 2 --repeat 1 --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  seva::io::SafetensorsFile adapter(dir + "/train/adapter/adapter_model.safetensors");
  EXPECT_EQ(adapter.keys().size(), 28u);
  EXPECT_EQ(adapter.keys()[0].rfind("base_model.model.model.language_model.layers.", 0), 0u) << adapter.keys()[0];

  r = run_seva("merge --model " + model() + " --adapter " + dir + "/train/adapter --out " + dir + "/merged");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(seva::io::file_exists(dir + "/merged/tokenizer.json"));
  auto a = run_seva("chat --model " + dir + "/merged --image " + images + "/img0_64x40.png --question hi --max-new-tokens 4 --json");
  auto b = run_seva("chat --model " + model() + " --adapter " + dir + "/train/adapter --image " + images +
                    "/img0_64x40.png --question hi --max-new-tokens 4 --json");
  ASSERT_EQ(a.status, 0) << a.out;
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_EQ(nlohmann::json::parse(a.out)["tokens"], nlohmann::json::parse(b.out)["tokens"]);

  nlohmann::json data = nlohmann::json::array();
  for (auto& row : rows)
    data.push_back({{"id", row[0]}, {"image", row[1]},
                    {"conversations", {{{"from", "human"}, {"value", row[2]}}, {{"from", "gpt"}, {"value", "A red square."}}}}});
  seva::io::write_file_atomic(dir + "/sft.json", data.dump());
  r = run_seva("sft --model " + model() + " --data " + dir + "/sft.json --images " + images + " --out " + dir +
               "/sft --lora --lora-r 4 --train projector --lr 1e-2 --batch-size 3 --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(seva::io::file_exists(dir + "/sft/adapter/non_lora_trainables.safetensors"));

  seva::io::write_file_atomic(dir + "/pope.jsonl",
                              R"({"question_id": 1, "image": "img0_64x40.png", "text": "Is there a dog?", "label": "yes", "category": "random"}
{"question_id": 2, "image": "img2_190x125.png", "text": "Is there a cat?", "label": "no", "category": "random"}
)");
  r = run_seva("eval --model " + model() + " --pope " + dir + "/pope.jsonl --images " + images + " --out " + dir + "/eval");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(seva::io::read_json(dir + "/eval/metrics.json")["pope"]["overall"]["scored"], 2);
}

INSTANTIATE_TEST_SUITE_P(Families, QwenCli, ::testing::Values("qwen2-vl", "qwen2.5-vl"),
                         [](const auto& info) { return info.param == "qwen2-vl" ? std::string("Qwen2") : std::string("Qwen2_5"); });

TEST_P(QwenCli, BenchRunsTheFamilyAndBothDpoModesAgree) {
  const auto json = seva::test::temp_dir("qwen_bench_" + GetParam()) + "/bench.json";
  auto r = run_seva("bench --size tiny --family " + GetParam() + " --threads 2 --json " + json);
  ASSERT_EQ(r.status, 0) << r.out;
  auto j = seva::io::read_json(json);
  EXPECT_EQ(j["family"], GetParam());
  EXPECT_LT(j["loss_max_abs_diff"].get<double>(), 1e-5);
  EXPECT_GT(j["generate_b4"]["tokens_per_s"].get<double>(), 0.0);
}
