// attend() with one query (a decode step), with several, and split into row blocks, against softmax(qkᵀ/√D + bias)v
// computed in float64, on the KV cache's layout (keys and values a narrowed view of a longer buffer).
#include "model/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using seva::model::attend;

torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& bias) {
  auto q64 = q.to(torch::kFloat64), k64 = k.to(torch::kFloat64), v64 = v.to(torch::kFloat64);
  auto scores = torch::matmul(q64, k64.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  return torch::matmul(torch::softmax(scores + bias.to(torch::kFloat64), -1), v64).to(q.scalar_type());
}

// Keys and values as the decode loop holds them: the first `len` positions of a longer cache.
struct Case {
  torch::Tensor q, k, v, bias;
};

Case make_case(int64_t B, int64_t H, int64_t Tq, int64_t len, int64_t D) {
  torch::manual_seed(7);
  Case c;
  c.q = torch::randn({B, H, Tq, D});
  c.k = torch::randn({B, H, len + 9, D}).narrow(2, 0, len);
  c.v = torch::randn({B, H, len + 9, D}).narrow(2, 0, len);
  // Left padding as batched generation has it: row r masks its first 3r keys.
  c.bias = torch::zeros({B, 1, Tq, len});
  for (int64_t r = 0; r < B; ++r) c.bias[r].narrow(-1, 0, 3 * r).fill_(seva::model::mask_value(torch::kFloat32));
  return c;
}

TEST(ModelAttention, OneQueryMatchesTheFormulaOnANarrowedCache) {
  torch::NoGradGuard ng;
  auto c = make_case(5, 4, 1, 37, 16);
  EXPECT_FALSE(c.k.is_contiguous());
  auto out = attend(c.q, c.k, c.v, c.bias);
  ASSERT_EQ(out.sizes(), c.q.sizes());
  EXPECT_LT((out - reference(c.q, c.k, c.v, c.bias)).abs().max().item<double>(), 1e-6);
  // Masked keys carry no weight: row 4 masks its first 12 keys, so changing them changes nothing
  // there, while row 3 masks only 9 and sees the change.
  c.v.narrow(2, 0, 12).fill_(1e3);
  auto again = attend(c.q, c.k, c.v, c.bias);
  EXPECT_TRUE(torch::equal(again.narrow(0, 4, 1), out.narrow(0, 4, 1)));
  EXPECT_FALSE(torch::equal(again.narrow(0, 3, 1), out.narrow(0, 3, 1)));
}

TEST(ModelAttention, RowBlocksMatchTheFormula) {
  // 4 heads x 1 query x 8192 keys x 4 bytes = 128 KB of scores a row, 16 MB blocks: 128 rows a
  // block, so 130 rows run as two blocks.
  torch::NoGradGuard ng;
  auto c = make_case(130, 4, 1, 8192, 4);
  auto out = attend(c.q, c.k, c.v, c.bias);
  EXPECT_LT((out - reference(c.q, c.k, c.v, c.bias)).abs().max().item<double>(), 1e-6);
}

TEST(ModelAttention, SeveralQueriesMatchTheFormula) {
  torch::NoGradGuard ng;
  auto c = make_case(3, 2, 6, 11, 8);
  // A causal mask on top of the padding: query i sees keys up to 5 + i.
  for (int64_t i = 0; i < 6; ++i) c.bias.narrow(2, i, 1).narrow(3, 6 + i, 5 - i).fill_(seva::model::mask_value(torch::kFloat32));
  auto out = attend(c.q, c.k, c.v, c.bias);
  EXPECT_LT((out - reference(c.q, c.k, c.v, c.bias)).abs().max().item<double>(), 1e-6);
}

}  // namespace
