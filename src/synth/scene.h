// The synthetic world's scenes: what is in an image (objects in a 3×2 grid, a digit string), the
// priors they are drawn from, and dataset statistics (object frequencies, co-occurrence) that the
// POPE-style "popular" and "adversarial" negatives use. Every scene is a pure function of
// (seed, split, index), so any item can be regenerated alone.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace seva::synth {

constexpr int kImageSize = 48;   // square: a llava-hf CLIP config has one image_size
constexpr int kCell = 16;        // grid cell side, pixels
constexpr int kGridCols = 3, kGridRows = 2, kCells = kGridCols * kGridRows;
constexpr int kTextTop = kGridRows * kCell;  // rows [32, 48): the digit strip
constexpr int kColors = 4, kShapes = 3, kKinds = kColors * kShapes;
constexpr double kPreferredColorProb = 0.55;

extern const std::array<const char*, kColors> kColorNames;      // red green blue yellow
extern const std::array<const char*, kShapes> kShapeNames;      // circle square triangle
extern const std::array<const char*, kShapes> kShapePlurals;    // circles squares triangles
extern const std::array<const char*, kGridRows> kRowNames;      // top bottom
extern const std::array<const char*, kGridCols> kColNames;      // left middle right
extern const std::array<int, kShapes> kPreferredColor;          // circle→red, square→blue, triangle→green
extern const std::array<int, kShapes> kPartnerShape;            // circle↔square, triangle↔triangle

// A kind is a (colour, shape) pair: kind = shape * kColors + colour.
inline int kind_of(int color, int shape) { return shape * kColors + color; }
inline int kind_color(int kind) { return kind % kColors; }
inline int kind_shape(int kind) { return kind / kColors; }
std::string kind_name(int kind);  // "red circle"
// "top left" for cell 0; cells are row-major: row = cell / 3, column = cell % 3.
std::string cell_name(int cell);

enum class Hard : uint8_t { none = 0, small, low_contrast, occluded };
const char* hard_name(Hard h);  // "", "small", "low_contrast", "occluded"

struct Object {
  int color = 0, shape = 0;
  int cell = 0;
  int size = 12;       // bounding box side in pixels: 9–14, small ones 6–8
  int dx = 0, dy = 0;  // the centre's offset from the cell centre
  Hard hard = Hard::none;
  int kind() const { return kind_of(color, shape); }
};

// A grey bar across a whole cell (an occluder over a hidden object, or a decoy in an empty cell).
struct Bar {
  int cell = 0;
  bool vertical = false;
  int offset = 0;  // of the bar's centre line from the centre of the cell's centre pixel, pixels
};

struct Scene {
  std::vector<Object> objects;  // in cell order, at most one per cell
  std::vector<Bar> bars;
  std::string digits;           // 2–3 digits, no leading zero
  std::vector<int> digit_dx, digit_dy;  // per digit jitter, -1..1
  bool text_low_contrast = false;
  uint64_t noise_seed = 0;      // the background/texture noise stream

  const Object* object_in(int cell) const;  // nullptr when the cell is empty
  bool has_kind(int kind) const;
  int count_shape(int shape) const;
};

// The scene of item `index` of `split` ("train", "pool", "bench", ...) under `seed`.
Scene sample_scene(uint64_t seed, const std::string& split, int64_t index);

// Object statistics of a sample of scenes (POPE builds its negatives from the dataset's own).
struct WorldStats {
  std::array<int64_t, kKinds> frequency{};                   // images holding each kind
  std::array<std::array<int64_t, kKinds>, kKinds> cooccur{};  // images holding both
  std::vector<int> by_frequency;                              // kinds, most frequent first
  int64_t scenes = 0;
};
// From scenes 0..n-1 of the "stats" split: independent of the split sizes asked for.
WorldStats compute_stats(uint64_t seed, int64_t n = 4000);

}  // namespace seva::synth
