#include "model/qwen2_vl_vision.h"

#include "model/attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

namespace seva::model {
namespace {

// Norm eps of every Qwen2-VL / Qwen2.5-VL vision norm (fixed in transformers' code, not in config).
constexpr double kVisionNormEps = 1e-6;

torch::Tensor rotate_half(const torch::Tensor& x) {
  auto half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// Rotary positions in float32, cast back, as transformers' apply_rotary_pos_emb_vision.
torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  auto xf = x.to(torch::kFloat32);  // (N, H, D); cos/sin (N, D) -> (N, 1, D)
  auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);
  return (xf * c + rotate_half(xf) * s).to(x.scalar_type());
}

std::shared_ptr<torch::nn::Module> container(torch::nn::Module& parent, const char* name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

}  // namespace

Qwen2VLPatchEmbedImpl::Qwen2VLPatchEmbedImpl(const Qwen2VLVisionConfig& c) {
  proj = container(*this, "proj");
  weight = proj->register_parameter(
      "weight", torch::empty({c.hidden_size, c.in_channels, c.temporal_patch_size, c.patch_size, c.patch_size}));
  if (!SkipInit::active()) {
    torch::NoGradGuard ng;
    weight.normal_(0.0, 0.02);
  }
}

torch::Tensor Qwen2VLPatchEmbedImpl::forward(const torch::Tensor& patches) {
  return torch::linear(patches.to(weight.scalar_type()), weight.reshape({weight.size(0), -1}));
}

Qwen2VLVisionAttentionImpl::Qwen2VLVisionAttentionImpl(const Qwen2VLVisionConfig& c) : num_heads(c.num_heads) {
  qkv = register_module("qkv", Linear(c.hidden_size, 3 * c.hidden_size, true));
  proj = register_module("proj", Linear(c.hidden_size, c.hidden_size, true));
}

torch::Tensor Qwen2VLVisionAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                                  const torch::Tensor& sin, const torch::Tensor& bias) {
  const int64_t N = x.size(0), C = x.size(1), D = C / num_heads;
  auto parts = qkv(x).view({N, 3, num_heads, D}).unbind(1);  // each (N, H, D)
  auto q = rotate(parts[0], cos, sin).transpose(0, 1).unsqueeze(0);  // (1, H, N, D)
  auto k = rotate(parts[1], cos, sin).transpose(0, 1).unsqueeze(0);
  auto v = parts[2].transpose(0, 1).unsqueeze(0);
  auto y = attend(q, k, v, bias);  // (1, H, N, D)
  return proj(y.squeeze(0).transpose(0, 1).reshape({N, C}));
}

Qwen2VLVisionBlockImpl::Qwen2VLVisionBlockImpl(const Qwen2VLVisionConfig& c)
    : windowed(c.windowed), act(parse_activation(c.hidden_act)) {
  if (windowed) {
    rms1 = register_module("norm1", RMSNorm(c.hidden_size, kVisionNormEps));
    rms2 = register_module("norm2", RMSNorm(c.hidden_size, kVisionNormEps));
  } else {
    ln1 = register_module("norm1", LayerNorm(c.hidden_size, kVisionNormEps));
    ln2 = register_module("norm2", LayerNorm(c.hidden_size, kVisionNormEps));
  }
  attn = register_module("attn", Qwen2VLVisionAttention(c));
  mlp = container(*this, "mlp");
  if (windowed) {
    gate_proj = mlp->register_module("gate_proj", Linear(c.hidden_size, c.intermediate_size, true));
    up_proj = mlp->register_module("up_proj", Linear(c.hidden_size, c.intermediate_size, true));
    down_proj = mlp->register_module("down_proj", Linear(c.intermediate_size, c.hidden_size, true));
  } else {
    fc1 = mlp->register_module("fc1", Linear(c.hidden_size, c.intermediate_size, true));
    fc2 = mlp->register_module("fc2", Linear(c.intermediate_size, c.hidden_size, true));
  }
}

