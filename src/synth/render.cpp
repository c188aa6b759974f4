#include "synth/render.h"

#include "util/rng.h"

#include <algorithm>
#include <cmath>

namespace seva::synth {

const std::array<std::array<uint8_t, 3>, kColors> kColorRgb = {{
    {215, 45, 40},   // red
    {45, 170, 60},   // green
    {45, 85, 215},   // blue
    {225, 205, 45},  // yellow
}};

namespace {

// A classic 5×7 font: one byte per row, the low 5 bits left to right (bit 4 = leftmost column).
constexpr uint8_t kFont[10][7] = {
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},  // 0
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 1
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},  // 2
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // 3
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},  // 4
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // 5
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},  // 6
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},  // 8
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // 9
};

uint8_t clamp8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

// Centre of the object in continuous pixel coordinates (pixel x covers [x, x+1)).
void object_centre(const Object& o, double* cx, double* cy) {
  *cx = (o.cell % kGridCols) * kCell + kCell / 2 + o.dx;
  *cy = (o.cell / kGridCols) * kCell + kCell / 2 + o.dy;
}

}  // namespace

bool object_covers(const Object& o, int x, int y) {
  double cx, cy;
  object_centre(o, &cx, &cy);
  const double half = o.size / 2.0;
  const double px = x + 0.5 - cx, py = y + 0.5 - cy;
  switch (o.shape) {
    case 0:  // circle
      return px * px + py * py <= half * half;
    case 1: {  // square, a little smaller than its box so its area is near the circle's
      const double h = half * 0.88;
      return std::abs(px) <= h && std::abs(py) <= h;
    }
    default: {  // triangle, apex up
      if (py < -half || py > half) return false;
      const double t = (py + half) / (2 * half);  // 0 at the apex, 1 at the base
      return std::abs(px) <= t * half + 0.25;
    }
  }
}

bool bar_covers(const Bar& b, int x, int y) {
  const int x0 = (b.cell % kGridCols) * kCell, y0 = (b.cell / kGridCols) * kCell;
  if (x < x0 || x >= x0 + kCell || y < y0 || y >= y0 + kCell) return false;
  // The bar is 5 px thick, centred `offset` px from the centre of the cell's centre pixel (8.5).
  const double centre = kCell / 2 + 0.5 + b.offset;
  const double p = (b.vertical ? x - x0 : y - y0) + 0.5;
  return std::abs(p - centre) <= 2.5;
}

bool digit_ink(char d, int col, int row) {
  if (d < '0' || d > '9' || col < 0 || col >= kDigitWidth || row < 0 || row >= kDigitHeight) return false;
  return (kFont[d - '0'][row] >> (kDigitWidth - 1 - col)) & 1;
}

// Each digit is the 5×7 font at 2× (10×14 px) in a 16-px slot, centred in the strip with ±1 px
// of jitter. The tiny base learnt neither 1× digits straddling patches (world v1) nor 1× digits
// inside one 8×8 patch on light paper (v2); on the background's grey it learns the digit count
// at once and single digits within ~150 steps.
void digit_origin(const Scene& s, int i, int* x, int* y) {
  const int n = static_cast<int>(s.digits.size());
  const int start = (kImageSize - kDigitSlot * n) / 2;
  const int w = kDigitWidth * kDigitScale, h = kDigitHeight * kDigitScale;
  *x = start + kDigitSlot * i + (kDigitSlot - w) / 2 + s.digit_dx[i];            // slot + 2..4
  *y = kTextTop + (kImageSize - kTextTop - h) / 2 + (s.digit_dy[i] > 0 ? 1 : 0);  // strip + 1..2
}

image::Image render_scene(const Scene& s) {
  image::Image img(kImageSize, kImageSize);
  util::Rng rng(s.noise_seed);
  // Background: a blocky 4×4 texture plus per-pixel noise and a slight per-channel tint.
  const int blocks = kImageSize / 4;
  std::vector<int> texture(static_cast<size_t>(blocks * blocks));
  for (auto& t : texture) t = static_cast<int>(rng.randint(-16, 17));
  int tint[3];
  for (int& t : tint) t = static_cast<int>(rng.randint(-4, 5));
  for (int y = 0; y < kTextTop; ++y)
    for (int x = 0; x < kImageSize; ++x) {
      const int base = kBackgroundGrey + texture[(y / 4) * blocks + x / 4] + static_cast<int>(rng.randint(-10, 11));
      uint8_t* p = img.pixel(x, y);
      for (int c = 0; c < 3; ++c) p[c] = clamp8(base + tint[c]);
    }
  // Objects: filled shapes with a little per-pixel noise.
  for (const auto& o : s.objects) {
    std::array<int, 3> rgb;
    for (int c = 0; c < 3; ++c) {
      const double v = kColorRgb[o.color][c];
      rgb[c] = static_cast<int>(std::lround(o.hard == Hard::low_contrast ? (1 - kLowContrastMix) * v + kLowContrastMix * kBackgroundGrey : v));
    }
    const int x0 = (o.cell % kGridCols) * kCell, y0 = (o.cell / kGridCols) * kCell;
    for (int y = y0; y < y0 + kCell; ++y)
      for (int x = x0; x < x0 + kCell; ++x) {
        const int noise = static_cast<int>(rng.randint(-8, 9));  // drawn for every cell pixel: a fixed stream
        if (!object_covers(o, x, y)) continue;
        uint8_t* p = img.pixel(x, y);
        for (int c = 0; c < 3; ++c) p[c] = clamp8(rgb[c] + noise);
      }
  }
  for (const auto& b : s.bars)
    for (int y = 0; y < kTextTop; ++y)
      for (int x = 0; x < kImageSize; ++x)
        if (bar_covers(b, x, y)) {
          uint8_t* p = img.pixel(x, y);
          p[0] = p[1] = p[2] = kBarGrey;
        }
  // The text strip: the background's grey with noise, dark (or, for hard cases, dim) digits.
  const int paper = kBackgroundGrey, ink = s.text_low_contrast ? 80 : 24;
  for (int y = kTextTop; y < kImageSize; ++y)
    for (int x = 0; x < kImageSize; ++x) {
      uint8_t* p = img.pixel(x, y);
      p[0] = p[1] = p[2] = clamp8(paper + static_cast<int>(rng.randint(-8, 9)));
    }
  for (int i = 0; i < static_cast<int>(s.digits.size()); ++i) {
    int ox, oy;
    digit_origin(s, i, &ox, &oy);
    for (int r = 0; r < kDigitHeight * kDigitScale; ++r)
      for (int c = 0; c < kDigitWidth * kDigitScale; ++c)
        if (digit_ink(s.digits[i], c / kDigitScale, r / kDigitScale)) {
          uint8_t* p = img.pixel(ox + c, oy + r);
          p[0] = p[1] = p[2] = clamp8(ink + static_cast<int>(rng.randint(-6, 7)));
        }
  }
  return img;
}

}  // namespace seva::synth
