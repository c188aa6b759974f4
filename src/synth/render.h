// Drawing a scene: a mid-grey textured background, filled shapes, grey occluder bars, and the digit
// string in a built-in 5×7 bitmap font on a light strip. Pure function of the scene.
#pragma once
#include <array>
#include <cstdint>

#include "image/image.h"
#include "synth/scene.h"

namespace seva::synth {

// The full-strength RGB of each colour, and what a low-contrast object is mixed towards.
extern const std::array<std::array<uint8_t, 3>, kColors> kColorRgb;
constexpr int kBackgroundGrey = 128;
constexpr double kLowContrastMix = 0.6;  // fraction of grey in a low-contrast object's colour
constexpr int kBarGrey = 72;
constexpr int kDigitWidth = 5, kDigitHeight = 7, kDigitScale = 2, kDigitSlot = 16;

// Whether pixel (x, y) lies inside the object's shape (ignoring bars).
bool object_covers(const Object& o, int x, int y);
// Whether pixel (x, y) lies under the bar.
bool bar_covers(const Bar& b, int x, int y);
// Whether the glyph of digit d ('0'..'9') has ink at (col, row), col < 5, row < 7.
bool digit_ink(char d, int col, int row);
// The top-left corner of digit i of the scene's string.
void digit_origin(const Scene& s, int i, int* x, int* y);

image::Image render_scene(const Scene& s);

}  // namespace seva::synth
