// Checkpoints: save/load round trips (single file, sharded, tied lm_head), F16/BF16 weights,
// the newer transformers key layout, grouped-query attention against a hand computation, and
// the messages for bad configs and bad checkpoints. Tiny random models only: each test runs in
// well under a second.
#include "generate/generate.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "model/attention.h"
#include "model/checkpoint.h"
#include "test_helpers.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <dirent.h>
#include <functional>
#include <sys/stat.h>

using namespace seva;

namespace {

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

constexpr int64_t kImageToken = 299;

model::LlavaConfig tiny_config(bool tie = false, int64_t kv_heads = 2) {
  model::LlavaConfig c;
  c.text.vocab_size = 300;
  c.text.hidden_size = 32;
  c.text.intermediate_size = 64;
  c.text.num_hidden_layers = 2;
  c.text.num_attention_heads = 4;
  c.text.num_key_value_heads = kv_heads;
  c.text.max_position_embeddings = 128;
  c.text.tie_word_embeddings = tie;
  c.vision.hidden_size = 24;
  c.vision.intermediate_size = 48;
  c.vision.num_hidden_layers = 2;
  c.vision.num_attention_heads = 4;
  c.vision.image_size = 28;
  c.vision.patch_size = 14;
  c.vision.projection_dim = 16;
  c.image_token_index = kImageToken;
  return c;
}

// A random model whose every parameter (norm weights and biases included) differs from the
// constructor's defaults, so loading each one is actually checked.
model::LlavaForConditionalGeneration random_model(const model::LlavaConfig& cfg, uint64_t seed = 7) {
  torch::manual_seed(seed);
  model::LlavaForConditionalGeneration m(cfg);
  torch::NoGradGuard ng;
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.05);
  m->eval();
  return m;
}

Named named_tensors(model::LlavaForConditionalGenerationImpl& m) {
  Named out;
  for (auto& item : m.named_parameters(true)) out.emplace_back(item.key(), item.value().detach().clone());
  return out;
}

void write_config(const std::string& dir, const nlohmann::json& j) {
  io::write_file_atomic(io::join_path(dir, "config.json"), j.dump(2) + "\n");
}

// A model directory holding `tensors` (as given) and `cfg`'s config.json.
std::string write_model(const std::string& name, const model::LlavaConfig& cfg, const Named& tensors,
                        uint64_t max_shard_bytes = 1ull << 30) {
  auto dir = test::temp_dir(name);
  io::save_checkpoint(dir, tensors, max_shard_bytes);
  write_config(dir, cfg.to_json());
  return dir;
}

const std::vector<std::vector<int64_t>>& prompts() {
  static const std::vector<std::vector<int64_t>> p = {
      {1, 17, 42, kImageToken, 13, 7, 250, 3},
      {1, kImageToken, 99, 5},
  };
  return p;
}

torch::Tensor pixels(int64_t n = 2) {
  torch::manual_seed(123);
  return torch::randn({n, 3, 28, 28});
}

torch::Tensor logits_of(model::LlavaForConditionalGenerationImpl& m) {
  torch::NoGradGuard ng;
  return m.forward_logits(prompts(), pixels());
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Expects `f` to throw a std::exception whose one-line message contains every one of `parts`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
    return;
  }
  ADD_FAILURE() << "no exception thrown";
}

Named without(Named t, const std::string& key) {
  t.erase(std::remove_if(t.begin(), t.end(), [&](const auto& nt) { return nt.first == key; }), t.end());
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(ModelCheckpoint, RoundTripSingleFileGivesIdenticalLogits) {
  auto cfg = tiny_config();
  auto m = random_model(cfg);
  auto dir = test::temp_dir("ckpt_single");
  model::save_llava(*m, dir);
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"config.json", "model.safetensors"}));

  auto loaded = model::load_llava(dir);
  EXPECT_EQ(loaded->cfg.to_json(), cfg.to_json());
  EXPECT_FALSE(loaded->parameters()[0].requires_grad());
  auto a = logits_of(*m), b = logits_of(*loaded);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{2, 11, 300}));  // 8 - 1 + 4 image positions
  EXPECT_TRUE(torch::equal(a, b)) << "max diff " << max_abs_diff(a, b);
  // Every tensor came back bit for bit, under the Hub key names.
  io::Checkpoint ckpt(dir);
  EXPECT_TRUE(ckpt.contains("language_model.lm_head.weight"));
  EXPECT_TRUE(ckpt.contains("vision_tower.vision_model.embeddings.class_embedding"));
  EXPECT_TRUE(ckpt.contains("multi_modal_projector.linear_2.bias"));
  for (auto& [name, t] : named_tensors(*m)) EXPECT_TRUE(torch::equal(ckpt.get(name), t)) << name;
}

