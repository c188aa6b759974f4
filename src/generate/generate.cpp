#include "generate/generate.h"

#include "generate/sampling.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace seva::generate {

std::vector<Generated> generate(model::VisionLanguageModelImpl& model,
                                const std::vector<std::vector<int64_t>>& prompts,
                                const std::vector<torch::Tensor>& images, const SamplingOptions& opts,
                                const std::vector<int64_t>& eos_token_ids, const DecodeFn& decode,
                                const std::vector<uint64_t>& row_seeds) {
  if (!opts.stop_strings.empty() && !decode) throw std::invalid_argument("stop strings need a decode function");
  if (!row_seeds.empty() && row_seeds.size() != prompts.size())
    throw std::invalid_argument("row_seeds must have one entry per prompt");
  torch::NoGradGuard no_grad;
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<Generated> out(B);
  if (B == 0 || opts.max_new_tokens <= 0) {
    for (auto& g : out) g.finish_reason = "length";
    return out;
  }

  auto& lm = *model.language_model;
  auto batch = model.merge_prompts(prompts, model.image_features(images), model::Padding::Left);
  const int64_t T = batch.embeds.size(1);
  auto dtype = model.dtype();
  auto device = model.device();
  auto cache = lm.model->make_cache(B, T + opts.max_new_tokens, dtype, device);

  // Prefill: the whole prompt once; logits only at the last position. On CPU in blocks of rows
  // whose MLP activations stay under ~16 MB (a block writes its rows of the shared cache): glibc
  // reuses memory that size, while larger tensors are fresh pages faulted in at every layer.
  const auto bias = model::causal_bias(batch.mask, T, dtype);
  const int64_t row_bytes = T * lm.model->cfg.intermediate_size * static_cast<int64_t>(c10::elementSize(dtype));
  const int64_t block = device.is_cpu() ? std::clamp<int64_t>((16 << 20) / std::max<int64_t>(row_bytes, 1), 1, B) : B;
  std::vector<torch::Tensor> last;
  for (int64_t b0 = 0; b0 < B; b0 += block) {
    const int64_t n = std::min(block, B - b0);
    model::KvCache rows;  // views of rows [b0, b0 + n) of the cache
    for (size_t l = 0; l < cache.k.size(); ++l) {
      rows.k.push_back(cache.k[l].narrow(0, b0, n));
      rows.v.push_back(cache.v[l].narrow(0, b0, n));
    }
    auto h = lm.model->forward(batch.embeds.narrow(0, b0, n), batch.positions.narrow(-2, b0, n),
                               bias.narrow(0, b0, n), &rows);
    last.push_back(h.select(1, T - 1));
  }
  cache.length = T;
  auto logits = lm.logits(torch::cat(last, 0)).to(torch::kFloat32);  // (B, V)

  std::vector<TokenSampler> samplers;
  for (int64_t b = 0; b < B; ++b)
    samplers.emplace_back(opts, row_seeds.empty() ? static_cast<uint64_t>(b) : row_seeds[b]);
  // Each row's next position; with M-RoPE all three axes take it, which 1-D positions express.
  auto next_pos = torch::tensor(batch.next_position, torch::kInt64).to(device);  // (B,)
  auto decoder = make_decoder(lm, {std::move(cache), batch.mask, next_pos}, opts.decode);

  std::vector<int64_t> active(B);  // rows still generating; logits has one row for each
  for (int64_t b = 0; b < B; ++b) active[b] = b;
  for (int64_t step = 0; step < opts.max_new_tokens && !active.empty(); ++step) {
    auto logits_cpu = logits.cpu();
    // (b, V) float32; log-probabilities of the chosen tokens accumulate per row.
    auto logp_cpu = torch::log_softmax(logits_cpu, 1);
    auto logp = logp_cpu.accessor<float, 2>();
    std::vector<int64_t> rows, tokens;  // the rows that go on, and the token each was given
    for (size_t i = 0; i < active.size(); ++i) {
      const int64_t row = active[i];
      const int64_t next = samplers[row].pick(logits_cpu[static_cast<int64_t>(i)]);
      auto& g = out[row];
      g.tokens.push_back(next);
      g.logprob += logp[static_cast<int64_t>(i)][next];
      if (opts.stop_at_eos && std::count(eos_token_ids.begin(), eos_token_ids.end(), next) > 0) {
        g.finish_reason = "eos";
      } else if (!opts.stop_strings.empty()) {
        auto text = decode(g.tokens);
        for (const auto& s : opts.stop_strings)
          if (!s.empty() && text.find(s) != std::string::npos) g.finish_reason = "stop";
      }
      if (g.finish_reason.empty() && step + 1 == opts.max_new_tokens) g.finish_reason = "length";
      if (g.finish_reason.empty()) {
        rows.push_back(row);
        tokens.push_back(next);
      }
    }
    if (rows.empty()) break;
    logits = decoder->step(rows, tokens);
    active.swap(rows);
  }
  return out;
}

}  // namespace seva::generate
