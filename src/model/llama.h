// The LLaMA decoder: rotary embeddings, grouped-query attention, SwiGLU MLP, RMSNorm, lm_head.
// Module names mirror the Hugging Face keys: model.layers.{i}.self_attn.q_proj.weight, ...
#pragma once
#include "model/config.h"
#include "model/layers.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <vector>

namespace seva::model {

// cos/sin of the rotary embedding at each token's position: (B, T, D) each.
struct Rope {
  torch::Tensor cos, sin;
};

// Key/value cache for decoding: per layer (B, kvH, capacity, D); positions [0, length) are filled.
// With `write_index` defined (a (1,) int64 tensor on the cache's device), the shapes are static
// instead, as a CUDA graph needs: keys/values go to that position, `length` is not used, and the
// attention spans the whole capacity; the caller's bias masks what is not written yet.
struct KvCache {
  std::vector<torch::Tensor> k, v;
  int64_t length = 0;
  torch::Tensor write_index;
  int64_t capacity() const { return k.empty() ? 0 : k[0].size(2); }
  // Keeps only the batch rows in `rows` (generation drops finished sequences).
  void select_rows(const torch::Tensor& rows);
};

// Precomputed inverse frequencies; builds Rope for any positions.
class RotaryEmbedding {
 public:
  RotaryEmbedding(int64_t head_dim, double theta, const std::vector<int64_t>& mrope_section = {});
  // positions: (B, T) int64, or (3, B, T) temporal/height/width positions with M-RoPE -> cos/sin
  // (B, T, head_dim) in `dtype` on positions' device.
  Rope at(const torch::Tensor& positions, torch::ScalarType dtype) const;

 private:
  torch::Tensor inv_freq_;      // (head_dim/2,) float32, CPU
  torch::Tensor axis_of_freq_;  // (head_dim/2,) int64: M-RoPE's axis per frequency; undefined without
};

struct LlamaAttentionImpl : torch::nn::Module {
  LlamaAttentionImpl(const LlamaConfig& cfg, int64_t layer_index);
  // x: (B, T, C); bias: additive (B, 1, T, Tk) where Tk = cached + T; cache may be null.
  torch::Tensor forward(const torch::Tensor& x, const Rope& rope, const torch::Tensor& bias,
                        KvCache* cache);
  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  int64_t n_heads, n_kv_heads, head_dim, layer_index;
};
TORCH_MODULE(LlamaAttention);

struct LlamaMLPImpl : torch::nn::Module {
  explicit LlamaMLPImpl(const LlamaConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);  // down(act(gate(x)) * up(x))
  Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  Activation act;
};
TORCH_MODULE(LlamaMLP);

struct LlamaDecoderLayerImpl : torch::nn::Module {
  LlamaDecoderLayerImpl(const LlamaConfig& cfg, int64_t layer_index);
  torch::Tensor forward(const torch::Tensor& x, const Rope& rope, const torch::Tensor& bias,
                        KvCache* cache);
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// `model.*` of LlamaForCausalLM: embeddings, layers, final norm.
struct LlamaModelImpl : torch::nn::Module {
  explicit LlamaModelImpl(const LlamaConfig& cfg);
  // embeds: (B, T, C); positions: (B, T), or (3, B, T) with M-RoPE; bias: (B, 1, T, cached + T). Returns normed hidden (B, T, C).
  // With a cache, keys/values are appended at cache->length (the caller advances it).
  torch::Tensor forward(const torch::Tensor& embeds, const torch::Tensor& positions,
                        const torch::Tensor& bias, KvCache* cache = nullptr);
  // The same with the rotary cos/sin already made (the static decode step takes them from a table).
  torch::Tensor forward(const torch::Tensor& embeds, const Rope& rope, const torch::Tensor& bias, KvCache* cache);
  // An empty cache for `batch` sequences of up to `capacity` tokens.
  KvCache make_cache(int64_t batch, int64_t capacity, torch::ScalarType dtype, torch::Device device) const;

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers;
  RMSNorm norm{nullptr};
  LlamaConfig cfg;
  RotaryEmbedding rotary;
  // Training without a cache: recompute each layer in backward instead of keeping its
  // activations (model/grad_checkpoint.h). Off by default.
  bool gradient_checkpointing = false;
};
TORCH_MODULE(LlamaModel);

// LlamaForCausalLM: `model` + `lm_head` (absent when tied to the input embeddings).
struct LlamaForCausalLMImpl : torch::nn::Module {
  explicit LlamaForCausalLMImpl(const LlamaConfig& cfg);
  // hidden: (..., C) -> logits (..., vocab). Apply only where logits are needed.
  torch::Tensor logits(const torch::Tensor& hidden);
  LlamaModel model{nullptr};
  Linear lm_head{nullptr};  // null when cfg.tie_word_embeddings
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace seva::model
