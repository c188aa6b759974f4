#include "model/layers.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace seva::model {

namespace {
thread_local int skip_init_depth = 0;
}

SkipInit::SkipInit(torch::ScalarType dtype) : previous_dtype_(torch::get_default_dtype()) {
  ++skip_init_depth;
  torch::set_default_dtype(c10::scalarTypeToTypeMeta(dtype));
}
SkipInit::~SkipInit() {
  --skip_init_depth;
  torch::set_default_dtype(previous_dtype_);
}
bool SkipInit::active() { return skip_init_depth > 0; }

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  if (with_bias) bias = register_parameter("bias", torch::empty({out_features}));
  if (SkipInit::active()) return;
  // Kaiming-uniform like torch.nn.Linear, so a freshly built model is a sensible random model.
  torch::NoGradGuard no_grad;
  double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight.uniform_(-bound, bound);
  if (with_bias) bias.uniform_(-bound, bound);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  auto y = torch::linear(x, weight, bias);
  if (lora_A && lora_enabled) {
    const auto ld = lora_A->weight.scalar_type();
    auto h = x.scalar_type() == ld ? x : x.to(ld);
    if (lora_dropout > 0.0 && is_training()) h = torch::dropout(h, lora_dropout, true);
    auto d = torch::linear(torch::linear(h, lora_A->weight), lora_B->weight) * lora_scaling;
    y = y + (d.scalar_type() == y.scalar_type() ? d : d.to(y.scalar_type()));
  }
  return y;
}

void LinearImpl::add_lora(int64_t r, double scaling, double dropout, c10::optional<torch::ScalarType> dtype) {
  auto in = weight.size(1), out = weight.size(0);
  lora_A = register_module("lora_A", std::make_shared<LinearImpl>(in, r, false));
  lora_B = register_module("lora_B", std::make_shared<LinearImpl>(r, out, false));
  torch::NoGradGuard no_grad;
  auto opts = weight.options();
  if (dtype) opts = opts.dtype(*dtype);
  double bound = 1.0 / std::sqrt(static_cast<double>(in));  // kaiming_uniform(a=sqrt(5)) on (r, in)
  lora_A->weight.set_data(torch::empty({r, in}, opts).uniform_(-bound, bound));
  lora_B->weight.set_data(torch::zeros({out, r}, opts));
  lora_scaling = scaling;
  lora_dropout = dropout;
}

void LinearImpl::merge_lora() {
  if (!lora_A) return;
  {
    torch::NoGradGuard no_grad;
    auto delta = torch::matmul(lora_B->weight.to(torch::kFloat32), lora_A->weight.to(torch::kFloat32)) * lora_scaling;
    weight.add_(delta.to(weight.scalar_type()));
  }
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_A.reset();
  lora_B.reset();
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto h = x.scalar_type() == torch::kFloat64 ? x : x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * h.to(x.scalar_type());
}

LayerNormImpl::LayerNormImpl(int64_t dim_, double eps_) : dim(dim_), eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
  bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  return torch::layer_norm(x, {dim}, weight, bias, eps);
}

Activation parse_activation(const std::string& name) {
  if (name == "silu") return Activation::Silu;
  if (name == "gelu") return Activation::Gelu;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  throw std::runtime_error("unsupported activation '" + name +
                           "' (supported: silu, gelu, quick_gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu)");
}

torch::Tensor activate(Activation act, const torch::Tensor& x) {
  switch (act) {
    case Activation::Silu: return torch::silu(x);
    case Activation::Gelu: return torch::gelu(x);
    case Activation::QuickGelu: return x * torch::sigmoid(1.702 * x);
    case Activation::GeluTanh: return torch::gelu(x, "tanh");
    case Activation::Relu: return torch::relu(x);
  }
  throw std::logic_error("unreachable activation");
}

}  // namespace seva::model