TEST(ModelCheckpoint, RoundTripShardedWritesIndexAndGivesIdenticalLogits) {
  auto cfg = tiny_config();
  auto m = random_model(cfg);
  auto dir = test::temp_dir("ckpt_sharded");
  model::save_llava(*m, dir, /*max_shard_bytes=*/64 * 1024);
  auto files = list_dir(dir);
  int shards = 0;
  for (const auto& f : files) shards += f.rfind("model-", 0) == 0 && f.find("-of-") != std::string::npos;
  EXPECT_GE(shards, 3) << "files written: " << files.size();
  EXPECT_TRUE(io::file_exists(io::join_path(dir, "model.safetensors.index.json")));
  EXPECT_FALSE(io::file_exists(io::join_path(dir, "model.safetensors")));
  auto index = io::read_json(io::join_path(dir, "model.safetensors.index.json"));
  EXPECT_EQ(index["weight_map"].size(), named_tensors(*m).size());

  auto loaded = model::load_llava(dir);
  EXPECT_TRUE(torch::equal(logits_of(*m), logits_of(*loaded)));

  // Saving again unsharded over the same directory leaves no stale shard behind.
  model::save_llava(*m, dir);
  EXPECT_EQ(list_dir(dir), (std::vector<std::string>{"config.json", "model.safetensors"}));
  EXPECT_TRUE(torch::equal(logits_of(*m), logits_of(*model::load_llava(dir))));
}

TEST(ModelCheckpoint, RoundTripTiedEmbeddingsWritesNoLmHead) {
  auto cfg = tiny_config(/*tie=*/true);
  auto m = random_model(cfg);
  ASSERT_FALSE(m->language_model->lm_head);
  auto dir = test::temp_dir("ckpt_tied");
  model::save_llava(*m, dir);
  io::Checkpoint ckpt(dir);
  for (const auto& k : ckpt.keys()) EXPECT_EQ(k.find("lm_head"), std::string::npos) << k;
  auto loaded = model::load_llava(dir);
  EXPECT_TRUE(loaded->cfg.text.tie_word_embeddings);
  EXPECT_TRUE(torch::equal(logits_of(*m), logits_of(*loaded)));
  // Tied: the logits are the hidden states against the input embeddings.
  torch::NoGradGuard ng;
  auto h = torch::randn({3, 32});
  EXPECT_TRUE(torch::allclose(loaded->language_model->logits(h),
                              torch::matmul(h, loaded->language_model->model->embed_tokens->weight.t()),
                              1e-5, 1e-6));
}

// ---------------------------------------------------------------------------------------------
// Half-precision checkpoints loaded into float32

