#include "model/init.h"

#include "util/strings.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace seva::model {
namespace {

using util::ends_with;
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

void init_weights(LlavaForConditionalGenerationImpl& model, uint64_t seed) {
  const auto& vc = model.cfg.vision;
  const double c = static_cast<double>(vc.hidden_size);
  const double layers = static_cast<double>(vc.num_hidden_layers);
  const double attn_std = std::pow(c, -0.5) * std::pow(2.0 * layers, -0.5);
  const double range = 0.02;

  torch::NoGradGuard no_grad;
  // One generator for the whole model, drawn in named_parameters order (stable for a config).
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (contains(name, "lora_")) continue;
    torch::Tensor p = item.value();
    auto normal = [&](double std) {
      p.copy_(at::normal(0.0, std, p.sizes(), gen, p.options().dtype(torch::kFloat32)).to(p.dtype()));
    };
    const bool vision = contains(name, "vision_tower.");
    const bool is_norm = contains(name, "norm") || contains(name, "layrnorm");
    if (is_norm) {
      if (ends_with(name, ".weight")) p.fill_(1.0);
      else p.zero_();
    } else if (ends_with(name, ".bias")) {
      p.zero_();
    } else if (!vision) {
      normal(range);  // embed_tokens, q/k/v/o, gate/up/down, lm_head, projector
    } else if (ends_with(name, "class_embedding")) {
      normal(std::pow(c, -0.5));
    } else if (contains(name, "patch_embedding") || contains(name, "position_embedding")) {
      normal(range);
    } else if (contains(name, "q_proj") || contains(name, "k_proj") || contains(name, "v_proj")) {
      normal(attn_std);
    } else if (contains(name, "out_proj")) {
      normal(std::pow(c, -0.5));
    } else if (contains(name, "fc1")) {
      normal(std::pow(2.0 * c, -0.5));
    } else if (contains(name, "fc2")) {
      normal(attn_std);
    } else {
      throw std::logic_error("init_weights: no rule for parameter " + name);
    }
  }
}

}  // namespace seva::model
