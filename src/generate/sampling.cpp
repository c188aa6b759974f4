#include "generate/sampling.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace seva::generate {

TokenSampler::TokenSampler(const SamplingOptions& opts, uint64_t row_seed)
    : temperature_(opts.temperature), top_p_(opts.top_p) {
  // Mix the run seed and the row's seed so rows get unrelated streams.
  std::seed_seq seq{static_cast<uint32_t>(opts.seed), static_cast<uint32_t>(opts.seed >> 32),
                    static_cast<uint32_t>(row_seed), static_cast<uint32_t>(row_seed >> 32)};
  rng_.seed(seq);
}

int64_t TokenSampler::pick(const torch::Tensor& logits) {
  if (temperature_ <= 0.0) return logits.argmax().item<int64_t>();
  auto lf = logits.contiguous().to(torch::kFloat64);
  const double* l = lf.data_ptr<double>();
  const int64_t V = lf.numel();
  double mx = *std::max_element(l, l + V);
  std::vector<double> p(V);
  double sum = 0;
  for (int64_t i = 0; i < V; ++i) sum += (p[i] = std::exp((l[i] - mx) / temperature_));
  std::vector<int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  // Nucleus: the smallest prefix (by falling probability) whose mass reaches top_p.
  size_t keep = order.size();
  if (top_p_ < 1.0) {
    double acc = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      acc += p[order[i]] / sum;
      if (acc >= top_p_) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += p[order[i]];
  double u = std::uniform_real_distribution<double>(0.0, kept)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    u -= p[order[i]];
    if (u <= 0) return order[i];
  }
  return order[keep - 1];
}

}  // namespace seva::generate
