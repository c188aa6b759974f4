// Random augmentations with torchvision's sampling (see augment_policies.h).
#include "aug/augment_policies.h"

#include "image/augment_ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace seva::aug {

using image::Image;

CropBox rrc_params(int W, int H, double scale_min, double scale_max, double ratio_min, double ratio_max, util::Rng& rng) {
  const double area = static_cast<double>(W) * H;
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scale_min, scale_max);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    // Python's round(): half to even, as nearbyint in the default rounding mode.
    const int w = static_cast<int>(std::nearbyint(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::nearbyint(std::sqrt(target / aspect)));
    if (w > 0 && w <= W && h > 0 && h <= H) {
      const int top = static_cast<int>(rng.randint(0, H - h + 1));
      const int left = static_cast<int>(rng.randint(0, W - w + 1));
      return {left, top, w, h};
    }
  }
  // Fallback: the central crop, the aspect ratio clamped.
  const double in_ratio = static_cast<double>(W) / H;
  int w = W, h = H;
  if (in_ratio < ratio_min) {
    h = static_cast<int>(std::nearbyint(w / ratio_min));
  } else if (in_ratio > ratio_max) {
    w = static_cast<int>(std::nearbyint(h * ratio_max));
  }
  return {(W - w) / 2, (H - h) / 2, w, h};
}

Image random_resized_crop(const Image& img, int out_w, int out_h, double scale_min, double scale_max, util::Rng& rng) {
  auto box = rrc_params(img.width, img.height, scale_min, scale_max, 3.0 / 4.0, 4.0 / 3.0, rng);
  return image::resize_bilinear(image::crop(img, box.left, box.top, box.width, box.height), out_w, out_h);
}

Image color_jitter(const Image& img, double brightness, double contrast, double saturation, double hue, util::Rng& rng) {
  // get_params: the order first, then each factor in the fixed order b, c, s, h.
  auto order = rng.permutation(4);
  auto factor = [&](double s) { return s > 0 ? rng.uniform(std::max(0.0, 1 - s), 1 + s) : -1.0; };
  const double b = factor(brightness), c = factor(contrast), s = factor(saturation);
  const double h = hue > 0 ? rng.uniform(-hue, hue) : 0.0;
  Image out = img;
  for (size_t fn : order) {
    if (fn == 0 && b >= 0) out = image::adjust_brightness(out, b);
    if (fn == 1 && c >= 0) out = image::adjust_contrast(out, c);
    if (fn == 2 && s >= 0) out = image::adjust_saturation(out, s);
    if (fn == 3 && hue > 0) out = image::adjust_hue(out, h);
  }
  return out;
}

std::vector<std::string> op_names() {
  return {"Identity", "ShearX",     "ShearY",    "TranslateX", "TranslateY",   "Rotate",   "Brightness",
          "Color",    "Contrast",   "Sharpness", "Posterize",  "Solarize",     "AutoContrast", "Equalize",
          "Invert"};
}

Image apply_op(const Image& img, const std::string& op, double m) {
  const double r2d = 180.0 / M_PI;
  if (op == "Identity") return img;
  if (op == "ShearX") return image::affine(img, 0, 0, 0, 1.0, std::atan(m) * r2d, 0, 0, 0);
  if (op == "ShearY") return image::affine(img, 0, 0, 0, 1.0, 0, std::atan(m) * r2d, 0, 0);
  if (op == "TranslateX") return image::affine(img, 0, static_cast<int>(m), 0, 1.0, 0, 0);
  if (op == "TranslateY") return image::affine(img, 0, 0, static_cast<int>(m), 1.0, 0, 0);
  if (op == "Rotate") return image::rotate(img, m);
  if (op == "Brightness") return image::adjust_brightness(img, 1.0 + m);
  if (op == "Color") return image::adjust_saturation(img, 1.0 + m);
  if (op == "Contrast") return image::adjust_contrast(img, 1.0 + m);
  if (op == "Sharpness") return image::adjust_sharpness(img, 1.0 + m);
  if (op == "Posterize") return image::posterize(img, static_cast<int>(m));
  if (op == "Solarize") return image::solarize(img, m);
  if (op == "AutoContrast") return image::autocontrast(img);
  if (op == "Equalize") return image::equalize(img);
  if (op == "Invert") return image::invert(img);
  throw std::invalid_argument("unknown augmentation operation " + op);
}

