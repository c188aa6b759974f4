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

torch::Tensor LinearImpl::forward(const torch::Tensor& x) { return torch::linear(x, weight, bias); }

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto h = x.to(torch::kFloat32);
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
