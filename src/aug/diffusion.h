// SeVa's diffusion-noise augmentation: the forward process q(x_t | x_0) with the sigmoid beta
// schedule of the official code, applied to the normalised pixel tensor after preprocessing.
#pragma once
#include <torch/types.h>

#include "util/rng.h"

namespace seva::aug {

constexpr int kDiffusionSteps = 1000;

// (sqrt(abar[t]), sqrt(1 − abar[t])) in float32, as torch computes them:
// betas = sigmoid(linspace(−6, 6, 1000)) · (0.5e-2 − 1e-5) + 1e-5, abar = cumprod(1 − betas).
struct NoiseCoefs {
  float signal = 1, noise = 0;
};
NoiseCoefs diffusion_coefs(int t);  // t in 0..999, else throws

// x_t = sqrt(abar[t]) · x0 + sqrt(1 − abar[t]) · eps, eps ~ N(0, 1) drawn from `rng` in
// row-major order. x0: any float32 CPU tensor; returns a new one of the same shape.
torch::Tensor add_diffusion_noise(const torch::Tensor& x0, int t, util::Rng& rng);

}  // namespace seva::aug
