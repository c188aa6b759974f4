// The CLIP vision tower (transformers' CLIPVisionModel): patch embedding, class token,
// learned positions, pre-layernorm, pre-norm encoder layers. Names mirror the HF keys
// (vision_model.embeddings.patch_embedding.weight, vision_model.pre_layrnorm, ...).
#pragma once
#include "model/config.h"
#include "model/layers.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>

namespace seva::model {

struct CLIPVisionEmbeddingsImpl : torch::nn::Module {
  explicit CLIPVisionEmbeddingsImpl(const ClipVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& pixel_values);  // (N, 3, S, S) -> (N, 1 + P, C)
  torch::Tensor class_embedding;                              // (C,)
  torch::nn::Conv2d patch_embedding{nullptr};                 // no bias
  torch::nn::Embedding position_embedding{nullptr};           // (1 + P, C)
};
TORCH_MODULE(CLIPVisionEmbeddings);

struct CLIPAttentionImpl : torch::nn::Module {
  explicit CLIPAttentionImpl(const ClipVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);  // (N, T, C), every token sees every token
  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
  int64_t n_heads, head_dim;
};
TORCH_MODULE(CLIPAttention);

struct CLIPMLPImpl : torch::nn::Module {
  explicit CLIPMLPImpl(const ClipVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);
  Linear fc1{nullptr}, fc2{nullptr};
  Activation act;
};
TORCH_MODULE(CLIPMLP);

struct CLIPEncoderLayerImpl : torch::nn::Module {
  explicit CLIPEncoderLayerImpl(const ClipVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x);
  CLIPAttention self_attn{nullptr};
  LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  CLIPMLP mlp{nullptr};
};
TORCH_MODULE(CLIPEncoderLayer);

struct CLIPEncoderImpl : torch::nn::Module {
  explicit CLIPEncoderImpl(const ClipVisionConfig& cfg);
  torch::nn::ModuleList layers;
};
TORCH_MODULE(CLIPEncoder);

// `vision_model.*`. post_layernorm is loaded (it is in every checkpoint) but LLaVA never uses it.
struct CLIPVisionTransformerImpl : torch::nn::Module {
  explicit CLIPVisionTransformerImpl(const ClipVisionConfig& cfg);
  // hidden_states[n_layers]: the output after the first `n_layers` encoder layers
  // (0 = the pre-layernormed embeddings), as transformers' output_hidden_states indexes them.
  torch::Tensor hidden_state(const torch::Tensor& pixel_values, int64_t n_layers);
  CLIPVisionEmbeddings embeddings{nullptr};
  LayerNorm pre_layrnorm{nullptr};  // sic: transformers' spelling
  CLIPEncoder encoder{nullptr};
  LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(CLIPVisionTransformer);

struct CLIPVisionModelImpl : torch::nn::Module {
  explicit CLIPVisionModelImpl(const ClipVisionConfig& cfg);
  CLIPVisionTransformer vision_model{nullptr};
};
TORCH_MODULE(CLIPVisionModel);

}  // namespace seva::model
