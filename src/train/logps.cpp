#include "train/logps.h"

#include "model/attention.h"

#include <torch/torch.h>

#include <stdexcept>

namespace seva::train {
namespace {

// One packed row before padding: embeddings, positions, the block mask and where each answer's
// predictions come from.
struct Row {
  torch::Tensor embeds;                    // (L, C)
  torch::Tensor positions;                 // (A, L): A = 1, or 3 with M-RoPE
  std::vector<int64_t> segment;            // -1 for prompt, i for answer i
  std::vector<std::vector<int64_t>> from;  // per answer: the row indices whose logits predict its tokens
};

Row build_row(model::VisionLanguageModelImpl& model, const PackedExample& ex, const torch::Tensor& feats) {
  auto merged = model.merge_prompts({ex.prompt_ids}, {feats}, model::Padding::Right);
  Row row;
  const int64_t P = merged.embeds.size(1);
  const int64_t next = merged.next_position[0];  // answers continue from the prompt's next position
  std::vector<torch::Tensor> pieces{merged.embeds[0]};
  std::vector<torch::Tensor> positions{merged.positions.dim() == 3 ? merged.positions.select(1, 0).cpu()
                                                                   : merged.positions.cpu()};
  const int64_t A = positions[0].size(0);
  row.segment.assign(P, -1);
  auto& embed = model.language_model->model->embed_tokens;
  int64_t start = P;
  for (size_t i = 0; i < ex.answers.size(); ++i) {
    const auto& a = ex.answers[i];
    if (a.empty()) throw std::runtime_error("an answer has no tokens");
    pieces.push_back(embed(torch::tensor(a, torch::kInt64).to(model.device())));
    std::vector<int64_t> from{P - 1};  // the prompt's last position predicts the first answer token
    const int64_t n = static_cast<int64_t>(a.size());
    positions.push_back(torch::arange(next, next + n, torch::kInt64).view({1, n}).expand({A, n}));
    for (int64_t t = 0; t < n; ++t) {
      row.segment.push_back(static_cast<int64_t>(i));
      if (t + 1 < n) from.push_back(start + t);
    }
    row.from.push_back(from);
    start += static_cast<int64_t>(a.size());
  }
  row.embeds = torch::cat(pieces, 0);
  row.positions = torch::cat(positions, 1);
  return row;
}

// Additive bias (L, L) of the block mask for one row, padded to T (padding sees only itself).
torch::Tensor block_bias(const Row& row, int64_t T, torch::ScalarType dtype) {
  const int64_t L = static_cast<int64_t>(row.segment.size());
  auto allowed = torch::zeros({T, T}, torch::kBool);
  auto a = allowed.accessor<bool, 2>();
  for (int64_t q = 0; q < L; ++q)
    for (int64_t k = 0; k <= q; ++k)
      a[q][k] = row.segment[k] == -1 || row.segment[k] == row.segment[q];
  for (int64_t q = L; q < T; ++q) a[q][q] = true;
  auto bias = torch::zeros({T, T}, dtype);
  bias.masked_fill_(allowed.logical_not(), model::mask_value(dtype));
  return bias;
}

}  // namespace

std::vector<torch::Tensor> packed_logps(model::VisionLanguageModelImpl& model,
                                        const std::vector<PackedExample>& examples,
                                        const std::vector<torch::Tensor>& image_features) {
  if (examples.size() != image_features.size())
    throw std::invalid_argument("packed_logps: one image feature row per example expected");
  const auto dtype = model.dtype();
  const auto device = model.device();
  std::vector<Row> rows;
  int64_t T = 0;
  for (size_t e = 0; e < examples.size(); ++e) {
    rows.push_back(build_row(model, examples[e], image_features[e]));
    T = std::max<int64_t>(T, rows.back().embeds.size(0));
  }
  const int64_t B = static_cast<int64_t>(rows.size()), C = rows[0].embeds.size(1);
  std::vector<torch::Tensor> embeds, biases;
  const int64_t A = rows[0].positions.size(0);
  auto positions = torch::zeros({A, B, T}, torch::kInt64);
  for (int64_t b = 0; b < B; ++b) {
    auto& r = rows[b];
    int64_t L = r.embeds.size(0);
    embeds.push_back(L < T ? torch::cat({r.embeds, torch::zeros({T - L, C}, r.embeds.options())}, 0) : r.embeds);
    biases.push_back(block_bias(r, T, dtype));
    positions.select(1, b).narrow(1, 0, L).copy_(r.positions);
  }
  if (A == 1) positions = positions.squeeze(0);
  auto hidden = model.language_model->model->forward(torch::stack(embeds), positions.to(device),
                                                     torch::stack(biases).unsqueeze(1).to(device));  // (B, T, C)
  // Gather only the positions that predict answer tokens, then one lm_head + log-softmax.
  std::vector<int64_t> flat_from, flat_target;
  std::vector<std::vector<int64_t>> counts(B);
  for (int64_t b = 0; b < B; ++b) {
    for (size_t i = 0; i < rows[b].from.size(); ++i) {
      for (auto f : rows[b].from[i]) flat_from.push_back(b * T + f);
      for (auto t : examples[b].answers[i]) flat_target.push_back(t);
      counts[b].push_back(static_cast<int64_t>(rows[b].from[i].size()));
    }
  }
  auto h = hidden.reshape({B * T, C}).index_select(0, torch::tensor(flat_from, torch::kInt64).to(device));
  auto logits = model.language_model->logits(h);
  if (logits.scalar_type() != torch::kFloat64) logits = logits.to(torch::kFloat32);  // bf16/f16 -> f32
  auto logp = torch::log_softmax(logits, -1);
  auto tok = logp.gather(1, torch::tensor(flat_target, torch::kInt64).to(device).unsqueeze(1)).squeeze(1);
  std::vector<torch::Tensor> out;
  int64_t at = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<torch::Tensor> sums;
    for (auto n : counts[b]) {
      sums.push_back(tok.narrow(0, at, n).sum());
      at += n;
    }
    out.push_back(torch::stack(sums));
  }
  return out;
}

std::vector<torch::Tensor> separate_logps(model::VisionLanguageModelImpl& model,
                                          const std::vector<PackedExample>& examples,
                                          const std::vector<torch::Tensor>& image_features) {
  std::vector<PackedExample> singles;
  std::vector<torch::Tensor> feats;
  for (size_t e = 0; e < examples.size(); ++e)
    for (const auto& a : examples[e].answers) {
      singles.push_back({examples[e].prompt_ids, {a}});
      feats.push_back(image_features[e]);
    }
  auto flat = packed_logps(model, singles, feats);
  std::vector<torch::Tensor> out;
  size_t at = 0;
  for (const auto& ex : examples) {
    std::vector<torch::Tensor> v;
    for (size_t i = 0; i < ex.answers.size(); ++i) v.push_back(flat[at++].squeeze(0));
    out.push_back(torch::stack(v));
  }
  return out;
}

}  // namespace seva::train
