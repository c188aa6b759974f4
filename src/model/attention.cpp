#include "model/attention.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace seva::model {

#if TORCH_VERSION_MAJOR < 2
namespace {

// softmax(q kᵀ / sqrt(D) + bias) v for one block of batch rows.
torch::Tensor attend_block(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& bias) {
  // The scale goes on q (Tq x D), not on the (Tq x Tk) scores; the bias is added in place: the
  // matmul's backward needs its inputs, not its output.
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q * scale, k.transpose(-2, -1));  // (b, H, Tq, Tk)
  if (bias.defined()) scores.add_(bias);
  // Softmax in float32 for half types (as transformers), in float64 for float64 models.
  auto acc = q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto probs = scores.scalar_type() == acc ? torch::softmax(scores, -1) : torch::softmax(scores, -1, acc).to(q.scalar_type());
  return torch::matmul(probs, v);
}

}  // namespace
#endif

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& bias) {
#if TORCH_VERSION_MAJOR >= 2
  c10::optional<at::Tensor> mask;
  if (bias.defined()) mask = bias.to(q.scalar_type());
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false);
#else
  // Batch rows in blocks whose (H, Tq, Tk) scores stay under 16 MB: glibc serves blocks that size
  // from memory it keeps, while larger ones are fresh mmap'd pages, faulted in and zeroed by the
  // kernel on every call (seva bench --size small, 2 cores: the vision tower 1.4x faster).
  const int64_t B = q.size(0);
  const int64_t row_bytes = q.size(1) * q.size(2) * k.size(2) * static_cast<int64_t>(sizeof(float));
  const int64_t rows = std::clamp<int64_t>((16 << 20) / std::max<int64_t>(row_bytes, 1), 1, B);
  if (rows >= B) return attend_block(q, k, v, bias);
  std::vector<torch::Tensor> out;
  for (int64_t b = 0; b < B; b += rows) {
    const int64_t n = std::min(rows, B - b);
    auto bb = !bias.defined() || bias.size(0) == 1 ? bias : bias.narrow(0, b, n);
    out.push_back(attend_block(q.narrow(0, b, n), k.narrow(0, b, n), v.narrow(0, b, n), bb));
  }
  return torch::cat(out, 0);
#endif
}

torch::Tensor repeat_kv(const torch::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  auto B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  return x.unsqueeze(2).expand({B, H, groups, T, D}).reshape({B, H * groups, T, D});
}

double mask_value(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kHalf: return -65504.0;
    case torch::kBFloat16: return -3.38e38;
    default: return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

}  // namespace seva::model
