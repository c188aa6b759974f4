#include "model/llama.h"

#include "model/attention.h"
#include "model/grad_checkpoint.h"

#include <torch/torch.h>

namespace seva::model {

void KvCache::select_rows(const torch::Tensor& rows) {
  for (auto& t : k) t = t.index_select(0, rows);
  for (auto& t : v) t = t.index_select(0, rows);
}

RotaryEmbedding::RotaryEmbedding(int64_t head_dim, double theta, const std::vector<int64_t>& mrope_section) {
  // inv_freq = 1 / theta^(2i/D), computed as transformers does (int64 arange -> float).
  auto exponents = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(head_dim);
  inv_freq_ = 1.0 / torch::pow(torch::tensor(theta, torch::kFloat32), exponents);
  if (!mrope_section.empty()) {
    std::vector<int64_t> axis;  // frequency i follows position axis axis[i]
    for (size_t a = 0; a < mrope_section.size(); ++a) axis.insert(axis.end(), mrope_section[a], static_cast<int64_t>(a));
    TORCH_CHECK(static_cast<int64_t>(axis.size()) == head_dim / 2, "mrope_section sums to ", axis.size(),
                ", not head_dim/2 = ", head_dim / 2);
    axis_of_freq_ = torch::tensor(axis, torch::kInt64);
  }
}

Rope RotaryEmbedding::at(const torch::Tensor& positions, torch::ScalarType dtype) const {
  auto inv = inv_freq_.to(positions.device());
  auto freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv;  // (B, T, D/2) or (3, B, T, D/2)
  if (positions.dim() == 3) {
    // M-RoPE: each frequency takes its angle from its section's axis (t, h or w). Text tokens
    // have t = h = w, where this equals plain RoPE, so 2-D positions serve for them as well.
    TORCH_CHECK(axis_of_freq_.defined() && positions.size(0) == 3, "3-axis positions need mrope_section");
    auto idx = axis_of_freq_.to(positions.device()).view({1, 1, 1, -1}).expand({1, freqs.size(1), freqs.size(2), -1});
    freqs = freqs.gather(0, idx).squeeze(0);
  }
  auto emb = torch::cat({freqs, freqs}, -1);  // (B, T, D)
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

namespace {
// transformers' rotate_half: (x1, x2) -> (-x2, x1) over the two halves of the last dim.
torch::Tensor rotate_half(const torch::Tensor& x) {
  auto half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}
torch::Tensor apply_rope(const torch::Tensor& x, const Rope& rope) {
  // x: (B, H, T, D); cos/sin: (B, T, D) -> broadcast over heads.
  auto cos = rope.cos.unsqueeze(1), sin = rope.sin.unsqueeze(1);
  return x * cos + rotate_half(x) * sin;
}
}  // namespace

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& cfg, int64_t layer_index_)
    : n_heads(cfg.num_attention_heads), n_kv_heads(cfg.kv_heads()), head_dim(cfg.dim_per_head()),
      layer_index(layer_index_) {
  const bool qkv_bias = cfg.attention_bias || cfg.qkv_bias;
  q_proj = register_module("q_proj", Linear(cfg.hidden_size, n_heads * head_dim, qkv_bias));
  k_proj = register_module("k_proj", Linear(cfg.hidden_size, n_kv_heads * head_dim, qkv_bias));
  v_proj = register_module("v_proj", Linear(cfg.hidden_size, n_kv_heads * head_dim, qkv_bias));
  o_proj = register_module("o_proj", Linear(n_heads * head_dim, cfg.hidden_size, cfg.attention_bias));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const Rope& rope,
                                          const torch::Tensor& bias, KvCache* cache) {
  auto B = x.size(0), T = x.size(1);
  auto q = q_proj(x).view({B, T, n_heads, head_dim}).transpose(1, 2);     // (B, H, T, D)
  auto k = k_proj(x).view({B, T, n_kv_heads, head_dim}).transpose(1, 2);  // (B, kvH, T, D)
  auto v = v_proj(x).view({B, T, n_kv_heads, head_dim}).transpose(1, 2);
  q = apply_rope(q, rope);
  k = apply_rope(k, rope);
  if (cache && cache->write_index.defined()) {
    cache->k[layer_index].index_copy_(2, cache->write_index, k);
    cache->v[layer_index].index_copy_(2, cache->write_index, v);
    k = cache->k[layer_index];
    v = cache->v[layer_index];
  } else if (cache) {
    auto start = cache->length;
    TORCH_CHECK(start + T <= cache->capacity(), "KV cache overflow: ", start + T, " > ", cache->capacity());
    cache->k[layer_index].narrow(2, start, T).copy_(k);
    cache->v[layer_index].narrow(2, start, T).copy_(v);
    k = cache->k[layer_index].narrow(2, 0, start + T);
    v = cache->v[layer_index].narrow(2, 0, start + T);
  }
  auto groups = n_heads / n_kv_heads;
  auto y = attend(q, repeat_kv(k, groups), repeat_kv(v, groups), bias);  // (B, H, T, D)
  return o_proj(y.transpose(1, 2).reshape({B, T, n_heads * head_dim}));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& cfg) : act(parse_activation(cfg.hidden_act)) {
  gate_proj = register_module("gate_proj", Linear(cfg.hidden_size, cfg.intermediate_size, cfg.mlp_bias));
  up_proj = register_module("up_proj", Linear(cfg.hidden_size, cfg.intermediate_size, cfg.mlp_bias));
  down_proj = register_module("down_proj", Linear(cfg.intermediate_size, cfg.hidden_size, cfg.mlp_bias));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(activate(act, gate_proj(x)) * up_proj(x));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& cfg, int64_t layer_index) {
  self_attn = register_module("self_attn", LlamaAttention(cfg, layer_index));
  mlp = register_module("mlp", LlamaMLP(cfg));
  input_layernorm = register_module("input_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const Rope& rope,
                                             const torch::Tensor& bias, KvCache* cache) {
  auto h = x + self_attn(input_layernorm(x), rope, bias, cache);
  return h + mlp(post_attention_layernorm(h));
}

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& cfg_)
    : cfg(cfg_), rotary(cfg_.dim_per_head(), cfg_.rope_theta, cfg_.mrope_section) {
  embed_tokens = register_module("embed_tokens",
                                 torch::nn::Embedding(torch::nn::EmbeddingOptions(cfg.vocab_size, cfg.hidden_size)));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(cfg, i));
  norm = register_module("norm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& embeds, const torch::Tensor& positions,
                                      const torch::Tensor& bias, KvCache* cache) {
  return forward(embeds, rotary.at(positions, embeds.scalar_type()), bias, cache);
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& embeds, const Rope& rope, const torch::Tensor& bias,
                                      KvCache* cache) {
  auto h = embeds;
  for (const auto& layer : *layers) {
    auto* l = layer->as<LlamaDecoderLayer>();
    h = gradient_checkpointing && !cache ? checkpointed_layer(*l, h, rope, bias) : l->forward(h, rope, bias, cache);
  }
  return norm(h);
}

KvCache LlamaModelImpl::make_cache(int64_t batch, int64_t capacity, torch::ScalarType dtype,
                                   torch::Device device) const {
  KvCache cache;
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
    cache.k.push_back(torch::zeros({batch, cfg.kv_heads(), capacity, cfg.dim_per_head()}, opts));
    cache.v.push_back(torch::zeros({batch, cfg.kv_heads(), capacity, cfg.dim_per_head()}, opts));
  }
  return cache;
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& cfg) {
  model = register_module("model", LlamaModel(cfg));
  if (!cfg.tie_word_embeddings) lm_head = register_module("lm_head", Linear(cfg.hidden_size, cfg.vocab_size, false));
}

torch::Tensor LlamaForCausalLMImpl::logits(const torch::Tensor& hidden) {
  const auto& w = lm_head ? lm_head->weight : model->embed_tokens->weight;
  return torch::linear(hidden, w);
}

}  // namespace seva::model
