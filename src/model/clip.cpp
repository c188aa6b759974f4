#include "model/clip.h"

#include "model/attention.h"

#include <torch/torch.h>

namespace seva::model {

CLIPVisionEmbeddingsImpl::CLIPVisionEmbeddingsImpl(const ClipVisionConfig& cfg) {
  class_embedding = register_parameter("class_embedding", torch::randn({cfg.hidden_size}));
  patch_embedding = register_module(
      "patch_embedding",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(cfg.num_channels, cfg.hidden_size, cfg.patch_size)
                            .stride(cfg.patch_size)
                            .bias(false)));
  position_embedding = register_module(
      "position_embedding",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(cfg.num_patches() + 1, cfg.hidden_size)));
}

torch::Tensor CLIPVisionEmbeddingsImpl::forward(const torch::Tensor& pixel_values) {
  auto N = pixel_values.size(0);
  auto patches = patch_embedding(pixel_values.to(patch_embedding->weight.scalar_type()));  // (N, C, g, g)
  patches = patches.flatten(2).transpose(1, 2);                                            // (N, P, C)
  auto cls = class_embedding.view({1, 1, -1}).expand({N, 1, class_embedding.size(0)});
  return torch::cat({cls, patches}, 1) + position_embedding->weight.unsqueeze(0);
}

CLIPAttentionImpl::CLIPAttentionImpl(const ClipVisionConfig& cfg)
    : n_heads(cfg.num_attention_heads), head_dim(cfg.hidden_size / cfg.num_attention_heads) {
  q_proj = register_module("q_proj", Linear(cfg.hidden_size, cfg.hidden_size, true));
  k_proj = register_module("k_proj", Linear(cfg.hidden_size, cfg.hidden_size, true));
  v_proj = register_module("v_proj", Linear(cfg.hidden_size, cfg.hidden_size, true));
  out_proj = register_module("out_proj", Linear(cfg.hidden_size, cfg.hidden_size, true));
}

torch::Tensor CLIPAttentionImpl::forward(const torch::Tensor& x) {
  auto N = x.size(0), T = x.size(1);
  auto split = [&](const torch::Tensor& t) { return t.view({N, T, n_heads, head_dim}).transpose(1, 2); };
  auto y = attend(split(q_proj(x)), split(k_proj(x)), split(v_proj(x)), torch::Tensor());  // (N, H, T, D)
  return out_proj(y.transpose(1, 2).reshape({N, T, n_heads * head_dim}));
}

CLIPMLPImpl::CLIPMLPImpl(const ClipVisionConfig& cfg) : act(parse_activation(cfg.hidden_act)) {
  fc1 = register_module("fc1", Linear(cfg.hidden_size, cfg.intermediate_size, true));
  fc2 = register_module("fc2", Linear(cfg.intermediate_size, cfg.hidden_size, true));
}

torch::Tensor CLIPMLPImpl::forward(const torch::Tensor& x) { return fc2(activate(act, fc1(x))); }

CLIPEncoderLayerImpl::CLIPEncoderLayerImpl(const ClipVisionConfig& cfg) {
  self_attn = register_module("self_attn", CLIPAttention(cfg));
  layer_norm1 = register_module("layer_norm1", LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
  mlp = register_module("mlp", CLIPMLP(cfg));
  layer_norm2 = register_module("layer_norm2", LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
}

torch::Tensor CLIPEncoderLayerImpl::forward(const torch::Tensor& x) {
  auto h = x + self_attn(layer_norm1(x));
  return h + mlp(layer_norm2(h));
}

CLIPEncoderImpl::CLIPEncoderImpl(const ClipVisionConfig& cfg) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(CLIPEncoderLayer(cfg));
}

CLIPVisionTransformerImpl::CLIPVisionTransformerImpl(const ClipVisionConfig& cfg) {
  embeddings = register_module("embeddings", CLIPVisionEmbeddings(cfg));
  pre_layrnorm = register_module("pre_layrnorm", LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
  encoder = register_module("encoder", CLIPEncoder(cfg));
  post_layernorm = register_module("post_layernorm", LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
}

torch::Tensor CLIPVisionTransformerImpl::hidden_state(const torch::Tensor& pixel_values, int64_t n_layers) {
  auto h = pre_layrnorm(embeddings(pixel_values));
  // Layers past the requested one would be computed and thrown away: stop early.
  for (int64_t i = 0; i < n_layers; ++i) h = encoder->layers[i]->as<CLIPEncoderLayer>()->forward(h);
  return h;
}

CLIPVisionModelImpl::CLIPVisionModelImpl(const ClipVisionConfig& cfg) {
  vision_model = register_module("vision_model", CLIPVisionTransformer(cfg));
}

}  // namespace seva::model
