// Qwen2-VL and Qwen2.5-VL (transformers' Qwen2VLForConditionalGeneration and
// Qwen2_5_VLForConditionalGeneration): images at their own resolution through the `visual`
// encoder and merger, spliced in place of <|image_pad|>, and a Qwen2 decoder whose M-RoPE
// positions follow each image's (t, h, w) grid.
#pragma once
#include "model/qwen2_vl_config.h"
#include "model/qwen2_vl_vision.h"
#include "model/vlm_model.h"

namespace seva::model {

struct Qwen2VLForConditionalGenerationImpl : VisionLanguageModelImpl {
  explicit Qwen2VLForConditionalGenerationImpl(const Qwen2VLConfig& cfg);

  // Each image (3, H, W) -> its last block's output (H', W', 4, C_vision).
  std::vector<torch::Tensor> vision_features(const std::vector<torch::Tensor>& images) override;
  // -> (H', W', C_text): one embedding per 2×2 group of patches.
  std::vector<torch::Tensor> project(const std::vector<torch::Tensor>& features) override;

  int64_t image_token_id() const override { return cfg.image_token_id; }
  std::string model_type() const override { return cfg.model_type; }
  nlohmann::json config_json() const override { return cfg.to_json(); }
  std::string canonical_key(const std::string& key) const override;
  std::string checkpoint_key(const std::string& name) const override;
  // PEFT (with transformers >= 4.52) names modules in the newer layout: model.language_model.*.
  std::string adapter_name(const std::string& name) const override;
  // Qwen2.5-VL's vision MLP shares gate/up/down_proj with the decoder: the regex keeps adapters on
  // the decoder's layers, under either layout's name.
  std::string peft_target_regex(const std::vector<std::string>& module_names) const override;
  torch::nn::Module& vision_encoder() override { return *visual; }
  std::string vision_prefix() const override { return "visual."; }
  torch::nn::Module& projector() override { return *visual->merger; }
  std::string projector_prefix() const override { return "visual.merger."; }
  int64_t image_tokens(int64_t height, int64_t width) const override;
  std::string image_token() const override { return "<|image_pad|>"; }
  int64_t fixed_image_size() const override { return 0; }
  int64_t image_size_multiple() const override { return cfg.vision.patch_size * cfg.vision.spatial_merge_size; }
  std::string default_image_aspect() const override { return "none"; }
  std::string chat_format() const override { return "chatml"; }
  std::string describe() const override;

  Qwen2VLConfig cfg;
  Qwen2VLVisionModel visual{nullptr};

 protected:
  // transformers' get_rope_index for images: text runs advance all three axes together; an image
  // of H' x W' merged tokens starting at position s has (t, h, w) = (s, s + row, s + column), and
  // the text after it starts at s + max(H', W').
  torch::Tensor row_positions(const std::vector<torch::Tensor>& pieces, const std::vector<bool>& is_image,
                              int64_t& next) const override;
};
TORCH_MODULE(Qwen2VLForConditionalGeneration);

}  // namespace seva::model
