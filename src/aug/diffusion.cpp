#include "aug/diffusion.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace seva::aug {
namespace {

const std::vector<NoiseCoefs>& schedule() {
  static const std::vector<NoiseCoefs> coefs = [] {
    torch::NoGradGuard no_grad;
    auto betas = torch::sigmoid(torch::linspace(-6, 6, kDiffusionSteps, torch::kFloat32)) * (0.5e-2 - 1e-5) + 1e-5;
    auto abar = torch::cumprod(1.0 - betas, 0);
    auto s = torch::sqrt(abar).contiguous(), n = torch::sqrt(1.0 - abar).contiguous();
    std::vector<NoiseCoefs> out(kDiffusionSteps);
    for (int t = 0; t < kDiffusionSteps; ++t) out[t] = {s.data_ptr<float>()[t], n.data_ptr<float>()[t]};
    return out;
  }();
  return coefs;
}

}  // namespace

NoiseCoefs diffusion_coefs(int t) {
  if (t < 0 || t >= kDiffusionSteps)
    throw std::invalid_argument("diffusion step " + std::to_string(t) + " outside 0..999");
  return schedule()[t];
}

torch::Tensor add_diffusion_noise(const torch::Tensor& x0, int t, util::Rng& rng) {
  const auto c = diffusion_coefs(t);
  auto x = x0.to(torch::kCPU, torch::kFloat32).contiguous().clone();
  float* p = x.data_ptr<float>();
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; ++i) p[i] = c.signal * p[i] + c.noise * static_cast<float>(rng.normal());
  return x;
}

}  // namespace seva::aug