torch::Tensor Qwen2VLVisionBlockImpl::norm(int which, const torch::Tensor& x) {
  if (windowed) return which == 1 ? rms1(x) : rms2(x);
  return which == 1 ? ln1(x) : ln2(x);
}

torch::Tensor Qwen2VLVisionBlockImpl::mlp_forward(const torch::Tensor& x) {
  if (windowed) return down_proj(activate(act, gate_proj(x)) * up_proj(x));
  return fc2(activate(act, fc1(x)));
}

torch::Tensor Qwen2VLVisionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                              const torch::Tensor& sin, const torch::Tensor& bias) {
  auto h = x + attn(norm(1, x), cos, sin, bias);
  return h + mlp_forward(norm(2, h));
}

Qwen2VLPatchMergerImpl::Qwen2VLPatchMergerImpl(const Qwen2VLVisionConfig& c) {
  if (c.windowed) rms = register_module("ln_q", RMSNorm(c.hidden_size, kVisionNormEps));
  else ln = register_module("ln_q", LayerNorm(c.hidden_size, kVisionNormEps));
  const int64_t width = c.hidden_size * c.merge_unit();
  mlp = container(*this, "mlp");
  fc0 = mlp->register_module("0", Linear(width, width, true));
  fc2 = mlp->register_module("2", Linear(width, c.out_hidden_size, true));
}

torch::Tensor Qwen2VLPatchMergerImpl::forward(const torch::Tensor& groups) {
  auto h = rms ? rms(groups) : ln(groups);
  auto sizes = h.sizes().vec();
  sizes.pop_back();
  sizes.back() = -1;  // (..., 4, C) -> (..., 4C)
  return fc2(activate(Activation::Gelu, fc0(h.reshape(sizes))));
}

Qwen2VLVisionModelImpl::Qwen2VLVisionModelImpl(const Qwen2VLVisionConfig& c) : cfg(c) {
  patch_embed = register_module("patch_embed", Qwen2VLPatchEmbed(c));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.depth; ++i) blocks->push_back(Qwen2VLVisionBlock(c));
  merger = register_module("merger", Qwen2VLPatchMerger(c));
  // The rotary over half the head: each of the row and the column angle takes head_dim/4 frequencies.
  const int64_t dim = c.head_dim() / 2;
  auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
  inv_freq = 1.0 / torch::pow(torch::tensor(10000.0, torch::kFloat32), exponents);
}

torch::Tensor Qwen2VLVisionModelImpl::patchify(const torch::Tensor& image) const {
  const int64_t C = image.size(0), H = image.size(1), W = image.size(2);
  const int64_t P = cfg.patch_size, M = cfg.spatial_merge_size, T = cfg.temporal_patch_size;
  const int64_t gh = H / P, gw = W / P;
  auto frames = image.unsqueeze(0).expand({T, C, H, W});  // a still image fills every frame
  // (T, C, gh/M, M, P, gw/M, M, P) -> (gh/M, gw/M, M, M, C, T, P, P)
  auto x = frames.reshape({T, C, gh / M, M, P, gw / M, M, P}).permute({2, 5, 3, 6, 1, 0, 4, 7});
  return x.reshape({gh * gw, C * T * P * P});
}

torch::Tensor Qwen2VLVisionModelImpl::rotary_angles(int64_t gh, int64_t gw) const {
  const int64_t M = cfg.spatial_merge_size;
  auto opts = torch::TensorOptions().dtype(torch::kInt64);
  // Row and column of each patch, in patchify's order (2×2 groups contiguous).
  auto rows = torch::arange(gh, opts).view({gh, 1}).expand({gh, gw});
  auto cols = torch::arange(gw, opts).view({1, gw}).expand({gh, gw});
  auto order = [&](const torch::Tensor& t) {
    return t.reshape({gh / M, M, gw / M, M}).permute({0, 2, 1, 3}).flatten();
  };
  auto table = torch::outer(torch::arange(std::max(gh, gw), opts).to(torch::kFloat32), inv_freq);
  return torch::cat({table.index_select(0, order(rows)), table.index_select(0, order(cols))}, 1);
}

