// The synthetic world's scenes and rendering: determinism, priors, hard cases, pixels.
#include <gtest/gtest.h>

#include <set>

#include "image/encode.h"
#include "synth/render.h"
#include "synth/scene.h"

using namespace seva;
using namespace seva::synth;

namespace {

bool same_scene(const Scene& a, const Scene& b) {
  if (a.objects.size() != b.objects.size() || a.digits != b.digits || a.noise_seed != b.noise_seed) return false;
  for (size_t i = 0; i < a.objects.size(); ++i) {
    const auto &x = a.objects[i], &y = b.objects[i];
    if (x.kind() != y.kind() || x.cell != y.cell || x.size != y.size || x.dx != y.dx || x.dy != y.dy || x.hard != y.hard)
      return false;
  }
  return true;
}

// Colour distance to a reference RGB (max over channels).
int dist(const uint8_t* p, const std::array<uint8_t, 3>& rgb) {
  int d = 0;
  for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(int(p[c]) - int(rgb[c])));
  return d;
}

}  // namespace

TEST(SynthScene, SameKeySameSceneAndBytesOtherKeysDiffer) {
  for (int64_t i : {0, 1, 777}) {
    const Scene a = sample_scene(5, "train", i), b = sample_scene(5, "train", i);
    EXPECT_TRUE(same_scene(a, b));
    EXPECT_EQ(image::encode_png(render_scene(a)), image::encode_png(render_scene(b)));
  }
  int differ_seed = 0, differ_split = 0;
  for (int64_t i = 0; i < 50; ++i) {
    const Scene a = sample_scene(5, "train", i);
    differ_seed += render_scene(a).rgb != render_scene(sample_scene(6, "train", i)).rgb;
    differ_split += render_scene(a).rgb != render_scene(sample_scene(5, "bench", i)).rgb;
  }
  EXPECT_EQ(differ_seed, 50);
  EXPECT_EQ(differ_split, 50);
}

TEST(SynthScene, ScenesFollowTheRules) {
  for (int64_t i = 0; i < 2000; ++i) {
    const Scene s = sample_scene(1, "train", i);
    ASSERT_GE(s.objects.size(), 1u);
    ASSERT_LE(s.objects.size(), 4u);
    std::set<int> cells, kinds;
    for (const auto& o : s.objects) {
      cells.insert(o.cell);
      kinds.insert(o.kind());
      EXPECT_GE(o.size, o.hard == Hard::small ? 6 : 9);
      EXPECT_LE(o.size, o.hard == Hard::small ? 8 : 14);
      // The object stays inside its cell.
      EXPECT_LE(o.size / 2.0 + std::abs(o.dx), kCell / 2.0);
      EXPECT_LE(o.size / 2.0 + std::abs(o.dy), kCell / 2.0);
    }
    EXPECT_EQ(cells.size(), s.objects.size()) << "distinct cells";
    EXPECT_EQ(kinds.size(), s.objects.size()) << "no repeated colour-shape pair";
    ASSERT_GE(s.digits.size(), 2u);
    ASSERT_LE(s.digits.size(), 3u);
    EXPECT_NE(s.digits[0], '0');
  }
}

TEST(SynthScene, LanguagePriorsAndHardCases) {
  int64_t shape_total[kShapes] = {}, shape_pref[kShapes] = {}, objects = 0, hard = 0;
  int64_t single_total[kShapes] = {}, single_pref[kShapes] = {};  // shapes that appear once
  int64_t with_circle = 0, square_with_circle = 0, without_circle = 0, square_without_circle = 0;
  int64_t counts[5] = {};
  for (int64_t i = 0; i < 6000; ++i) {
    const Scene s = sample_scene(2, "train", i);
    ++counts[s.objects.size()];
    for (const auto& o : s.objects) {
      ++shape_total[o.shape];
      shape_pref[o.shape] += o.color == kPreferredColor[o.shape];
      ++objects;
      hard += o.hard != Hard::none;
      if (s.count_shape(o.shape) == 1) {
        ++single_total[o.shape];
        single_pref[o.shape] += o.color == kPreferredColor[o.shape];
      }
    }
    // Co-occurrence, among scenes with at least two objects: a circle makes a square likelier.
    if (s.objects.size() < 2) continue;
    const bool circle = s.count_shape(0) > 0, square = s.count_shape(1) > 0;
    if (circle) ++with_circle, square_with_circle += square;
    else ++without_circle, square_without_circle += square;
  }
  for (int sh = 0; sh < kShapes; ++sh) {
    // What "What color is the circle?" (asked when the shape appears once) can lean on: 0.55.
    EXPECT_NEAR(double(single_pref[sh]) / single_total[sh], 0.55, 0.025) << kShapeNames[sh];
    // Over all objects a little less: a second object of a shape cannot repeat the pair.
    const double p = double(shape_pref[sh]) / shape_total[sh];
    EXPECT_GT(p, 0.38) << kShapeNames[sh];
    EXPECT_LT(p, 0.56) << kShapeNames[sh];
    EXPECT_GT(p, 2 * (1 - p) / 3) << kShapeNames[sh];  // still twice any other colour
  }
  EXPECT_NEAR(double(hard) / objects, 0.2, 0.02);
  EXPECT_GT(double(square_with_circle) / with_circle, 1.3 * double(square_without_circle) / without_circle);
  // Object counts are not uniform: 2 and 3 are the commonest.
  EXPECT_GT(counts[2], counts[1]);
  EXPECT_GT(counts[3], counts[4]);
}

