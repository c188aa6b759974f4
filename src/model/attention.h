// Scaled dot-product attention shared by CLIP and LLaMA: torch's fused kernel where libtorch
// has one (2.x), the explicit softmax(QKᵀ)V in float32 otherwise (1.13).
#pragma once
#include <torch/types.h>

namespace seva::model {

// q: (B, H, Tq, D); k, v: (B, H, Tk, D); bias: additive (B or 1, 1, Tq, Tk) or undefined.
// Returns (B, H, Tq, D).
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& bias);

// Repeats key/value heads for grouped-query attention: (B, kvH, T, D) -> (B, kvH*groups, T, D),
// each kv head serving `groups` consecutive query heads (transformers' repeat_kv).
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t groups);

// The additive value for a masked position: large and finite, so a row that is fully masked
// gives a uniform softmax instead of NaN (as transformers does with finfo.min).
double mask_value(torch::ScalarType dtype);

}  // namespace seva::model