namespace {

double linspace(double a, double b, int n, int i) { return n <= 1 ? a : a + (b - a) * i / (n - 1); }

// (magnitude at bin i, signed) of torchvision's _augmentation_space for an image W × H.
std::pair<double, bool> magnitude(const std::string& op, int bins, int i, int W, int H) {
  if (op == "ShearX" || op == "ShearY") return {linspace(0, 0.3, bins, i), true};
  if (op == "TranslateX") return {linspace(0, 150.0 / 331.0 * W, bins, i), true};
  if (op == "TranslateY") return {linspace(0, 150.0 / 331.0 * H, bins, i), true};
  if (op == "Rotate") return {linspace(0, 30, bins, i), true};
  if (op == "Brightness" || op == "Color" || op == "Contrast" || op == "Sharpness")
    return {linspace(0, 0.9, bins, i), true};
  if (op == "Posterize") return {8 - static_cast<int>(std::nearbyint(i / ((bins - 1) / 4.0))), false};
  if (op == "Solarize") return {linspace(255, 0, bins, i), false};
  return {0.0, false};  // Identity, AutoContrast, Equalize, Invert
}

struct SubOp {
  const char* op;
  double p;
  int bin;  // -1: no magnitude
};

// torchvision's AutoAugmentPolicy.IMAGENET, in its order.
const SubOp kImageNetPolicy[kAutoAugmentPolicies][2] = {
    {{"Posterize", 0.4, 8}, {"Rotate", 0.6, 9}},     {{"Solarize", 0.6, 5}, {"AutoContrast", 0.6, -1}},
    {{"Equalize", 0.8, -1}, {"Equalize", 0.6, -1}},  {{"Posterize", 0.6, 7}, {"Posterize", 0.6, 6}},
    {{"Equalize", 0.4, -1}, {"Solarize", 0.2, 4}},   {{"Equalize", 0.4, -1}, {"Rotate", 0.8, 8}},
    {{"Solarize", 0.6, 3}, {"Equalize", 0.6, -1}},   {{"Posterize", 0.8, 5}, {"Equalize", 1.0, -1}},
    {{"Rotate", 0.2, 3}, {"Solarize", 0.6, 8}},      {{"Equalize", 0.6, -1}, {"Posterize", 0.4, 6}},
    {{"Rotate", 0.8, 8}, {"Color", 0.4, 0}},         {{"Rotate", 0.4, 9}, {"Equalize", 0.6, -1}},
    {{"Equalize", 0.0, -1}, {"Equalize", 0.8, -1}},  {{"Invert", 0.6, -1}, {"Equalize", 1.0, -1}},
    {{"Color", 0.6, 4}, {"Contrast", 1.0, 8}},       {{"Rotate", 0.8, 8}, {"Color", 1.0, 2}},
    {{"Color", 0.8, 8}, {"Solarize", 0.8, 7}},       {{"Sharpness", 0.4, 7}, {"Invert", 0.6, -1}},
    {{"ShearX", 0.6, 5}, {"Equalize", 1.0, -1}},     {{"Color", 0.4, 0}, {"Equalize", 0.6, -1}},
    {{"Equalize", 0.4, -1}, {"Solarize", 0.2, 4}},   {{"Solarize", 0.6, 5}, {"AutoContrast", 0.6, -1}},
    {{"Invert", 0.6, -1}, {"Equalize", 1.0, -1}},    {{"Color", 0.6, 4}, {"Contrast", 1.0, 8}},
    {{"Equalize", 0.8, -1}, {"Equalize", 0.6, -1}},
};

}  // namespace

Image auto_augment(const Image& img, util::Rng& rng) {
  // get_params: policy id, two probabilities, two signs; then the two operations in order.
  const auto id = rng.randint(0, kAutoAugmentPolicies);
  const double probs[2] = {rng.uniform(), rng.uniform()};
  const int64_t signs[2] = {rng.randint(0, 2), rng.randint(0, 2)};
  Image out = img;
  for (int i = 0; i < 2; ++i) {
    const auto& s = kImageNetPolicy[id][i];
    if (probs[i] > s.p) continue;
    auto [m, is_signed] = s.bin < 0 ? std::pair<double, bool>{0.0, false} : magnitude(s.op, 10, s.bin, out.width, out.height);
    if (is_signed && signs[i] == 0) m = -m;
    out = apply_op(out, s.op, m);
  }
  return out;
}