class ModelCheckpointHalf : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(ModelCheckpointHalf, LoadsConvertedValuesIntoFloat32) {
  const auto half = GetParam();
  auto cfg = tiny_config();
  auto m = random_model(cfg);
  Named converted, rounded;
  for (auto& [name, t] : named_tensors(*m)) {
    converted.emplace_back(name, t.to(half));
    rounded.emplace_back(name, t.to(half).to(torch::kFloat32));
  }
  auto dir = write_model("ckpt_half", cfg, converted);
  {
    io::SafetensorsFile f(io::join_path(dir, "model.safetensors"));
    EXPECT_EQ(f.info("language_model.model.embed_tokens.weight").dtype, half == torch::kHalf ? "F16" : "BF16");
  }
  auto loaded = model::load_llava(dir);
  EXPECT_EQ(loaded->dtype(), torch::kFloat32);
  // Each parameter is exactly the float32 value of the rounded weight (the widening is exact).
  auto params = loaded->named_parameters(true);
  for (auto& [name, t] : rounded) {
    ASSERT_TRUE(params.contains(name)) << name;
    EXPECT_EQ(params[name].scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(params[name], t)) << name;
  }
  // Same logits as a float32 model built from the rounded weights ...
  auto reference = random_model(cfg, /*seed=*/99);
  {
    torch::NoGradGuard ng;
    auto rp = reference->named_parameters(true);
    for (auto& [name, t] : rounded) rp[name].copy_(t);
  }
  auto got = logits_of(*loaded), want = logits_of(*reference);
  EXPECT_TRUE(torch::allclose(got, want, 1e-6, 1e-6)) << "max diff " << max_abs_diff(got, want);
  // ... which differ measurably from the unrounded model's (the rounding really happened).
  EXPECT_GT(max_abs_diff(got, logits_of(*m)), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(F16AndBF16, ModelCheckpointHalf, ::testing::Values(torch::kHalf, torch::kBFloat16),
                         [](const auto& info) { return std::string(info.param == torch::kHalf ? "F16" : "BF16"); });

// ---------------------------------------------------------------------------------------------
// The newer transformers key layout

TEST(ModelCheckpoint, CanonicalKeyMapsBothLayouts) {
  EXPECT_EQ(model::canonical_key("model.language_model.layers.0.mlp.up_proj.weight"),
            "language_model.model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(model::canonical_key("model.vision_tower.vision_model.pre_layrnorm.bias"),
            "vision_tower.vision_model.pre_layrnorm.bias");
  EXPECT_EQ(model::canonical_key("model.multi_modal_projector.linear_1.weight"), "multi_modal_projector.linear_1.weight");
  EXPECT_EQ(model::canonical_key("lm_head.weight"), "language_model.lm_head.weight");
  // The Hub layout is ours already.
  EXPECT_EQ(model::canonical_key("language_model.lm_head.weight"), "language_model.lm_head.weight");
  EXPECT_EQ(model::canonical_key("language_model.model.norm.weight"), "language_model.model.norm.weight");
  // Buffers without weights are skipped.
  EXPECT_EQ(model::canonical_key("vision_tower.vision_model.embeddings.position_ids"), "");
  EXPECT_EQ(model::canonical_key("language_model.model.layers.0.self_attn.rotary_emb.inv_freq"), "");
}

TEST(ModelCheckpoint, NewerKeyLayoutLoadsToSameLogits) {
  auto cfg = tiny_config();
  auto m = random_model(cfg);
  auto rename = [](const std::string& k) {
    const std::pair<std::string, std::string> table[] = {
        {"language_model.model.", "model.language_model."},
        {"language_model.lm_head.", "lm_head."},
        {"vision_tower.", "model.vision_tower."},
        {"multi_modal_projector.", "model.multi_modal_projector."},
    };
    for (const auto& [from, to] : table)
      if (k.rfind(from, 0) == 0) return to + k.substr(from.size());
    ADD_FAILURE() << "unmapped key " << k;
    return k;
  };
  Named renamed;
  for (auto& [name, t] : named_tensors(*m)) renamed.emplace_back(rename(name), t);
  // Older exports also carry buffers with no weights: they are skipped, not "unexpected".
  renamed.emplace_back("model.vision_tower.vision_model.embeddings.position_ids",
                       torch::arange(5, torch::kInt64).unsqueeze(0));
  auto dir = write_model("ckpt_newkeys", cfg, renamed, /*max_shard_bytes=*/100 * 1024);
  io::Checkpoint ckpt(dir);
  EXPECT_TRUE(ckpt.contains("lm_head.weight"));
  EXPECT_TRUE(ckpt.contains("model.language_model.embed_tokens.weight"));
  EXPECT_FALSE(ckpt.contains("language_model.lm_head.weight"));

  auto loaded = model::load_llava(dir);
  EXPECT_TRUE(torch::equal(logits_of(*m), logits_of(*loaded)));
}

// ---------------------------------------------------------------------------------------------
// Grouped-query attention

TEST(ModelCheckpoint, GqaAttentionMatchesHandComputationWithRepeatedHeads) {
  auto cfg = tiny_config(false, /*kv_heads=*/2);
  auto m = random_model(cfg);
  const int64_t H = 4, kvH = 2, D = 8, C = 32, T = 6, B = 2;
  auto& attn = *m->language_model->model->layers[0]->as<model::LlamaDecoderLayer>()->self_attn;
  ASSERT_EQ(attn.k_proj->weight.sizes(), (std::vector<int64_t>{kvH * D, C}));
  ASSERT_EQ(attn.q_proj->weight.sizes(), (std::vector<int64_t>{H * D, C}));

  torch::NoGradGuard ng;
  torch::manual_seed(5);
  auto x = torch::randn({B, T, C});
  auto positions = torch::arange(T, torch::kInt64).unsqueeze(0).expand({B, T}).contiguous();
  auto mask = torch::ones({B, T}, torch::kBool);
  auto bias = model::causal_bias(mask, T, torch::kFloat32);
  auto rope = m->language_model->model->rotary.at(positions, torch::kFloat32);

  // By hand, in float64: projections, rotary embedding, each query head h reading kv head h / 2.
  auto X = x.to(torch::kFloat64);
  auto W = [](const model::Linear& l) { return l->weight.to(torch::kFloat64); };
  auto q = torch::matmul(X, W(attn.q_proj).t()).view({B, T, H, D}).permute({0, 2, 1, 3});
  auto k = torch::matmul(X, W(attn.k_proj).t()).view({B, T, kvH, D}).permute({0, 2, 1, 3});
  auto v = torch::matmul(X, W(attn.v_proj).t()).view({B, T, kvH, D}).permute({0, 2, 1, 3});
  auto inv_freq = torch::empty({D / 2}, torch::kFloat64);
  for (int64_t i = 0; i < D / 2; ++i) inv_freq[i] = 1.0 / std::pow(10000.0, 2.0 * i / D);
  auto freqs = torch::arange(T, torch::kFloat64).unsqueeze(1) * inv_freq.unsqueeze(0);  // (T, D/2)
  auto emb = torch::cat({freqs, freqs}, 1);
  auto cos = emb.cos(), sin = emb.sin();
  auto rot = [&](const torch::Tensor& t) {
    auto rotated = torch::cat({-t.narrow(-1, D / 2, D / 2), t.narrow(-1, 0, D / 2)}, -1);
    return t * cos + rotated * sin;
  };
  q = rot(q);
  k = rot(k);
  std::vector<torch::Tensor> heads;
  for (int64_t h = 0; h < H; ++h) {
    auto kh = k.select(1, h / (H / kvH)), vh = v.select(1, h / (H / kvH));
    auto scores = torch::matmul(q.select(1, h), kh.transpose(1, 2)) / std::sqrt(double(D));  // (B, T, T)
    auto causal = torch::ones({T, T}, torch::kBool).triu(1);
    scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
    heads.push_back(torch::matmul(torch::softmax(scores, -1), vh));  // (B, T, D)
  }
  auto y = torch::stack(heads, 2).reshape({B, T, H * D});
  auto want = torch::matmul(y, W(attn.o_proj).t());

  auto got = attn.forward(x, rope, bias, nullptr);
  EXPECT_LT(max_abs_diff(got, want), 1e-5);

  // With a cache: keys/values are stored per kv head, (B, kvH, capacity, D), before repetition.
  auto cache = m->language_model->model->make_cache(B, T + 4, torch::kFloat32, torch::kCPU);
  ASSERT_EQ(cache.k.size(), 2u);
  EXPECT_EQ(cache.k[0].sizes(), (std::vector<int64_t>{B, kvH, T + 4, D}));
  EXPECT_EQ(cache.v[1].sizes(), (std::vector<int64_t>{B, kvH, T + 4, D}));
  auto got_cached = attn.forward(x, rope, bias, &cache);
  EXPECT_LT(max_abs_diff(got_cached, want), 1e-5);
  EXPECT_LT(max_abs_diff(cache.k[0].narrow(2, 0, T), k), 1e-5);
  EXPECT_LT(max_abs_diff(cache.v[0].narrow(2, 0, T), v), 1e-5);
  EXPECT_EQ(cache.k[0].narrow(2, T, 4).abs().sum().item<double>(), 0.0);
}

TEST(ModelCheckpoint, GqaGreedyGenerationMatchesFullRecomputation) {
  auto cfg = tiny_config(false, /*kv_heads=*/1);  // 4 query heads share one kv head
  auto m = random_model(cfg, 11);
  auto dir = test::temp_dir("ckpt_gqa");
  model::save_llava(*m, dir);
  auto loaded = model::load_llava(dir);
  EXPECT_EQ(loaded->cfg.text.kv_heads(), 1);

  generate::SamplingOptions opts;
  opts.max_new_tokens = 6;
  opts.stop_at_eos = false;
  auto px = pixels();
  auto out = generate::generate(*loaded, prompts(), px.unbind(0), opts, /*eos=*/{2});
  ASSERT_EQ(out.size(), 2u);
  // Batched, left-padded, cached decoding gives what re-running the whole sequence gives, one
  // row at a time, at every step.
  torch::NoGradGuard ng;
  for (size_t r = 0; r < out.size(); ++r) {
    ASSERT_EQ(out[r].tokens.size(), 6u);
    EXPECT_EQ(out[r].finish_reason, "length");
    auto seq = prompts()[r];
    for (int64_t tok : out[r].tokens) {
      auto logits = loaded->forward_logits({seq}, px[static_cast<int64_t>(r)].unsqueeze(0));
      EXPECT_EQ(logits[0][-1].argmax().item<int64_t>(), tok) << "row " << r << " after " << seq.size();
      seq.push_back(tok);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Bad configs: refused by name, with the supported values listed

class ModelCheckpointBadConfig : public ::testing::Test {
 protected:
  // A complete, valid model directory whose config.json the test then edits.
  void SetUp() override {
    cfg = tiny_config();
    dir = write_model("ckpt_badcfg", cfg, named_tensors(*random_model(cfg)));
    json = cfg.to_json();
  }
  void expect_load_error(const std::vector<std::string>& parts) {
    write_config(dir, json);
    auto all = parts;
    all.push_back(io::join_path(dir, "config.json"));
    expect_error([&] { model::load_llava(dir); }, all);
  }
  model::LlavaConfig cfg;
  std::string dir;
  nlohmann::json json;
};

TEST_F(ModelCheckpointBadConfig, ValidConfigLoads) {
  write_config(dir, json);
  EXPECT_NO_THROW(model::load_llava(dir));
}

TEST_F(ModelCheckpointBadConfig, UnknownTextActivation) {
  json["text_config"]["hidden_act"] = "relu2";
  expect_load_error({"text_config.hidden_act", "'relu2'", "supported", "silu", "gelu", "quick_gelu"});
}

TEST_F(ModelCheckpointBadConfig, UnknownVisionActivation) {
  json["vision_config"]["hidden_act"] = "swish";
  expect_load_error({"vision_config.hidden_act", "'swish'", "quick_gelu"});
}

TEST_F(ModelCheckpointBadConfig, UnknownProjectorActivation) {
  json["projector_hidden_act"] = "mish";
  expect_load_error({"projector_hidden_act", "'mish'", "supported", "gelu"});
}

TEST_F(ModelCheckpointBadConfig, RopeScalingRefused) {
  json["text_config"]["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  expect_load_error({"rope_scaling", "linear", "not supported"});
}

TEST_F(ModelCheckpointBadConfig, NullRopeScalingIsFine) {
  json["text_config"]["rope_scaling"] = nullptr;
  write_config(dir, json);
  EXPECT_NO_THROW(model::load_llava(dir));
}

TEST_F(ModelCheckpointBadConfig, UnknownFeatureSelectStrategy) {
  json["vision_feature_select_strategy"] = "foo";
  expect_load_error({"vision_feature_select_strategy", "'foo'", "default", "full"});
}

TEST_F(ModelCheckpointBadConfig, KvHeadsMustDivideHeads) {
  json["text_config"]["num_key_value_heads"] = 3;
  expect_load_error({"num_key_value_heads"});
}

TEST_F(ModelCheckpointBadConfig, ZeroPatchSizeIsRefusedNotADivisionByZero) {
  json["vision_config"]["patch_size"] = 0;
  expect_load_error({"vision_config.patch_size 0", "outside [1, 1024]"});
}

TEST_F(ModelCheckpointBadConfig, ZeroVisionHeadsAreRefused) {
  json["vision_config"]["num_attention_heads"] = 0;
  expect_load_error({"vision_config.num_attention_heads 0"});
}

TEST_F(ModelCheckpointBadConfig, AbsurdWidthNeverReachesLibtorch) {
  json["text_config"]["hidden_size"] = 1000000000000000000LL;
  expect_load_error({"text_config.hidden_size 1000000000000000000", "outside"});
}

TEST_F(ModelCheckpointBadConfig, NegativeVocabularyIsRefused) {
  json["text_config"]["vocab_size"] = -5;
  expect_load_error({"text_config.vocab_size -5"});
}

TEST_F(ModelCheckpointBadConfig, MissingConfigJson) {
  ::unlink(io::join_path(dir, "config.json").c_str());
  expect_error([&] { model::load_llava(dir); }, {io::join_path(dir, "config.json"), "no config.json"});
}

// ---------------------------------------------------------------------------------------------
// Bad checkpoints: the tensor, the shapes and the file are named

class ModelCheckpointBadWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg = tiny_config();
    tensors = named_tensors(*random_model(cfg));
  }
  model::LlavaConfig cfg;
  Named tensors;
};

TEST_F(ModelCheckpointBadWeights, MissingTensor) {
  const std::string key = "language_model.model.layers.1.mlp.down_proj.weight";
  auto dir = write_model("ckpt_missing", cfg, without(tensors, key));
  expect_error([&] { model::load_llava(dir); },
               {"missing", key, io::join_path(dir, "model.safetensors")});
}

TEST_F(ModelCheckpointBadWeights, MissingLmHeadWhenUntied) {
  auto dir = write_model("ckpt_missing_head", cfg, without(tensors, "language_model.lm_head.weight"));
  expect_error([&] { model::load_llava(dir); }, {"missing", "language_model.lm_head.weight"});
}

TEST_F(ModelCheckpointBadWeights, UnexpectedTensor) {
  auto extra = tensors;
  const std::string key = "language_model.model.layers.2.mlp.down_proj.weight";  // a third layer
  extra.emplace_back(key, torch::zeros({32, 64}));
  auto dir = write_model("ckpt_extra", cfg, extra);
  expect_error([&] { model::load_llava(dir); }, {"unexpected", key, io::join_path(dir, "model.safetensors")});
}

TEST_F(ModelCheckpointBadWeights, LmHeadPresentButConfigTied) {
  // Tied in config.json, yet the file carries an lm_head: refused rather than silently ignored.
  auto tied = cfg;
  tied.text.tie_word_embeddings = true;
  auto dir = write_model("ckpt_tied_extra", tied, tensors);
  expect_error([&] { model::load_llava(dir); }, {"unexpected", "language_model.lm_head.weight"});
}

TEST_F(ModelCheckpointBadWeights, ShapeMismatch) {
  const std::string key = "language_model.model.layers.0.self_attn.k_proj.weight";  // (16, 32) with GQA
  for (auto& nt : tensors)
    if (nt.first == key) nt.second = torch::zeros({32, 32});
  auto dir = write_model("ckpt_shape", cfg, tensors, /*max_shard_bytes=*/64 * 1024);
  // Sharded: the message names the shard that holds the tensor.
  io::Checkpoint ckpt(dir);
  auto shard = ckpt.file_of(key);
  EXPECT_NE(shard.find("-of-"), std::string::npos);
  expect_error([&] { model::load_llava(dir); }, {key, "[32, 32]", "[16, 32]", shard});
}

TEST_F(ModelCheckpointBadWeights, ConfigDisagreesWithWeights) {
  // config.json says 4 kv heads: k_proj in the file (2 kv heads) is then too small.
  auto other = cfg;
  other.text.num_key_value_heads = 4;
  auto dir = write_model("ckpt_cfg_shape", other, tensors);
  expect_error([&] { model::load_llava(dir); },
               {"language_model.model.layers.0.self_attn.k_proj.weight", "[16, 32]", "[32, 32]"});
}

TEST_F(ModelCheckpointBadWeights, BinOnlyDirectoryIsRefused) {
  auto dir = test::temp_dir("ckpt_bin");
  write_config(dir, cfg.to_json());
  io::write_file_atomic(io::join_path(dir, "pytorch_model.bin"), "PK\x03\x04 not a real pickle");
  expect_error([&] { model::load_llava(dir); }, {dir, "model.safetensors"});
}
