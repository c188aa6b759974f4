// The decode steps of generate(): after the prefill, one new token per row per step through the
// KV cache. Three ways to run a step; they give the same tokens, and logits equal within rounding:
//   dynamic     finished rows leave the batch and the attention spans the filled cache only: the
//               least arithmetic, but every step has new shapes.
//   static      no shape ever changes: every row stays, keys and values are written at a
//               device-side index, and the attention spans the cache's whole capacity behind a mask.
//   cuda-graph  the static step captured once as a CUDA graph and replayed: one launch per token
//               instead of one per kernel (~500 for a 7B decoder), the host-side cost that holds
//               batch-1 decode far below a GPU's memory bandwidth. CUDA builds and devices only.
#pragma once
#include "model/llama.h"

#include <memory>
#include <string>
#include <vector>

namespace seva::generate {

enum class DecodeMode { Dynamic, Static, CudaGraph };

DecodeMode parse_decode_mode(const std::string& name);  // dynamic, static, cuda-graph; throws naming it
const char* decode_mode_name(DecodeMode mode);
bool cuda_graphs_built();  // whether this build can capture CUDA graphs

// What the prefill leaves for the steps to continue from.
struct DecodeStart {
  model::KvCache cache;    // filled to cache.length; its capacity bounds the steps
  torch::Tensor key_mask;  // (B, cache.length) bool: false at each row's left padding
  torch::Tensor next_pos;  // (B,) int64: each row's next position (M-RoPE's three axes take it alike)
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // One step for the rows that go on (batch indices, increasing), row rows[i] fed tokens[i].
  // Returns their next-token logits, (rows.size(), V) float32, in that order. A row left out
  // once never comes back.
  virtual torch::Tensor step(const std::vector<int64_t>& rows, const std::vector<int64_t>& tokens) = 0;
};

std::unique_ptr<Decoder> make_decoder(model::LlamaForCausalLMImpl& lm, DecodeStart start, DecodeMode mode);

}  // namespace seva::generate
