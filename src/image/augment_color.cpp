// Colour pixel operations with PIL / torchvision semantics (see augment_ops.h).
#include "image/augment_ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace seva::image {
namespace {

using Lut = std::array<uint8_t, 256>;

Image apply_luts(const Image& img, const std::array<Lut, 3>& luts) {
  Image out(img.width, img.height);
  for (size_t i = 0; i < img.rgb.size(); ++i) out.rgb[i] = luts[i % 3][img.rgb[i]];
  return out;
}

Image apply_lut(const Image& img, const Lut& lut) { return apply_luts(img, {lut, lut, lut}); }

// PIL's ImagingBlend: in1 + alpha · (in2 − in1), clipped, truncated to uint8.
uint8_t blend_px(uint8_t degenerate, uint8_t px, double factor) {
  double v = degenerate + factor * (static_cast<int>(px) - static_cast<int>(degenerate));
  if (v <= 0.0) return 0;
  if (v >= 255.0) return 255;
  return static_cast<uint8_t>(v);
}

Image blend(const Image& degenerate, const Image& img, double factor) {
  Image out(img.width, img.height);
  for (size_t i = 0; i < img.rgb.size(); ++i) out.rgb[i] = blend_px(degenerate.rgb[i], img.rgb[i], factor);
  return out;
}

// PIL's RGB → L: (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
uint8_t luma(const uint8_t* p) { return static_cast<uint8_t>((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 0x8000) >> 16); }

std::array<std::array<int64_t, 256>, 3> histograms(const Image& img) {
  std::array<std::array<int64_t, 256>, 3> h{};
  for (size_t i = 0; i < img.rgb.size(); ++i) ++h[i % 3][img.rgb[i]];
  return h;
}

}  // namespace

Image grayscale(const Image& img) {
  Image out(img.width, img.height);
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    uint8_t l = luma(&img.rgb[i]);
    out.rgb[i] = out.rgb[i + 1] = out.rgb[i + 2] = l;
  }
  return out;
}

Image adjust_brightness(const Image& img, double factor) {
  return blend(Image(img.width, img.height), img, factor);
}

Image adjust_contrast(const Image& img, double factor) {
  // PIL ImageEnhance.Contrast: the degenerate image is the mean of L, rounded.
  double sum = 0;
  for (size_t i = 0; i < img.rgb.size(); i += 3) sum += luma(&img.rgb[i]);
  const double n = std::max<double>(1, static_cast<double>(img.rgb.size() / 3));
  const auto mean = static_cast<uint8_t>(static_cast<int>(sum / n + 0.5));
  Image deg(img.width, img.height);
  std::fill(deg.rgb.begin(), deg.rgb.end(), mean);
  return blend(deg, img, factor);
}

Image adjust_saturation(const Image& img, double factor) { return blend(grayscale(img), img, factor); }

Image adjust_sharpness(const Image& img, double factor) {
  // PIL's SMOOTH filter [[1,1,1],[1,5,1],[1,1,1]] / 13; the one-pixel border keeps the original.
  Image deg = img;
  for (int y = 1; y + 1 < img.height; ++y)
    for (int x = 1; x + 1 < img.width; ++x)
      for (int c = 0; c < 3; ++c) {
        int s = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) s += img.at(x + dx, y + dy, c) * (dx == 0 && dy == 0 ? 5 : 1);
        deg.pixel(x, y)[c] = static_cast<uint8_t>(std::clamp((s + 6) / 13, 0, 255));
      }
  return blend(deg, img, factor);
}

