// Geometric pixel operations with torchvision's PIL-backend semantics (see augment_ops.h).
#include "image/augment_ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace seva::image {

Image hflip(const Image& img) {
  Image out(img.width, img.height);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* src = img.row(y);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < 3; ++c) dst[3 * (img.width - 1 - x) + c] = src[3 * x + c];
  }
  return out;
}

Image crop(const Image& img, int left, int top, int w, int h) {
  if (w <= 0 || h <= 0 || left < 0 || top < 0 || left + w > img.width || top + h > img.height)
    throw std::invalid_argument("crop " + std::to_string(w) + "x" + std::to_string(h) + "+" + std::to_string(left) +
                                "+" + std::to_string(top) + " outside a " + std::to_string(img.width) + "x" +
                                std::to_string(img.height) + " image");
  Image out(w, h);
  for (int y = 0; y < h; ++y) std::copy_n(img.pixel(left, top + y), 3 * w, out.row(y));
  return out;
}

namespace {

// One output index's input window and normalised weights (PIL's precompute_coeffs, in float).
struct Taps {
  int first = 0;
  std::vector<float> w;
};

std::vector<Taps> bilinear_taps(int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double fs = std::max(scale, 1.0);
  const double support = 1.0 * fs;  // the triangle filter's support is 1
  std::vector<Taps> taps(out);
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    int hi = std::min(static_cast<int>(center + support + 0.5), in);
    double sum = 0;
    std::vector<double> w;
    for (int x = lo; x < hi; ++x) {
      double t = std::fabs((x - center + 0.5) / fs);
      double k = t < 1.0 ? 1.0 - t : 0.0;
      w.push_back(k);
      sum += k;
    }
    taps[o].first = lo;
    for (double k : w) taps[o].w.push_back(static_cast<float>(sum > 0 ? k / sum : 0));
  }
  return taps;
}

uint8_t clip8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

Image resize_bilinear(const Image& img, int out_w, int out_h) {
  if (out_w <= 0 || out_h <= 0) throw std::invalid_argument("resize to a non-positive size");
  Image cur = img;
  if (out_w != cur.width) {
    auto taps = bilinear_taps(cur.width, out_w);
    Image next(out_w, cur.height);
    for (int y = 0; y < cur.height; ++y)
      for (int o = 0; o < out_w; ++o)
        for (int c = 0; c < 3; ++c) {
          double s = 0;
          for (size_t k = 0; k < taps[o].w.size(); ++k) s += taps[o].w[k] * cur.at(taps[o].first + int(k), y, c);
          next.pixel(o, y)[c] = clip8(s);
        }
    cur = std::move(next);
  }
  if (out_h != cur.height) {
    auto taps = bilinear_taps(cur.height, out_h);
    Image next(cur.width, out_h);
    for (int o = 0; o < out_h; ++o)
      for (int x = 0; x < cur.width; ++x)
        for (int c = 0; c < 3; ++c) {
          double s = 0;
          for (size_t k = 0; k < taps[o].w.size(); ++k) s += taps[o].w[k] * cur.at(x, taps[o].first + int(k), c);
          next.pixel(x, o)[c] = clip8(s);
        }
    cur = std::move(next);
  }
  return cur;
}

AffineMatrix inverse_affine_matrix(double cx, double cy, double angle, double tx, double ty, double scale,
                                   double shear_x, double shear_y) {
  const double d2r = M_PI / 180.0;
  const double rot = angle * d2r, sx = shear_x * d2r, sy = shear_y * d2r;
  // Rotation-scale-shear without the scale, then inverted (its determinant is 1).
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  AffineMatrix m{d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0};
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

Image warp_affine(const Image& img, const AffineMatrix& m, std::array<uint8_t, 3> fill) {
  Image out(img.width, img.height);
  // PIL's COORD(v): -1 below zero, else truncation.
  auto coord = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const double xo = x + 0.5, yo = y + 0.5;
      const int xi = coord(m[0] * xo + m[1] * yo + m[2]);
      const int yi = coord(m[3] * xo + m[4] * yo + m[5]);
      uint8_t* dst = out.pixel(x, y);
      if (xi >= 0 && xi < img.width && yi >= 0 && yi < img.height)
        std::copy_n(img.pixel(xi, yi), 3, dst);
      else
        std::copy_n(fill.data(), 3, dst);
    }
  return out;
}

