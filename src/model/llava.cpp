#include "model/llava.h"

#include "model/attention.h"

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

torch::ScalarType LlavaForConditionalGenerationImpl::dtype() const {
  return language_model->model->embed_tokens->weight.scalar_type();
}

torch::Device LlavaForConditionalGenerationImpl::device() const {
  return language_model->model->embed_tokens->weight.device();
}

torch::Tensor LlavaForConditionalGenerationImpl::image_features(const torch::Tensor& pixel_values) {
  return multi_modal_projector(vision_features(pixel_values));
}

torch::Tensor LlavaForConditionalGenerationImpl::vision_features(const torch::Tensor& pixel_values) {
  TORCH_CHECK(pixel_values.dim() == 4, "pixel_values must be (N, 3, S, S), got ", pixel_values.sizes());
  auto px = pixel_values.to(device(), dtype());
  auto h = vision_tower->vision_model->hidden_state(px, cfg.vision_layers_needed());  // (N, 1 + P, Cv)
  if (cfg.vision_feature_select_strategy == "default") h = h.narrow(1, 1, h.size(1) - 1);  // drop CLS
  return h;
}

torch::Tensor LlavaForConditionalGenerationImpl::forward_logits(const std::vector<std::vector<int64_t>>& ids,
                                                                const torch::Tensor& pixel_values) {
  auto batch = merge_prompts(*this, ids, image_features(pixel_values), Padding::Left);
  auto bias = causal_bias(batch.mask, batch.mask.size(1), dtype());
  auto hidden = language_model->model->forward(batch.embeds, batch.positions, bias);
  return language_model->logits(hidden);
}

MergedBatch merge_prompts(LlavaForConditionalGenerationImpl& model, const std::vector<std::vector<int64_t>>& ids,
                          const torch::Tensor& image_embeds, Padding padding) {
  const int64_t image_id = model.cfg.image_token_index;
  const int64_t P = model.cfg.image_tokens();
  const int64_t n_images = image_embeds.defined() ? image_embeds.size(0) : 0;
  auto& embed = model.language_model->model->embed_tokens;
  auto device = model.device();

  // Each row: a list of pieces (text embeddings or one image's embeddings), in order.
  std::vector<torch::Tensor> rows;
  int64_t next_image = 0;
  for (size_t b = 0; b < ids.size(); ++b) {
    const auto& seq = ids[b];
    std::vector<torch::Tensor> pieces;
    size_t i = 0;
    while (i < seq.size()) {
      size_t j = i;
      if (seq[i] == image_id) {
        while (j < seq.size() && seq[j] == image_id) ++j;
        int64_t run = static_cast<int64_t>(j - i);
        if (run != 1 && run != P)
          throw std::runtime_error("prompt " + std::to_string(b) + " has a run of " + std::to_string(run) +
                                   " <image> tokens; expected 1 or " + std::to_string(P));
        if (next_image >= n_images)
          throw std::runtime_error("prompts hold more <image> markers than the " + std::to_string(n_images) +
                                   " images given");
        pieces.push_back(image_embeds[next_image++]);
      } else {
        while (j < seq.size() && seq[j] != image_id) ++j;
        std::vector<int64_t> chunk(seq.begin() + i, seq.begin() + j);
        auto t = torch::tensor(chunk, torch::kInt64).to(device);
        pieces.push_back(embed(t));
      }
      i = j;
    }
    if (pieces.empty()) throw std::runtime_error("prompt " + std::to_string(b) + " is empty");
    rows.push_back(torch::cat(pieces, 0));  // (T_b, C)
  }
  if (next_image != n_images)
    throw std::runtime_error(std::to_string(n_images) + " images given but the prompts hold " +
                             std::to_string(next_image) + " <image> markers");

  MergedBatch out;
  int64_t T = 0;
  for (auto& r : rows) T = std::max<int64_t>(T, r.size(0));
  const int64_t B = static_cast<int64_t>(rows.size()), C = rows[0].size(1);
  out.embeds = torch::zeros({B, T, C}, rows[0].options());
  out.mask = torch::zeros({B, T}, torch::TensorOptions().dtype(torch::kBool).device(device));
  out.positions = torch::ones({B, T}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = rows[b].size(0);
    int64_t off = padding == Padding::Left ? T - len : 0;
    out.embeds[b].narrow(0, off, len).copy_(rows[b]);
    out.mask[b].narrow(0, off, len).fill_(true);
    out.positions[b].narrow(0, off, len).copy_(torch::arange(len, out.positions.options()));
    out.lengths.push_back(len);
    out.offsets.push_back(off);
  }
  return out;
}

torch::Tensor causal_bias(const torch::Tensor& key_mask, int64_t q_len, torch::ScalarType dtype) {
  auto Tk = key_mask.size(1);
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(key_mask.device());
  auto q_pos = torch::arange(Tk - q_len, Tk, opts).view({q_len, 1});
  auto k_pos = torch::arange(Tk, opts).view({1, Tk});
  auto allowed = (k_pos <= q_pos).unsqueeze(0) & key_mask.unsqueeze(1);  // (B, Tq, Tk)
  auto bias = torch::zeros(allowed.sizes(), torch::TensorOptions().dtype(dtype).device(key_mask.device()));
  bias.masked_fill_(allowed.logical_not(), mask_value(dtype));
  return bias.unsqueeze(1);
}

}  // namespace seva::model