Image adjust_hue(const Image& img, double hue) {
  if (hue < -0.5 || hue > 0.5) throw std::invalid_argument("hue shift " + std::to_string(hue) + " outside [-0.5, 0.5]");
  Image out(img.width, img.height);
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    const double r = img.rgb[i] / 255.0, g = img.rgb[i + 1] / 255.0, b = img.rgb[i + 2] / 255.0;
    const double mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
    double h = 0;
    if (d > 0) {
      if (mx == r) h = std::fmod((g - b) / d, 6.0);
      else if (mx == g) h = (b - r) / d + 2.0;
      else h = (r - g) / d + 4.0;
      h /= 6.0;
    }
    h = h + hue;
    h -= std::floor(h);
    const double s = mx > 0 ? d / mx : 0, v = mx;
    // HSV → RGB
    const double hh = h * 6.0;
    const int sector = static_cast<int>(hh) % 6;
    const double f = hh - std::floor(hh);
    const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double rr, gg, bb;
    switch (sector) {
      case 0: rr = v, gg = t, bb = p; break;
      case 1: rr = q, gg = v, bb = p; break;
      case 2: rr = p, gg = v, bb = t; break;
      case 3: rr = p, gg = q, bb = v; break;
      case 4: rr = t, gg = p, bb = v; break;
      default: rr = v, gg = p, bb = q; break;
    }
    out.rgb[i] = static_cast<uint8_t>(std::lround(std::clamp(rr, 0.0, 1.0) * 255.0));
    out.rgb[i + 1] = static_cast<uint8_t>(std::lround(std::clamp(gg, 0.0, 1.0) * 255.0));
    out.rgb[i + 2] = static_cast<uint8_t>(std::lround(std::clamp(bb, 0.0, 1.0) * 255.0));
  }
  return out;
}

Image posterize(const Image& img, int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("posterize bits " + std::to_string(bits) + " outside 1..8");
  Lut lut;
  const int mask = ~((1 << (8 - bits)) - 1);
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i & mask);
  return apply_lut(img, lut);
}

Image solarize(const Image& img, double threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
  return apply_lut(img, lut);
}

Image invert(const Image& img) {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(255 - i);
  return apply_lut(img, lut);
}

Image autocontrast(const Image& img) {
  auto h = histograms(img);
  std::array<Lut, 3> luts;
  for (int c = 0; c < 3; ++c) {
    int lo = 0, hi = 255;
    while (lo < 256 && h[c][lo] == 0) ++lo;
    while (hi >= 0 && h[c][hi] == 0) --hi;
    for (int i = 0; i < 256; ++i) {
      if (hi <= lo) {
        luts[c][i] = static_cast<uint8_t>(i);
        continue;
      }
      const double scale = 255.0 / (hi - lo), offset = -lo * scale;
      luts[c][i] = static_cast<uint8_t>(std::clamp(static_cast<int>(i * scale + offset), 0, 255));
    }
  }
  return apply_luts(img, luts);
}

Image equalize(const Image& img) {
  auto h = histograms(img);
  std::array<Lut, 3> luts;
  for (int c = 0; c < 3; ++c) {
    int64_t total = 0, last = 0;
    int nonzero = 0;
    for (int i = 0; i < 256; ++i)
      if (h[c][i]) {
        total += h[c][i];
        last = h[c][i];
        ++nonzero;
      }
    const int64_t step = nonzero <= 1 ? 0 : (total - last) / 255;
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      if (step == 0) {
        luts[c][i] = static_cast<uint8_t>(i);
        continue;
      }
      luts[c][i] = static_cast<uint8_t>(std::min<int64_t>(n / step, 255));
      n += h[c][i];
    }
  }
  return apply_luts(img, luts);
}

Image gaussian_blur(const Image& img, int kernel, double sigma) {
  if (kernel < 1 || kernel % 2 == 0) throw std::invalid_argument("blur kernel size must be odd and positive, got " + std::to_string(kernel));
  if (!(sigma > 0)) throw std::invalid_argument("blur sigma must be positive");
  const int half = kernel / 2;
  std::vector<double> k(kernel);
  double sum = 0;
  for (int i = 0; i < kernel; ++i) {
    const double x = i - half;
    k[i] = std::exp(-0.5 * (x / sigma) * (x / sigma));
    sum += k[i];
  }
  for (auto& v : k) v /= sum;
  // Reflect padding (the edge pixel not repeated), as torch's "reflect" mode.
  auto reflect = [](int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  const int W = img.width, H = img.height;
  std::vector<float> tmp(img.rgb.size());
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) {
        double s = 0;
        for (int i = 0; i < kernel; ++i) s += k[i] * img.at(reflect(x + i - half, W), y, c);
        tmp[img.offset(x, y) + c] = static_cast<float>(s);
      }
  Image out(W, H);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c) {
        double s = 0;
        for (int i = 0; i < kernel; ++i) s += k[i] * tmp[img.offset(x, reflect(y + i - half, H)) + c];
        out.pixel(x, y)[c] = static_cast<uint8_t>(std::clamp(std::lround(s), 0L, 255L));
      }
  return out;
}

}  // namespace seva::image
