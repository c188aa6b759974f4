// The model against numbers computed by Hugging Face transformers 4.40 on the tiny fixture:
// vision features, projector output, logits, greedy tokens (single and batched).
#include "generate/generate.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "test_helpers.h"

#include <torch/torch.h>

using namespace seva;

namespace {

struct Reference {
  nlohmann::json json = io::read_json(test::fixture_path("reference_A.json"));
  io::SafetensorsFile tensors{test::fixture_path("reference_A.safetensors")};
};

std::vector<int64_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

model::LlavaForConditionalGeneration model_a() { return model::load_llava(test::fixture_path("model_A")); }

}  // namespace

TEST(ModelReference, ConfigDefaultsFollowTransformers) {
  auto cfg = model::LlavaConfig::load(test::fixture_path("model_A"));
  EXPECT_EQ(cfg.text.hidden_size, 64);
  EXPECT_EQ(cfg.text.kv_heads(), 4);
  EXPECT_EQ(cfg.text.hidden_act, "silu");       // default, not in the file
  EXPECT_DOUBLE_EQ(cfg.text.rope_theta, 10000.0);  // default
  EXPECT_TRUE(cfg.text.tie_word_embeddings);
  EXPECT_EQ(cfg.vision.hidden_act, "quick_gelu");  // CLIP default
  EXPECT_DOUBLE_EQ(cfg.vision.layer_norm_eps, 1e-5);
  EXPECT_EQ(cfg.image_token_index, 512);
  EXPECT_EQ(cfg.image_tokens(), 16);
  EXPECT_EQ(cfg.vision_layers_needed(), 1);  // layer -2 of 2
}

TEST(ModelReference, ImageFeaturesMatchTransformers) {
  Reference ref;
  auto m = model_a();
  torch::NoGradGuard ng;
  auto px = ref.tensors.get("forward.pixel_values");
  auto feats = m->image_features(px);
  auto expected = ref.tensors.get("forward.image_features");
  ASSERT_EQ(feats.sizes(), expected.sizes());
  EXPECT_LT(max_abs_diff(feats, expected), 1e-4);
  // The selected vision hidden state (CLS dropped) before the projector.
  auto h = m->vision_tower->vision_model->hidden_state(px, m->cfg.vision_layers_needed());
  EXPECT_LT(max_abs_diff(h.narrow(1, 1, 16), ref.tensors.get("forward.projector_input")), 1e-4);
  // All layers run: the last hidden state.
  auto last = m->vision_tower->vision_model->hidden_state(px, m->cfg.vision.num_hidden_layers);
  EXPECT_LT(max_abs_diff(last, ref.tensors.get("forward.vision_last_hidden_state")), 1e-4);
}

TEST(ModelReference, LogitsMatchTransformers) {
  Reference ref;
  auto m = model_a();
  torch::NoGradGuard ng;
  auto ids = ids_of(ref.json["forward"]["input_ids"]);
  auto logits = m->forward_logits({ids}, ref.tensors.get("forward.pixel_values"));
  auto expected = ref.tensors.get("forward.logits");
  ASSERT_EQ(logits.sizes(), expected.sizes());  // (1, 92, 514): 77 - 1 + 16 positions
  double diff = max_abs_diff(logits, expected);
  EXPECT_LT(diff, 1e-4) << "max |logits - transformers| = " << diff;
  EXPECT_EQ(logits[0][-1].argmax().item<int64_t>(), ref.json["forward"]["argmax_last"].get<int64_t>());
}

TEST(ModelReference, GreedyGenerationMatchesTransformersOneByOne) {
  Reference ref;
  auto m = model_a();
  generate::SamplingOptions opts;
  opts.max_new_tokens = 20;
  const auto& cases = ref.json["generate_single"];
  // The fixed-shape steps a CUDA graph captures give the same tokens as the default ones.
  for (auto mode : {generate::DecodeMode::Dynamic, generate::DecodeMode::Static}) {
    opts.decode = mode;
    for (size_t i = 0; i < cases.size(); ++i) {
      auto px = ref.tensors.get("generate." + std::to_string(i) + ".pixel_values");
      auto out = generate::generate(*m, {ids_of(cases[i]["input_ids"])}, px.unbind(0), opts, {2});
      EXPECT_EQ(out[0].tokens, ids_of(cases[i]["new_token_ids"])) << "case " << i << ", " << decode_mode_name(mode);
      EXPECT_EQ(out[0].finish_reason, "length");
    }
  }
}

TEST(ModelReference, GreedyGenerationMatchesTransformersBatched) {
  Reference ref;
  auto m = model_a();
  generate::SamplingOptions opts;
  opts.max_new_tokens = 20;
  const auto& batch = ref.json["generate_batch"];
  std::vector<std::vector<int64_t>> prompts;
  std::vector<torch::Tensor> px;
  for (size_t i = 0; i < batch["input_ids"].size(); ++i) {
    // Strip the left padding: our batcher pads by itself.
    std::vector<int64_t> ids;
    for (size_t t = 0; t < batch["input_ids"][i].size(); ++t)
      if (batch["attention_mask"][i][t].get<int>() == 1) ids.push_back(batch["input_ids"][i][t].get<int64_t>());
    prompts.push_back(ids);
    px.push_back(ref.tensors.get("generate." + std::to_string(i) + ".pixel_values"));
  }
  for (auto mode : {generate::DecodeMode::Dynamic, generate::DecodeMode::Static}) {
    opts.decode = mode;
    auto out = generate::generate(*m, prompts, torch::cat(px, 0).unbind(0), opts, {2});
    for (size_t i = 0; i < prompts.size(); ++i)
      EXPECT_EQ(out[i].tokens, ids_of(batch["new_token_ids"][i])) << "row " << i << ", " << decode_mode_name(mode);
  }
}

TEST(ModelReference, BatchOrderDoesNotChangeAnyRow) {
  // The fixture's prompts have 77, 16 and 47 tokens: reversed, the padding of each row changes.
  Reference ref;
  auto m = model_a();
  generate::SamplingOptions opts;
  opts.max_new_tokens = 8;
  const auto& cases = ref.json["generate_single"];
  std::vector<std::vector<int64_t>> prompts;
  std::vector<torch::Tensor> px;
  for (size_t i = 0; i < cases.size(); ++i) {
    size_t k = cases.size() - 1 - i;
    prompts.push_back(ids_of(cases[k]["input_ids"]));
    px.push_back(ref.tensors.get("generate." + std::to_string(k) + ".pixel_values"));
  }
  auto batched = generate::generate(*m, prompts, torch::cat(px, 0).unbind(0), opts, {2});
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto expected = ids_of(cases[cases.size() - 1 - i]["new_token_ids"]);
    expected.resize(8);
    EXPECT_EQ(batched[i].tokens, expected) << "row " << i;
  }
}
