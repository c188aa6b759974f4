// LLaVA: the CLIP tower, the MLP projector and the LLaMA decoder, composed as transformers'
// LlavaForConditionalGeneration; image embeddings are spliced in place of the <image> token.
#pragma once
#include "model/clip.h"
#include "model/config.h"
#include "model/llama.h"

#include <vector>

namespace seva::model {

// `multi_modal_projector.*`: linear_1 (vision → text width), activation, linear_2.
struct LlavaMultiModalProjectorImpl : torch::nn::Module {
  explicit LlavaMultiModalProjectorImpl(const LlavaConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);
  Linear linear_1{nullptr}, linear_2{nullptr};
  Activation act;
};
TORCH_MODULE(LlavaMultiModalProjector);

struct LlavaForConditionalGenerationImpl : torch::nn::Module {
  explicit LlavaForConditionalGenerationImpl(const LlavaConfig& cfg);

  // pixel_values: (N, 3, S, S), one row per image -> image embeddings (N, P, C_text).
  // The vision tower runs once per image; layers past vision_feature_layer are skipped.
  torch::Tensor image_features(const torch::Tensor& pixel_values);
  // The tower's half of image_features: the selected layer's patch features (N, P, C_vision),
  // before the projector. Training keeps these (smaller than the projected ones) and runs the
  // projector each step, so an adapter on the projector trains.
  torch::Tensor vision_features(const torch::Tensor& pixel_values);

  // Full-sequence logits (B, T_merged, vocab) for left-padded prompts: for tests and tools.
  // Training and generation call the pieces (merge_prompts, language_model) directly so the
  // lm_head runs only where logits are needed.
  torch::Tensor forward_logits(const std::vector<std::vector<int64_t>>& ids, const torch::Tensor& pixel_values);

  torch::ScalarType dtype() const;
  torch::Device device() const;

  LlavaConfig cfg;
  CLIPVisionModel vision_tower{nullptr};
  LlavaMultiModalProjector multi_modal_projector{nullptr};
  LlamaForCausalLM language_model{nullptr};
};
TORCH_MODULE(LlavaForConditionalGeneration);

// A batch of token sequences with the image embeddings spliced in: what the decoder sees.
struct MergedBatch {
  torch::Tensor embeds;          // (B, T, C)
  torch::Tensor mask;            // (B, T) bool: true = real token, false = padding
  torch::Tensor positions;       // (B, T) int64: 0, 1, ... over real tokens
  std::vector<int64_t> lengths;  // real tokens per row
  std::vector<int64_t> offsets;  // index of each row's first real token (left padding > 0)
};

enum class Padding { Left, Right };

// Embeds `ids` and replaces each run of image tokens by the next image's embeddings
// (`image_embeds` rows are consumed in order across the batch). A run of one <image> token is
// expanded to P embeddings (transformers ≤ 4.44 prompts); a run of exactly P tokens is replaced
// one for one (newer processors). Any other run length, or a count of runs that differs from the
// number of images, is an error.
MergedBatch merge_prompts(LlavaForConditionalGenerationImpl& model, const std::vector<std::vector<int64_t>>& ids,
                          const torch::Tensor& image_embeds, Padding padding);

// Additive attention bias (B, 1, Tq, Tk) for the last Tq of Tk positions: causal, and keys where
// key_mask (B, Tk) is false are hidden.
torch::Tensor causal_bias(const torch::Tensor& key_mask, int64_t q_len, torch::ScalarType dtype);

}  // namespace seva::model
