#include "synth/scene.h"

#include "util/rng.h"

#include <algorithm>
#include <numeric>

namespace seva::synth {

const std::array<const char*, kColors> kColorNames = {"red", "green", "blue", "yellow"};
const std::array<const char*, kShapes> kShapeNames = {"circle", "square", "triangle"};
const std::array<const char*, kShapes> kShapePlurals = {"circles", "squares", "triangles"};
const std::array<const char*, kGridRows> kRowNames = {"top", "bottom"};
const std::array<const char*, kGridCols> kColNames = {"left", "middle", "right"};
const std::array<int, kShapes> kPreferredColor = {0, 2, 1};
const std::array<int, kShapes> kPartnerShape = {1, 0, 2};

namespace {

// Objects per image: 1..4 with these weights (answer frequencies are not uniform, as in real data).
constexpr std::array<double, 4> kCountWeights = {0.2, 0.3, 0.3, 0.2};
constexpr double kHardProb = 0.2;         // an object is small, low-contrast or occluded
constexpr double kPartnerBoost = 3.0;     // a shape's weight is 1 + this when its partner is present
constexpr double kDecoyBarProb = 0.12;    // an empty cell gets an occluder-like bar
constexpr double kTextLowContrastProb = 0.15;

// Index drawn with probability proportional to w (some w > 0).
int weighted(util::Rng& rng, const double* w, int n) {
  double total = 0;
  for (int i = 0; i < n; ++i) total += w[i];
  double u = rng.uniform() * total;
  int last = 0;
  for (int i = 0; i < n; ++i) {
    if (w[i] <= 0) continue;
    last = i;
    if (u < w[i]) return i;
    u -= w[i];
  }
  return last;
}

}  // namespace

std::string kind_name(int kind) {
  return std::string(kColorNames[kind_color(kind)]) + " " + kShapeNames[kind_shape(kind)];
}

std::string cell_name(int cell) {
  return std::string(kRowNames[cell / kGridCols]) + " " + kColNames[cell % kGridCols];
}

const char* hard_name(Hard h) {
  switch (h) {
    case Hard::small: return "small";
    case Hard::low_contrast: return "low_contrast";
    case Hard::occluded: return "occluded";
    default: return "";
  }
}

const Object* Scene::object_in(int cell) const {
  for (const auto& o : objects)
    if (o.cell == cell) return &o;
  return nullptr;
}

bool Scene::has_kind(int kind) const {
  for (const auto& o : objects)
    if (o.kind() == kind) return true;
  return false;
}

int Scene::count_shape(int shape) const {
  int n = 0;
  for (const auto& o : objects) n += o.shape == shape;
  return n;
}

Scene sample_scene(uint64_t seed, const std::string& split, int64_t index) {
  util::Rng rng(util::hash_key(seed, "scene/" + split, std::to_string(index)));
  Scene s;
  const int n = 1 + weighted(rng, kCountWeights.data(), 4);
  std::vector<size_t> cells = rng.sample(kCells, static_cast<size_t>(n));
  std::sort(cells.begin(), cells.end());
  std::array<std::array<bool, kColors>, kShapes> used{};
  std::vector<Object> drawn;
  for (int i = 0; i < n; ++i) {
    // Shape: co-occurrence prior (a present shape makes its partner likelier).
    double ws[kShapes];
    for (int sh = 0; sh < kShapes; ++sh) {
      bool partner_present = false;
      for (const auto& o : drawn) partner_present = partner_present || kPartnerShape[o.shape] == sh;
      bool free_colour = false;
      for (int c = 0; c < kColors; ++c) free_colour = free_colour || !used[sh][c];
      ws[sh] = free_colour ? 1.0 + (partner_present ? kPartnerBoost : 0.0) : 0.0;
    }
    Object o;
    o.shape = weighted(rng, ws, kShapes);
    // Colour: the shape's preferred colour with probability 0.55, no repeated colour-shape pair.
    double wc[kColors];
    for (int c = 0; c < kColors; ++c) {
      const double p = c == kPreferredColor[o.shape] ? kPreferredColorProb : (1 - kPreferredColorProb) / (kColors - 1);
      wc[c] = used[o.shape][c] ? 0.0 : p;
    }
    o.color = weighted(rng, wc, kColors);
    used[o.shape][o.color] = true;
    drawn.push_back(o);
  }
  // Draw order does not tell which cell: objects are placed in a random order of the chosen cells.
  std::vector<size_t> order = rng.permutation(drawn.size());
  for (int i = 0; i < n; ++i) {
    Object o = drawn[order[i]];
    o.cell = static_cast<int>(cells[i]);
    if (rng.bernoulli(kHardProb)) o.hard = static_cast<Hard>(1 + rng.randint(0, 3));
    o.size = o.hard == Hard::small ? static_cast<int>(rng.randint(6, 9)) : static_cast<int>(rng.randint(9, 15));
    const int j = std::min(2, (kCell - o.size) / 2);
    o.dx = static_cast<int>(rng.randint(-j, j + 1));
    o.dy = static_cast<int>(rng.randint(-j, j + 1));
    if (o.hard == Hard::occluded) {
      Bar b;
      b.cell = o.cell;
      b.vertical = rng.bernoulli(0.5);
      const int off = static_cast<int>(rng.randint(3, 5));
      b.offset = (rng.bernoulli(0.5) ? off : -off) + (b.vertical ? o.dx : o.dy);
      s.bars.push_back(b);
    }
    s.objects.push_back(o);
  }
  for (int c = 0; c < kCells; ++c) {
    if (s.object_in(c) || !rng.bernoulli(kDecoyBarProb)) continue;
    Bar b;
    b.cell = c;
    b.vertical = rng.bernoulli(0.5);
    b.offset = static_cast<int>(rng.randint(-4, 5));
    s.bars.push_back(b);
  }
  std::sort(s.bars.begin(), s.bars.end(), [](const Bar& a, const Bar& b) { return a.cell < b.cell; });
  const int nd = static_cast<int>(rng.randint(2, 4));
  for (int i = 0; i < nd; ++i) {
    s.digits += static_cast<char>('0' + (i == 0 ? rng.randint(1, 10) : rng.randint(0, 10)));
    s.digit_dx.push_back(static_cast<int>(rng.randint(-1, 2)));
    s.digit_dy.push_back(static_cast<int>(rng.randint(-1, 2)));
  }
  s.text_low_contrast = rng.bernoulli(kTextLowContrastProb);
  s.noise_seed = rng.next();
  return s;
}

WorldStats compute_stats(uint64_t seed, int64_t n) {
  WorldStats st;
  st.scenes = n;
  for (int64_t i = 0; i < n; ++i) {
    Scene s = sample_scene(seed, "stats", i);
    for (const auto& a : s.objects) {
      ++st.frequency[a.kind()];
      for (const auto& b : s.objects)
        if (a.kind() != b.kind()) ++st.cooccur[a.kind()][b.kind()];
    }
  }
  st.by_frequency.resize(kKinds);
  std::iota(st.by_frequency.begin(), st.by_frequency.end(), 0);
  std::stable_sort(st.by_frequency.begin(), st.by_frequency.end(),
                   [&](int a, int b) { return st.frequency[a] > st.frequency[b]; });
  return st;
}

}  // namespace seva::synth