Image affine(const Image& img, double angle, double tx, double ty, double scale, double shear_x, double shear_y,
             double cx, double cy) {
  if (cx < 0 || cy < 0) {
    cx = img.width * 0.5;
    cy = img.height * 0.5;
  }
  return warp_affine(img, inverse_affine_matrix(cx, cy, angle, tx, ty, scale, shear_x, shear_y));
}

Image rotate(const Image& img, double degrees) {
  // torchvision's affine angle is clockwise; rotate is counter-clockwise.
  return affine(img, -degrees, 0, 0, 1.0, 0, 0);
}

namespace {

// Solves the 8×8 system A x = b by Gaussian elimination with partial pivoting.
std::array<double, 8> solve8(std::array<std::array<double, 9>, 8> a) {
  for (int col = 0; col < 8; ++col) {
    int piv = col;
    for (int r = col + 1; r < 8; ++r)
      if (std::fabs(a[r][col]) > std::fabs(a[piv][col])) piv = r;
    if (std::fabs(a[piv][col]) < 1e-12) throw std::invalid_argument("perspective: degenerate corner points");
    std::swap(a[col], a[piv]);
    for (int r = 0; r < 8; ++r) {
      if (r == col) continue;
      double f = a[r][col] / a[col][col];
      for (int k = col; k < 9; ++k) a[r][k] -= f * a[col][k];
    }
  }
  std::array<double, 8> x{};
  for (int r = 0; r < 8; ++r) x[r] = a[r][8] / a[r][r];
  return x;
}

}  // namespace

Image perspective(const Image& img, const Corners& start, const Corners& end) {
  // torchvision's _get_perspective_coeffs: the map from output (end) points to input (start) points.
  std::array<std::array<double, 9>, 8> a{};
  for (int i = 0; i < 4; ++i) {
    const auto& p1 = end[i];
    const auto& p2 = start[i];
    a[2 * i] = {p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1], p2[0]};
    a[2 * i + 1] = {0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0], -p2[1] * p1[1], p2[1]};
  }
  const auto k = solve8(a);
  Image out(img.width, img.height);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const double xo = x + 0.5, yo = y + 0.5;
      const double den = k[6] * xo + k[7] * yo + 1.0;
      // Bilinear at the input point, pixel centres at integer + 0.5 (PIL's transform filter).
      const double xi = (k[0] * xo + k[1] * yo + k[2]) / den - 0.5;
      const double yi = (k[3] * xo + k[4] * yo + k[5]) / den - 0.5;
      uint8_t* dst = out.pixel(x, y);
      if (!(xi >= -0.5 && xi < img.width - 0.5 && yi >= -0.5 && yi < img.height - 0.5)) {
        dst[0] = dst[1] = dst[2] = 0;
        continue;
      }
      const int x0 = static_cast<int>(std::floor(xi)), y0 = static_cast<int>(std::floor(yi));
      const double dx = xi - x0, dy = yi - y0;
      const int xa = std::clamp(x0, 0, img.width - 1), xb = std::clamp(x0 + 1, 0, img.width - 1);
      const int ya = std::clamp(y0, 0, img.height - 1), yb = std::clamp(y0 + 1, 0, img.height - 1);
      for (int c = 0; c < 3; ++c) {
        double top = img.at(xa, ya, c) * (1 - dx) + img.at(xb, ya, c) * dx;
        double bot = img.at(xa, yb, c) * (1 - dx) + img.at(xb, yb, c) * dx;
        dst[c] = clip8(top * (1 - dy) + bot * dy);
      }
    }
  return out;
}

}  // namespace seva::image
