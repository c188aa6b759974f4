// Building blocks shared by the CLIP tower, the projector and the LLaMA decoder: Linear (the
// module LoRA will wrap), RMSNorm, LayerNorm and the named activations.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <string>

namespace seva::model {

// While one is alive, new layers allocate their parameters uninitialised and in the given
// dtype: loading a checkpoint overwrites them anyway, and a 7B model's random init in float32
// would cost minutes and twice the memory.
class SkipInit {
 public:
  explicit SkipInit(torch::ScalarType dtype);
  ~SkipInit();
  static bool active();

 private:
  caffe2::TypeMeta previous_dtype_;
};

// y = x Wᵀ + b (+ LoRA). Parameters `weight` (out, in) and optional `bias` (out), as in HF
// checkpoints. With LoRA attached, children `lora_A` (r, in) and `lora_B` (out, r) add
// scaling · B A dropout(x), so PEFT's keys (`q_proj.lora_A.weight`) fall out of named_parameters().
struct LinearImpl : torch::nn::Module {
  LinearImpl(int64_t in_features, int64_t out_features, bool bias);
  torch::Tensor forward(const torch::Tensor& x);

  // PEFT's default init: A Kaiming-uniform (a = sqrt(5)), B zero, so the adapter starts as a no-op.
  // `dtype` of the adapter weights (default: the base weight's). With float32 adapters on a
  // bfloat16/float16 base (mixed-precision training) the adapter path runs in float32, as PEFT
  // does: x is cast to the adapter's dtype, the update cast back to the output's.
  void add_lora(int64_t r, double scaling, double dropout, c10::optional<torch::ScalarType> dtype = c10::nullopt);
  bool has_lora() const { return static_cast<bool>(lora_A); }
  // W += scaling · B A, then the adapter is removed.
  void merge_lora();

  torch::Tensor weight, bias;
  std::shared_ptr<LinearImpl> lora_A, lora_B;
  double lora_scaling = 0.0, lora_dropout = 0.0;
  bool lora_enabled = true;  // off: the base model (the DPO reference) without a second copy
};
TORCH_MODULE(Linear);

// LLaMA's RMSNorm: computed in float32, scaled by `weight` in the input dtype (as transformers).
struct RMSNormImpl : torch::nn::Module {
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// LayerNorm with `weight` and `bias` (CLIP's layer_norm1/2, pre_layrnorm, post_layernorm).
struct LayerNormImpl : torch::nn::Module {
  LayerNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;
  int64_t dim;
  double eps;
};
TORCH_MODULE(LayerNorm);

// The activation named in a config (silu, gelu, quick_gelu, gelu_new, gelu_pytorch_tanh, relu).
enum class Activation { Silu, Gelu, QuickGelu, GeluTanh, Relu };
Activation parse_activation(const std::string& name);  // throws naming the value
torch::Tensor activate(Activation act, const torch::Tensor& x);

}  // namespace seva::model
