// The Qwen2-VL and Qwen2.5-VL vision encoders (`visual.*`): patches of 2 frames × 14 × 14 pixels,
// 2-D rotary positions over patch rows and columns, transformer blocks, and the merger that turns
// each 2×2 block of patches into one decoder token. Module names follow the checkpoint keys.
#pragma once
#include "model/layers.h"
#include "model/qwen2_vl_config.h"

#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace seva::model {

// `patch_embed.proj`: a Conv3d whose kernel equals its stride, so it is one matmul over the
// flattened patches; the weight keeps the checkpoint's 5-D shape.
struct Qwen2VLPatchEmbedImpl : torch::nn::Module {
  explicit Qwen2VLPatchEmbedImpl(const Qwen2VLVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& patches);  // (N, C·T·P·P) -> (N, hidden)
  std::shared_ptr<torch::nn::Module> proj;
  torch::Tensor weight;  // proj.weight: (hidden, C, T, P, P)
};
TORCH_MODULE(Qwen2VLPatchEmbed);

struct Qwen2VLVisionAttentionImpl : torch::nn::Module {
  explicit Qwen2VLVisionAttentionImpl(const Qwen2VLVisionConfig& cfg);
  // x: (N, C); cos/sin: (N, head_dim) float32; bias: additive (1, 1, N, N) or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& bias);
  Linear qkv{nullptr}, proj{nullptr};
  int64_t num_heads;
};
TORCH_MODULE(Qwen2VLVisionAttention);

// One block; Qwen2-VL's (LayerNorm, fc1/fc2) or Qwen2.5-VL's (RMSNorm, gate/up/down).
struct Qwen2VLVisionBlockImpl : torch::nn::Module {
  explicit Qwen2VLVisionBlockImpl(const Qwen2VLVisionConfig& cfg);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& bias);
  torch::Tensor norm(int which, const torch::Tensor& x);
  torch::Tensor mlp_forward(const torch::Tensor& x);

  bool windowed;
  Activation act;
  LayerNorm ln1{nullptr}, ln2{nullptr};  // registered as norm1/norm2 (Qwen2-VL)
  RMSNorm rms1{nullptr}, rms2{nullptr};  // registered as norm1/norm2 (Qwen2.5-VL)
  Qwen2VLVisionAttention attn{nullptr};
  std::shared_ptr<torch::nn::Module> mlp;
  Linear fc1{nullptr}, fc2{nullptr};                            // mlp.fc1/fc2
  Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};  // mlp.gate_proj/...
};
TORCH_MODULE(Qwen2VLVisionBlock);

// `merger`: ln_q over each patch, then the 2×2 group's patches concatenated through mlp.0, GELU,
// mlp.2.
struct Qwen2VLPatchMergerImpl : torch::nn::Module {
  explicit Qwen2VLPatchMergerImpl(const Qwen2VLVisionConfig& cfg);
  // (..., 4, C) groups of patches -> (..., out_hidden_size).
  torch::Tensor forward(const torch::Tensor& groups);
  LayerNorm ln{nullptr};
  RMSNorm rms{nullptr};
  std::shared_ptr<torch::nn::Module> mlp;
  Linear fc0{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Qwen2VLPatchMerger);

struct Qwen2VLVisionModelImpl : torch::nn::Module {
  explicit Qwen2VLVisionModelImpl(const Qwen2VLVisionConfig& cfg);

  // One preprocessed image (3, H, W), H and W multiples of patch_size · spatial_merge_size ->
  // the last block's output (H', W', 4, C): the 2×2 patch groups on the merged-token grid.
  // Images run one at a time, so images never attend to each other.
  torch::Tensor blocks_output(const torch::Tensor& image);
  // The flattened patches the checkpoint's patch_embed reads, in transformers' order (each 2×2
  // group contiguous, the frame repeated temporal_patch_size times): (H/P · W/P, C·T·P·P).
  torch::Tensor patchify(const torch::Tensor& image) const;
  // 2-D rotary angles per patch, in patchify's order: (N, head_dim/2) float32.
  torch::Tensor rotary_angles(int64_t grid_h, int64_t grid_w) const;
  // Qwen2.5-VL: the order of merged tokens window by window, and each window's token count.
  std::vector<int64_t> window_order(int64_t merged_h, int64_t merged_w, std::vector<int64_t>& window_sizes) const;

  Qwen2VLVisionConfig cfg;
  Qwen2VLPatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks;
  Qwen2VLPatchMerger merger{nullptr};
  torch::Tensor inv_freq;  // (head_dim/4,) the vision rotary's frequencies, not a checkpoint tensor
};
TORCH_MODULE(Qwen2VLVisionModel);

}  // namespace seva::model