TEST(SynthScene, StatsRankFrequentKindsAndCooccurrence) {
  const WorldStats st = compute_stats(0, 3000);
  ASSERT_EQ(st.by_frequency.size(), size_t(kKinds));
  // The preferred pairs are the three most frequent kinds.
  std::set<int> top3(st.by_frequency.begin(), st.by_frequency.begin() + 3);
  for (int sh = 0; sh < kShapes; ++sh) EXPECT_TRUE(top3.count(kind_of(kPreferredColor[sh], sh))) << sh;
  EXPECT_EQ(st.cooccur[kind_of(0, 0)][kind_of(2, 1)], st.cooccur[kind_of(2, 1)][kind_of(0, 0)]);
  EXPECT_EQ(kind_name(kind_of(2, 1)), "blue square");
  EXPECT_EQ(cell_name(0), "top left");
  EXPECT_EQ(cell_name(4), "bottom middle");
}

TEST(SynthRender, AKnownSceneHasItsColoursAtTheObjectCentres) {
  Scene s;
  s.objects = {{0, 0, 0, 12, 0, 0, Hard::none},     // red circle, top left
               {2, 1, 2, 10, 1, -1, Hard::none},    // blue square, top right
               {3, 2, 4, 14, 0, 1, Hard::none},     // yellow triangle, bottom middle
               {1, 0, 5, 12, 0, 0, Hard::low_contrast}};  // faint green circle, bottom right
  s.digits = "472";
  s.digit_dx = {0, 1, -1};
  s.digit_dy = {0, 0, 1};
  s.noise_seed = 99;
  const image::Image img = render_scene(s);
  ASSERT_EQ(img.width, kImageSize);
  ASSERT_EQ(img.height, kImageSize);
  auto centre = [](const Object& o, int* x, int* y) {
    *x = (o.cell % 3) * kCell + kCell / 2 + o.dx;
    *y = (o.cell / 3) * kCell + kCell / 2 + o.dy;
  };
  for (size_t i = 0; i < 3; ++i) {
    int x, y;
    centre(s.objects[i], &x, &y);
    EXPECT_LE(dist(img.pixel(x, y), kColorRgb[s.objects[i].color]), 8) << i;
  }
  {  // low contrast: 40% colour, 60% grey
    int x, y;
    centre(s.objects[3], &x, &y);
    const uint8_t* p = img.pixel(x, y);
    EXPECT_NEAR(p[1], 0.4 * 170 + 0.6 * 128, 9);
    EXPECT_NEAR(p[0], 0.4 * 45 + 0.6 * 128, 9);
  }
  // Empty cell (top middle): grey background, channels close to each other.
  const uint8_t* bg = img.pixel(24, 8);
  EXPECT_NEAR(bg[0], 128, 32);
  EXPECT_LE(std::abs(int(bg[0]) - int(bg[2])), 10);
  // The triangle's apex row is narrow; its base row is wide.
  EXPECT_FALSE(object_covers(s.objects[2], 24 - 4, 16 + 8 + 1 - 6));
  EXPECT_TRUE(object_covers(s.objects[2], 24 - 4, 16 + 8 + 1 + 6));
  // Digits: the font at 2×, dark ink where the font has ink, the background's grey elsewhere.
  int inked = 0, paper = 0, font_ink = 0;
  const int w = kDigitWidth * kDigitScale, h = kDigitHeight * kDigitScale;
  for (int i = 0; i < 3; ++i) {
    int ox, oy;
    digit_origin(s, i, &ox, &oy);
    EXPECT_GE(oy, kTextTop);
    EXPECT_LE(oy + h, kImageSize);
    // Inside its own 16-px slot: three digits fill the 48-px strip without touching.
    EXPECT_GE(ox, kDigitSlot * i) << "digit " << i;
    EXPECT_LE(ox + w, kDigitSlot * (i + 1)) << "digit " << i;
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        const uint8_t v = img.pixel(ox + c, oy + r)[0];
        if (digit_ink(s.digits[i], c / kDigitScale, r / kDigitScale)) {
          inked += v < 60;
          ++font_ink;
        } else {
          paper += std::abs(int(v) - kBackgroundGrey) < 16;
        }
      }
  }
  EXPECT_EQ(inked, font_ink);
  EXPECT_GT(font_ink, 4 * 30);
  for (int r = 0; r < kDigitHeight; ++r) EXPECT_TRUE(digit_ink('1', 2, r)) << r;  // the stem of a 1
  EXPECT_GT(paper, 4 * 40);
}

TEST(SynthRender, OccluderBarsHideAPartButNotTheCentre) {
  int checked = 0;
  for (int64_t i = 0; i < 400 && checked < 20; ++i) {
    const Scene s = sample_scene(3, "train", i);
    const image::Image img = render_scene(s);
    for (const auto& o : s.objects) {
      if (o.hard != Hard::occluded) continue;
      const Bar* bar = nullptr;
      for (const auto& b : s.bars)
        if (b.cell == o.cell) bar = &b;
      ASSERT_NE(bar, nullptr);
      int covered = 0, hidden = 0;
      for (int y = 0; y < kTextTop; ++y)
        for (int x = 0; x < kImageSize; ++x)
          if (object_covers(o, x, y)) {
            ++covered;
            if (bar_covers(*bar, x, y)) {
              ++hidden;
              EXPECT_EQ(img.pixel(x, y)[0], kBarGrey);
            }
          }
      EXPECT_GT(hidden, 0);
      EXPECT_LT(hidden, covered * 3 / 4);
      const int cx = (o.cell % 3) * kCell + kCell / 2 + o.dx, cy = (o.cell / 3) * kCell + kCell / 2 + o.dy;
      EXPECT_FALSE(bar_covers(*bar, cx, cy));
      EXPECT_LE(dist(img.pixel(cx, cy), kColorRgb[o.color]), 8);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 20);
}
