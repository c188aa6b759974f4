// The DPO trainer end to end on the tiny fixture model: step-0 loss, metrics, resume, bad input.
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "test_helpers.h"
#include "train/pairs.h"
#include "train/ref_cache.h"
#include "train/trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <dirent.h>

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
  o.loop.out = dir + "/run";
  o.lora.r = 4;
  o.lora.alpha = 8;
  o.loop.lr = 1e-2;
  o.loop.batch_size = 2;
  o.loop.micro_batch_size = 1;
  o.loop.repeat = 1;
  o.loop.quiet = true;
  return o;
}

torch::Tensor adapter_weights(const std::string& run) {
  io::SafetensorsFile f(run + "/adapter/adapter_model.safetensors");
  std::vector<torch::Tensor> all;
  for (const auto& k : f.keys()) all.push_back(f.get(k).view(-1));
  return torch::cat(all);
}

// The reference caches next to a pairs file.
std::vector<std::string> ref_caches(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d))
      if (std::string(e->d_name).find(".ref_logps.") != std::string::npos) out.push_back(dir + "/" + e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Trainer, FirstStepLossIsLog2AndTrainingMovesTheRewards) {
  auto o = options(test::temp_dir("train"));
  EXPECT_EQ(train::train_dpo(o), 3);  // 6 pairs, batch 2
  auto rows = io::read_jsonl(o.loop.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NEAR(rows[0]["loss"].get<double>(), std::log(2.0), 1e-5);  // policy = reference at step 0
  EXPECT_NEAR(rows[0]["rewards/margins"].get<double>(), 0.0, 1e-5);
  EXPECT_LT(rows[2]["loss"].get<double>(), rows[0]["loss"].get<double>());
  EXPECT_DOUBLE_EQ(rows[0]["lr"].get<double>(), 0.0);  // warm-up: ceil(0.03 · 3) = 1 step from 0
  for (const char* k : {"rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "logps/rejected", "pairs_per_s"})
    EXPECT_TRUE(rows[1].contains(k)) << k;
  EXPECT_TRUE(io::file_exists(o.loop.out + "/adapter/adapter_config.json"));
  auto caches = ref_caches(o.pairs.substr(0, o.pairs.rfind('/')));  // next to the pairs
  ASSERT_EQ(caches.size(), 1u);
  EXPECT_EQ(io::read_jsonl(caches[0]).size(), 7u);  // the key, then one row per pair
}

// Adapters on the projector only: the trainer keeps the tower's output and runs the projector
// each step, so they get gradients and move.
TEST(Trainer, ProjectorAdaptersTrain) {
  auto o = options(test::temp_dir("train_projector"));
  o.lora.target_modules = {"linear_1", "linear_2"};
  EXPECT_EQ(train::train_dpo(o), 3);
  auto rows = io::read_jsonl(o.loop.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NEAR(rows[0]["loss"].get<double>(), std::log(2.0), 1e-5);
  EXPECT_LT(rows[2]["loss"].get<double>(), rows[0]["loss"].get<double>());
  io::SafetensorsFile f(o.loop.out + "/adapter/adapter_model.safetensors");
  EXPECT_EQ(f.keys().size(), 4u);
  for (const char* k : {"base_model.model.multi_modal_projector.linear_1.lora_B.weight",
                        "base_model.model.multi_modal_projector.linear_2.lora_B.weight"})
    EXPECT_GT(f.get(k).abs().max().item<double>(), 0.0) << k;  // B starts at zero
}

TEST(Trainer, MultiNegativePairsWithDifferentNumbersOfNegatives) {
  // `seva pair` keeps only the views whose answer changed, so multi-negative pairs hold 1 to k
  // rejected answers; a micro-batch mixing them used to crash. At step 0 (policy = reference)
  // the multi loss of a pair with k negatives is log(1 + k): 2 and 1 here, batch mean.
  std::string dir = test::temp_dir("train_multi");
  auto o = options(dir);
  {
    io::JsonlWriter w(dir + "/multi.jsonl", false);
    w.write({{"id", "m0"}, {"image", "img0_97x61.png"}, {"question", "What colour is the shape?"},
             {"chosen", "A blue circle."}, {"rejected", {"Two squares.", "Green."}}});
    w.write({{"id", "m1"}, {"image", "img1_40x120.jpg"}, {"question", "What colour is the shape?"},
             {"chosen", "Red."}, {"rejected", {"Green."}}});
  }
  o.pairs = dir + "/multi.jsonl";
  o.loss.type = train::LossType::Multi;
  o.loss.nll_weight = 1.0;
  o.loop.micro_batch_size = 2;
  EXPECT_EQ(train::train_dpo(o), 1);
  auto rows = io::read_jsonl(o.loop.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 1u);
  const double nll = rows[0]["nll/chosen"].get<double>();
  EXPECT_GT(nll, 0.0);
  EXPECT_NEAR(rows[0]["loss"].get<double>(), (std::log(3.0) + std::log(2.0)) / 2 + nll, 1e-5);
  // The logged log-probs at step 0 are the reference ones: the batch mean of the chosen, and of
  // each pair's mean over its own negatives.
  auto caches = ref_caches(dir);
  ASSERT_EQ(caches.size(), 1u);
  auto cache = io::read_jsonl(caches[0]);
  ASSERT_EQ(cache.size(), 3u);
  double chosen = 0, rejected = 0;
  for (size_t i = 1; i < cache.size(); ++i) {
    auto lp = cache[i]["logps"].get<std::vector<double>>();
    chosen += lp[0] / 2;
    double r = 0;
    for (size_t j = 1; j < lp.size(); ++j) r += lp[j] / static_cast<double>(lp.size() - 1);
    rejected += r / 2;
  }
  EXPECT_NEAR(rows[0]["logps/chosen"].get<double>(), chosen, 1e-4);
  EXPECT_NEAR(rows[0]["logps/rejected"].get<double>(), rejected, 1e-4);
}

TEST(Trainer, ReferenceCacheIsReusedAndInvalidated) {
  auto dir = test::temp_dir("ref_cache");
  auto o = options(dir);
  o.loop.max_steps = 1;
  train::train_dpo(o);
  auto caches = ref_caches(dir);
  ASSERT_EQ(caches.size(), 1u);
  // Reused: shift every cached chosen log-prob by -1, so step 0's chosen reward is beta · 1.
  auto rows = io::read_jsonl(caches[0]);
  std::string text = rows[0].dump() + "\n";
  for (size_t i = 1; i < rows.size(); ++i) {
    auto lp = rows[i]["logps"].get<std::vector<double>>();
    lp[0] -= 1.0;
    rows[i]["logps"] = lp;
    text += rows[i].dump() + "\n";
  }
  io::write_file_atomic(caches[0], text);
  o.loop.out = dir + "/run2";
  train::train_dpo(o);
  EXPECT_NEAR(io::read_jsonl(o.loop.out + "/metrics.jsonl")[0]["rewards/chosen"].get<double>(), 0.1, 1e-4);
  EXPECT_EQ(ref_caches(dir).size(), 1u);
  // Another image aspect is another model input: a second cache, computed afresh.
  o.model.image_aspect = "none";
  o.loop.out = dir + "/run3";
  train::train_dpo(o);
  EXPECT_EQ(ref_caches(dir).size(), 2u);
  EXPECT_NEAR(io::read_jsonl(o.loop.out + "/metrics.jsonl")[0]["rewards/chosen"].get<double>(), 0.0, 1e-5);
  o.model.image_aspect = "pad";
  // A changed pairs file: a third cache; the old ones are not read.
  {
    io::JsonlWriter w(o.pairs, true);
    w.write({{"id", "q6"}, {"image", "img0_97x61.png"}, {"question", "Shape?"}, {"chosen", "A circle."}, {"rejected", {"A cube."}}});
  }
  o.loop.out = dir + "/run4";
  train::train_dpo(o);
  EXPECT_EQ(ref_caches(dir).size(), 3u);
  EXPECT_NEAR(io::read_jsonl(o.loop.out + "/metrics.jsonl")[0]["rewards/chosen"].get<double>(), 0.0, 1e-5);
  // A cache whose rows do not match the pairs (same name, other content) is rewritten, not trusted.
  auto key = train::ref_cache_key(o.pairs, o.model, torch::kFloat32, o.images);
  auto path = train::ref_cache_path(o.pairs, key);
  ASSERT_TRUE(io::file_exists(path));
  io::write_file_atomic(path, nlohmann::json{{"seva_ref_logps", 1}, {"key", key}}.dump() + "\n" +
                                  nlohmann::json{{"index", 0}, {"id", "not-q0"}, {"logps", {0.0, 0.0}}}.dump() + "\n");
  std::vector<torch::Tensor> ref;
  EXPECT_FALSE(train::read_ref_cache(path, key, train::read_pairs(o.pairs), ref));
  o.loop.out = dir + "/run5";
  train::train_dpo(o);
  EXPECT_TRUE(train::read_ref_cache(path, key, train::read_pairs(o.pairs), ref));
  EXPECT_EQ(io::read_jsonl(path).size(), 8u);
  // The key follows the dtype.
  EXPECT_NE(train::ref_cache_path(o.pairs, train::ref_cache_key(o.pairs, o.model, torch::kBFloat16, o.images)), path);
}

TEST(Trainer, GradientCheckpointingGivesTheSameAdapter) {
  auto a = options(test::temp_dir("train_gc_off"));
  a.loop.max_steps = 2;  // dropout 0.05 (the default) is on: the recomputation must replay its masks
  train::train_dpo(a);
  auto b = options(test::temp_dir("train_gc_on"));
  b.loop.max_steps = 2;
  b.gradient_checkpointing = true;
  train::train_dpo(b);
  auto x = adapter_weights(a.loop.out), y = adapter_weights(b.loop.out);
  EXPECT_LE((x - y).abs().max().item<double>(), 1e-5 * x.abs().max().item<double>());
}

TEST(Trainer, Bf16KeepsAdaptersInFloat32) {
  auto o = options(test::temp_dir("train_bf16"));
  o.bf16 = true;
  o.loop.max_steps = 2;
  EXPECT_EQ(train::train_dpo(o), 2);
  auto rows = io::read_jsonl(o.loop.out + "/metrics.jsonl");
  EXPECT_NEAR(rows[0]["loss"].get<double>(), std::log(2.0), 1e-6);  // policy = reference, both bf16 + 0
  EXPECT_TRUE(std::isfinite(rows[1]["loss"].get<double>()));
  io::SafetensorsFile f(o.loop.out + "/adapter/adapter_model.safetensors");
  for (const auto& k : f.keys()) EXPECT_EQ(f.info(k).dtype, "F32") << k;
  auto w = adapter_weights(o.loop.out);
  EXPECT_GT(w.abs().max().item<double>(), 0.0);
  auto bad = options(test::temp_dir("train_bf16_bad"));
  bad.bf16 = true;
  bad.model.dtype = "float16";
  EXPECT_THROW(train::train_dpo(bad), std::runtime_error);
}

TEST(Trainer, CosineScheduleWithWarmup) {
  EXPECT_DOUBLE_EQ(train::cosine_lr(1.0, 0, 100, 3), 0.0);
  EXPECT_DOUBLE_EQ(train::cosine_lr(1.0, 3, 100, 3), 1.0);
  EXPECT_NEAR(train::cosine_lr(1.0, 3 + 97 / 2.0, 100, 3), 0.5, 0.02);
  EXPECT_NEAR(train::cosine_lr(2.0, 100, 100, 3), 0.0, 1e-12);
  // With a floor: the same curve squeezed into [0.1, 1] × lr after warm-up.
  EXPECT_DOUBLE_EQ(train::cosine_lr(1.0, 1, 100, 4, 0.1), 0.25);
  EXPECT_NEAR(train::cosine_lr(2.0, 100, 100, 3, 0.1), 0.2, 1e-12);
  EXPECT_NEAR(train::cosine_lr(1.0, 3 + 97 / 2.0, 100, 3, 0.1), 0.55, 0.02);
}

TEST(Trainer, ResumeEqualsUninterrupted) {
  auto full = options(test::temp_dir("train_full"));
  full.model.threads = 1;
  train::train_dpo(full);
  auto cut = options(test::temp_dir("train_cut"));
  cut.model.threads = 1;
  cut.loop.max_steps = 1;  // "killed" after one step, with its checkpoint
  train::train_dpo(cut);
  cut.loop.max_steps = -1;
  cut.loop.resume = true;
  EXPECT_EQ(train::train_dpo(cut), 3);
  auto a = adapter_weights(full.loop.out), b = adapter_weights(cut.loop.out);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-6);
  EXPECT_GT(a.abs().max().item<double>(), 0.0);
  EXPECT_EQ(io::read_jsonl(cut.loop.out + "/metrics.jsonl").size(), 3u);
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
