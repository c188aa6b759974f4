// An 8-bit RGB image in memory: what every decoder produces and every transform consumes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace seva::image {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height × width × 3, row-major, no padding between rows

  Image() = default;
  Image(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}

  bool empty() const { return width <= 0 || height <= 0; }
  size_t size_bytes() const { return rgb.size(); }
  size_t offset(int x, int y) const { return (static_cast<size_t>(y) * width + x) * 3; }
  uint8_t* pixel(int x, int y) { return rgb.data() + offset(x, y); }
  const uint8_t* pixel(int x, int y) const { return rgb.data() + offset(x, y); }
  uint8_t at(int x, int y, int c) const { return rgb[offset(x, y) + c]; }
  uint8_t* row(int y) { return rgb.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return rgb.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace seva::image