std::vector<int64_t> Qwen2VLVisionModelImpl::window_order(int64_t mh, int64_t mw, std::vector<int64_t>& sizes) const {
  const int64_t ws = cfg.window_size / cfg.spatial_merge_size / cfg.patch_size;  // merged tokens per window side
  // transformers pads each side up to the next multiple of the window, by a whole window when it
  // already is one; the padded windows hold no tokens and are dropped.
  const int64_t nh = (mh + ws - mh % ws) / ws, nw = (mw + ws - mw % ws) / ws;
  std::vector<int64_t> order;
  sizes.clear();
  for (int64_t wr = 0; wr < nh; ++wr)
    for (int64_t wc = 0; wc < nw; ++wc) {
      int64_t n = 0;
      for (int64_t r = wr * ws; r < std::min(mh, (wr + 1) * ws); ++r)
        for (int64_t c = wc * ws; c < std::min(mw, (wc + 1) * ws); ++c, ++n) order.push_back(r * mw + c);
      if (n > 0) sizes.push_back(n);
    }
  return order;
}

torch::Tensor Qwen2VLVisionModelImpl::blocks_output(const torch::Tensor& image) {
  const int64_t unit = cfg.patch_size * cfg.spatial_merge_size;
  TORCH_CHECK(image.dim() == 3 && image.size(0) == cfg.in_channels && image.size(1) % unit == 0 &&
                  image.size(2) % unit == 0 && image.size(1) > 0 && image.size(2) > 0,
              "a Qwen2-VL image must be (", cfg.in_channels, ", H, W) with H and W multiples of ", unit, ", got ",
              image.sizes());
  const int64_t gh = image.size(1) / cfg.patch_size, gw = image.size(2) / cfg.patch_size;
  const int64_t mh = gh / cfg.spatial_merge_size, mw = gw / cfg.spatial_merge_size, U = cfg.merge_unit();
  auto device = patch_embed->weight.device();
  auto h = patch_embed(patchify(image.to(device)));  // (N, C)
  const int64_t N = h.size(0), C = h.size(1);
  auto angles = rotary_angles(gh, gw).to(device);
  torch::Tensor window_bias, inverse;
  if (cfg.windowed) {
    std::vector<int64_t> sizes;
    auto order = torch::tensor(window_order(mh, mw, sizes), torch::kInt64).to(device);
    h = h.view({N / U, U, C}).index_select(0, order).view({N, C});
    angles = angles.view({N / U, U, -1}).index_select(0, order).view({N, -1});
    inverse = torch::argsort(order);
    std::vector<int64_t> window_of;  // per patch, in window order
    for (size_t w = 0; w < sizes.size(); ++w) window_of.insert(window_of.end(), sizes[w] * U, static_cast<int64_t>(w));
    auto seg = torch::tensor(window_of, torch::kInt64).to(device);
    auto allowed = seg.view({N, 1}) == seg.view({1, N});
    window_bias = torch::zeros({N, N}, h.options()).masked_fill_(allowed.logical_not(), mask_value(h.scalar_type()));
    window_bias = window_bias.view({1, 1, N, N});
  }
  auto emb = torch::cat({angles, angles}, 1);
  auto cos = emb.cos(), sin = emb.sin();
  const auto& full = cfg.fullatt_block_indexes;
  for (size_t i = 0; i < blocks->size(); ++i) {
    const bool windowed = cfg.windowed && std::find(full.begin(), full.end(), static_cast<int64_t>(i)) == full.end();
    h = blocks[i]->as<Qwen2VLVisionBlock>()->forward(h, cos, sin, windowed ? window_bias : torch::Tensor());
  }
  if (cfg.windowed) h = h.view({N / U, U, C}).index_select(0, inverse);
  return h.reshape({mh, mw, U, C});
}

}  // namespace seva::model
