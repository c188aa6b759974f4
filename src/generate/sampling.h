// Choosing the next token from logits: greedy, or temperature + top-p from a per-row stream.
#pragma once
#include "generate/generate.h"

#include <random>

namespace seva::generate {

class TokenSampler {
 public:
  TokenSampler(const SamplingOptions& opts, uint64_t row_seed);
  // logits: (V,) float32 on CPU.
  int64_t pick(const torch::Tensor& logits);

 private:
  double temperature_, top_p_;
  std::mt19937_64 rng_;
};

}  // namespace seva::generate
