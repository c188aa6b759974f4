// LLaVA: the CLIP tower, the MLP projector and the LLaMA decoder, composed as transformers'
// LlavaForConditionalGeneration; image embeddings are spliced in place of the <image> token.
#pragma once
#include "model/clip.h"
#include "model/config.h"
#include "model/llama.h"
#include "model/vlm_model.h"

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

struct LlavaForConditionalGenerationImpl : VisionLanguageModelImpl {
  explicit LlavaForConditionalGenerationImpl(const LlavaConfig& cfg);

  // Each image (3, S, S) -> the selected CLIP layer's patch features (P, C_vision). The tower runs
  // once over the stacked images; layers past vision_feature_layer are skipped.
  std::vector<torch::Tensor> vision_features(const std::vector<torch::Tensor>& images) override;
  // The projector, over the stacked features: (P, C_text) per image.
  std::vector<torch::Tensor> project(const std::vector<torch::Tensor>& features) override;
  using VisionLanguageModelImpl::image_features;
  // pixel_values: (N, 3, S, S) -> (N, P, C_text), for callers that hold a stacked batch.
  torch::Tensor image_features(const torch::Tensor& pixel_values);
  using VisionLanguageModelImpl::forward_logits;
  torch::Tensor forward_logits(const std::vector<std::vector<int64_t>>& ids, const torch::Tensor& pixel_values) {
    return forward_logits(ids, pixel_values.unbind(0));
  }

  int64_t image_token_id() const override { return cfg.image_token_index; }
  std::string model_type() const override { return "llava"; }
  nlohmann::json config_json() const override { return cfg.to_json(); }
  std::string canonical_key(const std::string& key) const override;
  std::string checkpoint_key(const std::string& name) const override { return name; }
  torch::nn::Module& vision_encoder() override { return *vision_tower; }
  std::string vision_prefix() const override { return "vision_tower."; }
  torch::nn::Module& projector() override { return *multi_modal_projector; }
  std::string projector_prefix() const override { return "multi_modal_projector."; }
  int64_t image_tokens(int64_t, int64_t) const override { return cfg.image_tokens(); }
  std::string image_token() const override { return "<image>"; }
  int64_t fixed_image_size() const override { return cfg.vision.image_size; }
  int64_t image_size_multiple() const override { return cfg.vision.patch_size; }
  std::string default_image_aspect() const override { return "pad"; }  // LLaVA-1.5's training recipe
  std::string chat_format() const override { return "llava_v1"; }
  std::string describe() const override;

  LlavaConfig cfg;
  CLIPVisionModel vision_tower{nullptr};
  LlavaMultiModalProjector multi_modal_projector{nullptr};
};
TORCH_MODULE(LlavaForConditionalGeneration);

}  // namespace seva::model
