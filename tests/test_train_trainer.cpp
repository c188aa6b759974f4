// The DPO trainer end to end on the tiny fixture model: step-0 loss, metrics, resume, bad input.
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "test_helpers.h"
#include "train/pairs.h"
#include "train/trainer.h"

#include <torch/torch.h>

#include <cmath>

using namespace seva;

namespace {

std::string write_pairs(const std::string& dir) {
  std::string path = dir + "/pairs.jsonl";
  io::JsonlWriter w(path, false);
  const char* images[] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};
  for (int i = 0; i < 6; ++i)
    w.write({{"id", "q" + std::to_string(i)}, {"image", images[i % 3]}, {"question", "What colour is the shape?"},
             {"chosen", i % 2 ? "Red." : "A blue circle."}, {"rejected", {i % 2 ? "Green." : "Two squares."}}});
  return path;
}

train::TrainOptions options(const std::string& dir) {
  train::TrainOptions o;
  o.model.model_dir = test::fixture_path("model_A");
  o.model.threads = 2;
  o.pairs = write_pairs(dir);
  o.images = test::fixture_path("images");
  o.out = dir + "/run";
  o.lora.r = 4;
  o.lora.alpha = 8;
  o.lr = 1e-2;
  o.batch_size = 2;
  o.micro_batch_size = 1;
  o.repeat = 1;
  o.quiet = true;
  return o;
}

torch::Tensor adapter_weights(const std::string& run) {
  io::SafetensorsFile f(run + "/adapter/adapter_model.safetensors");
  std::vector<torch::Tensor> all;
  for (const auto& k : f.keys()) all.push_back(f.get(k).view(-1));
  return torch::cat(all);
}

}  // namespace

TEST(Trainer, FirstStepLossIsLog2AndTrainingMovesTheRewards) {
  auto o = options(test::temp_dir("train"));
  EXPECT_EQ(train::train_dpo(o), 3);  // 6 pairs, batch 2
  auto rows = io::read_jsonl(o.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NEAR(rows[0]["loss"].get<double>(), std::log(2.0), 1e-5);  // policy = reference at step 0
  EXPECT_NEAR(rows[0]["rewards/margins"].get<double>(), 0.0, 1e-5);
  EXPECT_LT(rows[2]["loss"].get<double>(), rows[0]["loss"].get<double>());
  EXPECT_DOUBLE_EQ(rows[0]["lr"].get<double>(), 0.0);  // warm-up: ceil(0.03 · 3) = 1 step from 0
  for (const char* k : {"rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "logps/rejected", "pairs_per_s"})
    EXPECT_TRUE(rows[1].contains(k)) << k;
  EXPECT_TRUE(io::file_exists(o.out + "/adapter/adapter_config.json"));
  EXPECT_EQ(io::read_jsonl(o.out + "/ref_logps.jsonl").size(), 6u);
}

TEST(Trainer, CosineScheduleWithWarmup) {
  EXPECT_DOUBLE_EQ(train::cosine_lr(1.0, 0, 100, 3), 0.0);
  EXPECT_DOUBLE_EQ(train::cosine_lr(1.0, 3, 100, 3), 1.0);
  EXPECT_NEAR(train::cosine_lr(1.0, 3 + 97 / 2.0, 100, 3), 0.5, 0.02);
  EXPECT_NEAR(train::cosine_lr(2.0, 100, 100, 3), 0.0, 1e-12);
}

TEST(Trainer, ResumeEqualsUninterrupted) {
  auto full = options(test::temp_dir("train_full"));
  full.model.threads = 1;
  train::train_dpo(full);
  auto cut = options(test::temp_dir("train_cut"));
  cut.model.threads = 1;
  cut.max_steps = 1;  // "killed" after one step, with its checkpoint
  train::train_dpo(cut);
  cut.max_steps = -1;
  cut.resume = true;
  EXPECT_EQ(train::train_dpo(cut), 3);
  auto a = adapter_weights(full.out), b = adapter_weights(cut.out);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-6);
  EXPECT_GT(a.abs().max().item<double>(), 0.0);
  EXPECT_EQ(io::read_jsonl(cut.out + "/metrics.jsonl").size(), 3u);
}

TEST(Trainer, CorruptPairLineNamesFileAndLine) {
  auto dir = test::temp_dir("pairs_bad");
  io::write_file_atomic(dir + "/p.jsonl",
                        "{\"id\": \"a\", \"image\": \"x.png\", \"question\": \"q\", \"chosen\": \"c\", \"rejected\": [\"r\"]}\n"
                        "{\"id\": \"b\", \"image\": \"x.png\"\n");
  try {
    train::read_pairs(dir + "/p.jsonl");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("p.jsonl:2"), std::string::npos) << e.what();
  }
  io::write_file_atomic(dir + "/q.jsonl", "{\"id\": \"a\", \"image\": \"x.png\", \"question\": \"q\", \"rejected\": \"r\"}\n");
  try {
    train::read_pairs(dir + "/q.jsonl");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("q.jsonl:1: missing field 'chosen'"), std::string::npos) << e.what();
  }
}

TEST(Trainer, ReadsTheOfficialSevaForm) {
  auto dir = test::temp_dir("pairs_official");
  io::write_file_atomic(dir + "/o.json",
                        R"([{"chosen": "Yes.", "reject": "No.", "question": "Is it red?", "image_id": "a/b.jpg"}])");
  auto p = train::read_pairs(dir + "/o.json");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].image, "a/b.jpg");
  EXPECT_EQ(p[0].rejected, std::vector<std::string>{"No."});
}
