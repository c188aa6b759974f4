// Batched decoding for any model family with a KV cache: left-padded prompts of different lengths, the
// vision tower once per image, greedy or temperature/top-p sampling, EOS, stop strings, a cap.
#pragma once
#include "generate/decoder.h"
#include "model/vlm_model.h"

#include <functional>
#include <string>
#include <vector>

namespace seva::generate {

struct SamplingOptions {
  int64_t max_new_tokens = 512;
  double temperature = 0.0;  // 0: greedy (argmax, first index on ties)
  double top_p = 1.0;        // nucleus sampling when < 1 (with temperature > 0)
  uint64_t seed = 0;         // row r of a call samples from its own stream seeded by (seed, seeds[r])
  bool stop_at_eos = true;
  std::vector<std::string> stop_strings;  // needs `decode` in generate()
  DecodeMode decode = DecodeMode::Dynamic;  // how the steps after the prefill run (generate/decoder.h)
};

struct Generated {
  std::vector<int64_t> tokens;  // new tokens, including the EOS or the one that completed a stop string
  std::string finish_reason;    // "eos", "stop" or "length"
  // Sum over `tokens` of log_softmax(float32 logits)[token]: the answer's log-probability under
  // the generating model (untempered, EOS included when produced). For greedy answers on the
  // original image this is the reference log-probability DPO needs later.
  double logprob = 0.0;
};

// Turns token ids into text (for stop strings); usually Tokenizer::decode.
using DecodeFn = std::function<std::string(const std::vector<int64_t>&)>;

// prompts[b]: token ids holding image tokens; images: one preprocessed (3, H, W) image per image
// run, consumed in order across the batch. A row ends at the first of `eos_token_ids` it samples
// (finish_reason "eos", the token kept in `tokens`). `row_seeds` (optional, one per prompt) names each row's
// random stream so that sampling does not depend on batch composition; default: the row index.
std::vector<Generated> generate(model::VisionLanguageModelImpl& model,
                                const std::vector<std::vector<int64_t>>& prompts,
                                const std::vector<torch::Tensor>& images, const SamplingOptions& opts,
                                const std::vector<int64_t>& eos_token_ids, const DecodeFn& decode = nullptr,
                                const std::vector<uint64_t>& row_seeds = {});

}  // namespace seva::generate
