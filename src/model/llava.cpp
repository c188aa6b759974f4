#include "model/llava.h"

#include "model/checkpoint.h"

#include <sstream>

#include <torch/torch.h>

#include <stdexcept>

namespace seva::model {

LlavaMultiModalProjectorImpl::LlavaMultiModalProjectorImpl(const LlavaConfig& cfg)
    : act(parse_activation(cfg.projector_hidden_act)) {
  linear_1 = register_module("linear_1", Linear(cfg.vision.hidden_size, cfg.text.hidden_size, cfg.projector_bias));
  linear_2 = register_module("linear_2", Linear(cfg.text.hidden_size, cfg.text.hidden_size, cfg.projector_bias));
}

torch::Tensor LlavaMultiModalProjectorImpl::forward(const torch::Tensor& x) {
  return linear_2(activate(act, linear_1(x)));
}

LlavaForConditionalGenerationImpl::LlavaForConditionalGenerationImpl(const LlavaConfig& cfg_) : cfg(cfg_) {
  vision_tower = register_module("vision_tower", CLIPVisionModel(cfg.vision));
  multi_modal_projector = register_module("multi_modal_projector", LlavaMultiModalProjector(cfg));
  language_model = register_module("language_model", LlamaForCausalLM(cfg.text));
}

std::vector<torch::Tensor> LlavaForConditionalGenerationImpl::vision_features(const std::vector<torch::Tensor>& images) {
  if (images.empty()) return {};
  auto px = torch::stack(images).to(device(), dtype());
  auto h = vision_tower->vision_model->hidden_state(px, cfg.vision_layers_needed());  // (N, 1 + P, Cv)
  if (cfg.vision_feature_select_strategy == "default") h = h.narrow(1, 1, h.size(1) - 1);  // drop CLS
  return h.unbind(0);
}

std::vector<torch::Tensor> LlavaForConditionalGenerationImpl::project(const std::vector<torch::Tensor>& features) {
  if (features.empty()) return {};
  return multi_modal_projector(torch::stack(features)).unbind(0);
}

torch::Tensor LlavaForConditionalGenerationImpl::image_features(const torch::Tensor& pixel_values) {
  TORCH_CHECK(pixel_values.dim() == 4, "pixel_values must be (N, 3, S, S), got ", pixel_values.sizes());
  return torch::stack(image_features(pixel_values.unbind(0)));
}

std::string LlavaForConditionalGenerationImpl::describe() const {
  const auto& t = cfg.text;
  const auto& v = cfg.vision;
  std::ostringstream ss;
  ss << "vision tower CLIP ViT: " << v.num_hidden_layers << " layers, width " << v.hidden_size << ", "
     << v.num_attention_heads << " heads, MLP " << v.intermediate_size << " (" << v.hidden_act << "), " << v.image_size
     << " px / patch " << v.patch_size << " -> " << v.num_patches() << " patches\n"
     << "             features from layer " << cfg.vision_feature_layer << " (" << cfg.vision_layers_needed() << " of "
     << v.num_hidden_layers << " run), strategy " << cfg.vision_feature_select_strategy << " -> " << cfg.image_tokens()
     << " image tokens\n"
     << "projector    " << v.hidden_size << " -> " << t.hidden_size << " (" << cfg.projector_hidden_act << ") -> "
     << t.hidden_size << "\n"
     << "language     LLaMA: " << describe_decoder(t) << "\n"
     << "image token  " << cfg.image_token_index << "\n";
  return ss.str();
}

std::string LlavaForConditionalGenerationImpl::canonical_key(const std::string& key) const {
  return model::canonical_key(key);
}

}  // namespace seva::model