Image rand_augment(const Image& img, int num_ops, int mag, util::Rng& rng) {
  static const std::vector<std::string> ops = {"Identity",   "ShearX", "ShearY",     "TranslateX", "TranslateY",
                                               "Rotate",     "Brightness", "Color", "Contrast", "Sharpness",
                                               "Posterize",  "Solarize", "AutoContrast", "Equalize"};
  Image out = img;
  for (int k = 0; k < num_ops; ++k) {
    const auto& op = ops[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(ops.size())))];
    auto [m, is_signed] = magnitude(op, 31, mag, out.width, out.height);
    if (is_signed && rng.randint(0, 2) == 1) m = -m;
    out = apply_op(out, op, m);
  }
  return out;
}

Image random_rotation(const Image& img, double degrees, util::Rng& rng) {
  return image::rotate(img, rng.uniform(-degrees, degrees));
}

Image random_perspective(const Image& img, double d, util::Rng& rng) {
  const int W = img.width, H = img.height, hw = W / 2, hh = H / 2;
  const int dx = static_cast<int>(d * hw), dy = static_cast<int>(d * hh);
  auto ri = [&](int lo, int hi) { return static_cast<double>(rng.randint(lo, hi)); };  // [lo, hi)
  image::Corners end;
  end[0] = {ri(0, dx + 1), ri(0, dy + 1)};
  end[1] = {ri(W - dx - 1, W), ri(0, dy + 1)};
  end[2] = {ri(W - dx - 1, W), ri(H - dy - 1, H)};
  end[3] = {ri(0, dx + 1), ri(H - dy - 1, H)};
  image::Corners start = {{{0, 0}, {double(W - 1), 0}, {double(W - 1), double(H - 1)}, {0, double(H - 1)}}};
  return image::perspective(img, start, end);
}

Image random_affine(const Image& img, double degrees, util::Rng& rng) {
  const double angle = rng.uniform(-degrees, degrees);
  const double max_dx = 0.1 * img.width, max_dy = 0.1 * img.height;
  const double tx = std::nearbyint(rng.uniform(-max_dx, max_dx)), ty = std::nearbyint(rng.uniform(-max_dy, max_dy));
  const double scale = rng.uniform(0.9, 1.1);
  const double shear_x = rng.uniform(-10, 10);
  return image::affine(img, angle, tx, ty, scale, shear_x, 0.0);
}

namespace {
int odd_kernel(double size) { return std::max(3, static_cast<int>(size) / 2 * 2 + 1); }
}  // namespace

Image random_blur(const Image& img, double sigma_min, double sigma_max, util::Rng& rng) {
  const double sigma = rng.uniform(sigma_min, sigma_max);
  return image::gaussian_blur(img, odd_kernel(0.1 * std::min(img.width, img.height)), sigma);
}

Image moco(const Image& img, util::Rng& rng) {
  Image out = random_resized_crop(img, 224, 224, 0.2, 1.0, rng);
  out = color_jitter(out, 0.4, 0.4, 0.4, 0.1, rng);
  if (rng.bernoulli(0.2)) out = image::grayscale(out);
  // MoCo's own GaussianBlur: PIL's blur with radius sigma; a kernel of ±3 sigma approximates it.
  const double sigma = rng.uniform(0.1, 2.0);
  out = image::gaussian_blur(out, 2 * static_cast<int>(std::ceil(3 * sigma)) + 1, sigma);
  if (rng.bernoulli(0.5)) out = image::hflip(out);
  return out;
}

Image simclr(const Image& img, util::Rng& rng) {
  Image out = random_resized_crop(img, 224, 224, 0.08, 1.0, rng);
  if (rng.bernoulli(0.5)) out = image::hflip(out);
  if (rng.bernoulli(0.8)) out = color_jitter(out, 0.8, 0.8, 0.8, 0.2, rng);
  if (rng.bernoulli(0.2)) out = image::grayscale(out);
  if (rng.bernoulli(0.5)) out = image::gaussian_blur(out, odd_kernel(0.1 * 224), rng.uniform(0.1, 2.0));
  return out;
}

Image byol(const Image& img, util::Rng& rng) {
  Image out = random_resized_crop(img, 224, 224, 0.08, 1.0, rng);
  if (rng.bernoulli(0.5)) out = image::hflip(out);
  if (rng.bernoulli(0.8)) out = color_jitter(out, 0.4, 0.4, 0.2, 0.1, rng);
  if (rng.bernoulli(0.2)) out = image::grayscale(out);
  return image::gaussian_blur(out, 23, rng.uniform(0.1, 2.0));
}

}  // namespace seva::aug
