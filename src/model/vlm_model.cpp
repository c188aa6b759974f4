#include "model/vlm_model.h"

#include "model/attention.h"

#include <torch/torch.h>

#include <sstream>
#include <stdexcept>

namespace seva::model {

torch::ScalarType VisionLanguageModelImpl::dtype() const {
  return language_model->model->embed_tokens->weight.scalar_type();
}

torch::Device VisionLanguageModelImpl::device() const {
  return language_model->model->embed_tokens->weight.device();
}

torch::Tensor VisionLanguageModelImpl::row_positions(const std::vector<torch::Tensor>& pieces,
                                                     const std::vector<bool>& is_image, int64_t& next) const {
  int64_t length = 0;
  for (size_t i = 0; i < pieces.size(); ++i)
    length += is_image[i] ? pieces[i].numel() / pieces[i].size(-1) : pieces[i].size(0);
  next = length;
  return torch::arange(length, torch::kInt64).view({1, length});
}

MergedBatch VisionLanguageModelImpl::merge_prompts(const std::vector<std::vector<int64_t>>& ids,
                                                   const std::vector<torch::Tensor>& image_embeds, Padding padding) {
  const int64_t image_id = image_token_id();
  auto& embed = language_model->model->embed_tokens;
  const auto dev = device();
  std::vector<torch::Tensor> rows, positions;
  std::vector<int64_t> nexts;
  size_t next_image = 0;
  for (size_t b = 0; b < ids.size(); ++b) {
    const auto& seq = ids[b];
    std::vector<torch::Tensor> flat, pieces;  // embeddings as spliced; pieces as positions see them
    std::vector<bool> is_image;
    for (size_t i = 0, j = 0; i < seq.size(); i = j) {
      j = i;
      const bool image = seq[i] == image_id;
      while (j < seq.size() && (seq[j] == image_id) == image) ++j;
      if (image) {
        if (next_image >= image_embeds.size())
          throw std::runtime_error("prompts hold more image markers than the " + std::to_string(image_embeds.size()) +
                                   " images given");
        const auto& e = image_embeds[next_image++];
        auto f = e.reshape({-1, e.size(-1)});
        const int64_t run = static_cast<int64_t>(j - i), P = f.size(0);
        if (run != 1 && run != P)
          throw std::runtime_error("prompt " + std::to_string(b) + " has a run of " + std::to_string(run) +
                                   " image tokens; its image needs 1 or " + std::to_string(P));
        flat.push_back(f.to(dev));
        pieces.push_back(e);
      } else {
        auto t = embed(torch::tensor(std::vector<int64_t>(seq.begin() + i, seq.begin() + j), torch::kInt64).to(dev));
        flat.push_back(t);
        pieces.push_back(t);
      }
      is_image.push_back(image);
    }
    if (flat.empty()) throw std::runtime_error("prompt " + std::to_string(b) + " is empty");
    int64_t length = 0;
    for (const auto& f : flat) length += f.size(0);
    // A prompt past the context the decoder was trained for is refused, not run for minutes.
    const int64_t context = language_model->model->cfg.max_position_embeddings;
    if (length > context)
      throw std::runtime_error("prompt " + std::to_string(b) + " is " + std::to_string(length) +
                               " tokens with its image, longer than the model's context of " + std::to_string(context) +
                               " (max_position_embeddings)");
    int64_t next = 0;
    positions.push_back(row_positions(pieces, is_image, next));
    nexts.push_back(next);
    rows.push_back(torch::cat(flat, 0));  // (T_b, C)
  }
  if (next_image != image_embeds.size())
    throw std::runtime_error(std::to_string(image_embeds.size()) + " images given but the prompts hold " +
                             std::to_string(next_image) + " image markers");

  MergedBatch out;
  int64_t T = 0;
  for (auto& r : rows) T = std::max<int64_t>(T, r.size(0));
  const int64_t B = static_cast<int64_t>(rows.size()), C = rows[0].size(1), A = positions[0].size(0);
  out.embeds = torch::zeros({B, T, C}, rows[0].options());
  out.mask = torch::zeros({B, T}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  // Padding keeps position 1, as transformers' position_ids start from ones.
  auto pos = torch::ones({A, B, T}, torch::kInt64);
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = rows[b].size(0);
    int64_t off = padding == Padding::Left ? T - len : 0;
    out.embeds[b].narrow(0, off, len).copy_(rows[b]);
    out.mask[b].narrow(0, off, len).fill_(true);
    pos.select(1, b).narrow(1, off, len).copy_(positions[b]);
    out.lengths.push_back(len);
    out.offsets.push_back(off);
  }
  out.positions = (A == 1 ? pos.squeeze(0) : pos).to(dev);
  out.next_position = nexts;
  return out;
}

torch::Tensor VisionLanguageModelImpl::forward_logits(const std::vector<std::vector<int64_t>>& ids,
                                                      const std::vector<torch::Tensor>& images) {
  auto batch = merge_prompts(ids, images.empty() ? std::vector<torch::Tensor>{} : image_features(images), Padding::Left);
  auto bias = causal_bias(batch.mask, batch.mask.size(1), dtype());
  auto hidden = language_model->model->forward(batch.embeds, batch.positions, bias);
  return language_model->logits(hidden);
}

std::string describe_decoder(const LlamaConfig& t) {
  std::ostringstream ss;
  ss << t.num_hidden_layers << " layers, width " << t.hidden_size << ", " << t.num_attention_heads << " heads ("
     << t.kv_heads() << " kv), head dim " << t.dim_per_head() << ", MLP " << t.intermediate_size << " (" << t.hidden_act
     << "), vocab " << t.vocab_size << ", rope theta " << t.rope_theta << ", eps " << t.rms_norm_eps
     << (t.tie_word_embeddings ? ", tied embeddings" : ", untied lm_head");
  return ss.str();
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
