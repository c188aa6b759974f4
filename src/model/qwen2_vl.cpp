#include "model/qwen2_vl.h"

#include "util/strings.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace seva::model {

using util::ends_with;
using util::starts_with;

Qwen2VLForConditionalGenerationImpl::Qwen2VLForConditionalGenerationImpl(const Qwen2VLConfig& cfg_) : cfg(cfg_) {
  visual = register_module("visual", Qwen2VLVisionModel(cfg.vision));
  language_model = register_module("language_model", LlamaForCausalLM(cfg.text));
}

std::vector<torch::Tensor> Qwen2VLForConditionalGenerationImpl::vision_features(const std::vector<torch::Tensor>& images) {
  std::vector<torch::Tensor> out;
  for (const auto& image : images) out.push_back(visual->blocks_output(image.to(dtype())));
  return out;
}

std::vector<torch::Tensor> Qwen2VLForConditionalGenerationImpl::project(const std::vector<torch::Tensor>& features) {
  std::vector<torch::Tensor> out;
  for (const auto& f : features) out.push_back(visual->merger(f));
  return out;
}

int64_t Qwen2VLForConditionalGenerationImpl::image_tokens(int64_t height, int64_t width) const {
  const int64_t unit = cfg.vision.patch_size * cfg.vision.spatial_merge_size;
  return (height / unit) * (width / unit);
}

torch::Tensor Qwen2VLForConditionalGenerationImpl::row_positions(const std::vector<torch::Tensor>& pieces,
                                                                 const std::vector<bool>& is_image, int64_t& next) const {
  std::vector<torch::Tensor> parts;
  next = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    if (!is_image[i]) {
      parts.push_back(torch::arange(next, next + p.size(0), torch::kInt64).view({1, -1}).expand({3, -1}));
      next += p.size(0);
      continue;
    }
    TORCH_CHECK(p.dim() == 3, "a Qwen2-VL image's embeddings must be (H', W', C), got ", p.sizes());
    const int64_t h = p.size(0), w = p.size(1);
    auto rows = torch::arange(h, torch::kInt64).view({h, 1}).expand({h, w}).reshape({-1});
    auto cols = torch::arange(w, torch::kInt64).view({1, w}).expand({h, w}).reshape({-1});
    parts.push_back(torch::stack({torch::zeros_like(rows), rows, cols}) + next);
    next += std::max(h, w);
  }
  return torch::cat(parts, 1);
}

std::string Qwen2VLForConditionalGenerationImpl::describe() const {
  const auto& v = cfg.vision;
  std::ostringstream ss;
  ss << "vision       " << (v.windowed ? "Qwen2.5-VL ViT: " : "Qwen2-VL ViT: ") << v.depth << " blocks, width "
     << v.hidden_size << ", " << v.num_heads << " heads, MLP " << v.intermediate_size << " (" << v.hidden_act
     << "), patch " << v.patch_size << " x " << v.temporal_patch_size << " frames, 2-D rotary";
  if (v.windowed) {
    ss << ", windows of " << v.window_size << " px, full attention in blocks";
    for (auto b : v.fullatt_block_indexes) ss << " " << b;
  }
  ss << "\n"
     << "merger       " << v.merge_unit() << " patches x " << v.hidden_size << " -> " << v.out_hidden_size
     << " per image token (" << v.patch_size * v.spatial_merge_size << " px square, any image size)\n"
     << "language     Qwen2: " << describe_decoder(cfg.text) << ", M-RoPE sections " << cfg.text.mrope_section[0]
     << "/" << cfg.text.mrope_section[1] << "/" << cfg.text.mrope_section[2] << "\n"
     << "image token  " << cfg.image_token_id << " (between " << cfg.vision_start_token_id << " and "
     << cfg.vision_end_token_id << ")\n";
  return ss.str();
}

std::string Qwen2VLForConditionalGenerationImpl::canonical_key(const std::string& key) const {
  if (ends_with(key, "rotary_emb.inv_freq") || ends_with(key, ".position_ids")) return "";
  // Hub checkpoints (visual.*, model.*, lm_head.*) and transformers >= 4.52's save_pretrained
  // (model.visual.*, model.language_model.*, lm_head.*).
  static const std::pair<const char*, const char*> kRenames[] = {
      {"model.visual.", "visual."},
      {"model.language_model.", "language_model.model."},
      {"visual.", "visual."},
      {"model.", "language_model.model."},
      {"lm_head.", "language_model.lm_head."},
  };
  for (const auto& [from, to] : kRenames)
    if (starts_with(key, from)) return std::string(to) + key.substr(std::string(from).size());
  return key;
}

std::string Qwen2VLForConditionalGenerationImpl::checkpoint_key(const std::string& name) const {
  // The Hub layout, which every transformers version that has these models reads.
  if (starts_with(name, "language_model.model.")) return name.substr(15);
  if (starts_with(name, "language_model.lm_head.")) return name.substr(15);
  return name;
}

std::string Qwen2VLForConditionalGenerationImpl::adapter_name(const std::string& name) const {
  if (starts_with(name, "language_model.model.")) return "model.language_model." + name.substr(21);
  if (starts_with(name, "language_model.lm_head.")) return name.substr(15);
  if (starts_with(name, "visual.")) return "model." + name;
  return name;
}

std::string Qwen2VLForConditionalGenerationImpl::peft_target_regex(const std::vector<std::string>& names) const {
  std::string alternatives;
  for (const auto& n : names) {
    for (char c : n)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return "";  // not a plain module name
    alternatives += (alternatives.empty() ? "" : "|") + n;
  }
  return "(.*language_model\\.|model\\.)layers\\.\\d+\\.(self_attn|mlp)\\.(" + alternatives + ")";
}

}  // namespace seva::model
