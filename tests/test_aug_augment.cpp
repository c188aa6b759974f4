// Augmentations: exact flips, crop ranges, every AutoAugment operation, spec parsing, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "image/augment_ops.h"
#include "image/decode.h"
#include "aug/augment.h"
#include "aug/augment_policies.h"
#include "test_helpers.h"

using namespace seva;
using image::Image;

namespace {

Image random_image(int w, int h, uint64_t seed) {
  Image img(w, h);
  util::Rng rng(seed);
  for (auto& v : img.rgb) v = static_cast<uint8_t>(rng.randint(0, 256));
  return img;
}

// A smooth image with structure (gradients), so operations have something to change.
Image gradient_image(int w, int h) {
  Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = img.pixel(x, y);
      p[0] = static_cast<uint8_t>(255 * x / std::max(1, w - 1));
      p[1] = static_cast<uint8_t>(255 * y / std::max(1, h - 1));
      p[2] = static_cast<uint8_t>((x * 7 + y * 3) % 200 + 20);
    }
  return img;
}

}  // namespace

TEST(SevaAugment, FlipIsAnExactMirror) {
  Image img = random_image(13, 7, 1);
  Image f = image::hflip(img);
  ASSERT_EQ(f.width, 13);
  ASSERT_EQ(f.height, 7);
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 13; ++x)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(f.at(x, y, c), img.at(12 - x, y, c));
  EXPECT_EQ(image::hflip(f).rgb, img.rgb);
  // Through the spec, with the default probability 1.
  util::Rng rng(0);
  EXPECT_EQ(aug::apply_pixel_steps(aug::parse_spec("flip"), img, rng, {}).rgb, f.rgb);
}

TEST(SevaAugment, RandomResizedCropStaysInScaleAndRatio) {
  const int W = 200, H = 150;
  for (auto [smin, smax] : {std::pair{0.36, 0.64}, std::pair{0.2, 1.0}}) {
    for (uint64_t s = 0; s < 500; ++s) {
      util::Rng rng(s);
      auto b = aug::rrc_params(W, H, smin, smax, 3.0 / 4, 4.0 / 3, rng);
      ASSERT_GE(b.left, 0);
      ASSERT_GE(b.top, 0);
      ASSERT_LE(b.left + b.width, W);
      ASSERT_LE(b.top + b.height, H);
      // w and h are the rounded sqrt(area·r), sqrt(area/r): some unrounded pair within half a
      // pixel of them has its area and ratio inside the ranges.
      const double w = b.width, h = b.height, A = double(W) * H;
      EXPECT_GE((w + 0.5) * (h + 0.5), smin * A) << s;
      EXPECT_LE((w - 0.5) * (h - 0.5), smax * A) << s;
      EXPECT_GE((w + 0.5) / (h - 0.5), 3.0 / 4) << s;
      EXPECT_LE((w - 0.5) / (h + 0.5), 4.0 / 3) << s;
    }
  }
}

TEST(SevaAugment, RandomResizedCropFallsBackToTheCentre) {
  // A 1000×10 strip: no crop of ratio ≤ 4/3 with area ≥ 0.36 fits, so the central crop, ratio 4/3.
  util::Rng rng(3);
  auto b = aug::rrc_params(1000, 10, 0.36, 0.64, 3.0 / 4, 4.0 / 3, rng);
  EXPECT_EQ(b.height, 10);
  EXPECT_EQ(b.width, 13);
  EXPECT_EQ(b.left, (1000 - 13) / 2);
  EXPECT_EQ(b.top, 0);
}

TEST(SevaAugment, RrcropAndMocoGiveSquares) {
  Image img = gradient_image(97, 61);
  util::Rng rng(5);
  aug::Context ctx;
  ctx.out_size = 56;
  auto r = aug::apply_pixel_steps(aug::parse_spec("rrcrop"), img, rng, ctx);
  EXPECT_EQ(r.width, 56);
  EXPECT_EQ(r.height, 56);
  auto m = aug::moco(img, rng);
  EXPECT_EQ(m.width, 224);
  EXPECT_EQ(m.height, 224);
}

TEST(SevaAugment, EveryAutoAugmentOperationYieldsAValidImage) {
  Image img = gradient_image(40, 30);
  for (const auto& op : aug::op_names()) {
    for (double m : {-0.9, -0.3, 0.0, 0.3, 0.9, 4.0, 7.0, 30.0, 128.0}) {
      double mag = m;
      if (op == "Posterize") mag = std::clamp(std::fabs(m), 1.0, 8.0);
      if (op.rfind("Shear", 0) == 0) mag = std::clamp(m, -0.3, 0.3);
      if (op == "Brightness" || op == "Color" || op == "Contrast" || op == "Sharpness") mag = std::clamp(m, -0.9, 0.9);
      Image out = aug::apply_op(img, op, mag);
      ASSERT_EQ(out.width, img.width) << op;
      ASSERT_EQ(out.height, img.height) << op;
      ASSERT_EQ(out.rgb.size(), img.rgb.size()) << op;
    }
  }
  // Every sub-policy, reached by many seeds, keeps the size.
  for (uint64_t s = 0; s < 200; ++s) {
    util::Rng rng(s);
    Image out = aug::auto_augment(img, rng);
    ASSERT_EQ(out.rgb.size(), img.rgb.size());
  }
}

TEST(SevaAugment, OperationsFollowTheirDefinitions) {
  Image img = gradient_image(32, 24);
  EXPECT_EQ(image::invert(image::invert(img)).rgb, img.rgb);
  EXPECT_EQ(image::solarize(img, 0).rgb, image::invert(img).rgb);
  EXPECT_EQ(image::solarize(img, 256).rgb, img.rgb);
  EXPECT_EQ(image::posterize(img, 8).rgb, img.rgb);
  for (uint8_t v : image::posterize(img, 2).rgb) EXPECT_EQ(v & 0x3f, 0);
  EXPECT_EQ(image::rotate(img, 0).rgb, img.rgb);
  EXPECT_EQ(image::adjust_brightness(img, 1.0).rgb, img.rgb);
  EXPECT_EQ(image::adjust_contrast(img, 1.0).rgb, img.rgb);
  EXPECT_EQ(image::adjust_saturation(img, 1.0).rgb, img.rgb);
  EXPECT_EQ(image::adjust_sharpness(img, 1.0).rgb, img.rgb);
  EXPECT_EQ(image::adjust_saturation(img, 0.0).rgb, image::grayscale(img).rgb);
  for (uint8_t v : image::adjust_brightness(img, 0.0).rgb) EXPECT_EQ(v, 0);
  // Rotating by 180° about the centre of an even-sized image is a point mirror.
  Image r = image::rotate(img, 180);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 32; ++x) ASSERT_EQ(r.at(x, y, 0), img.at(31 - x, 23 - y, 0)) << x << "," << y;
  // Autocontrast stretches each channel to the full range.
  Image low(4, 1);
  for (int x = 0; x < 4; ++x) low.pixel(x, 0)[0] = low.pixel(x, 0)[1] = low.pixel(x, 0)[2] = uint8_t(100 + 10 * x);
  auto ac = image::autocontrast(low);
  EXPECT_EQ(ac.at(0, 0, 0), 0);
  EXPECT_EQ(ac.at(3, 0, 0), 255);
  // Equalize leaves a constant image alone.
  Image flat(5, 5);
  std::fill(flat.rgb.begin(), flat.rgb.end(), 77);
  EXPECT_EQ(image::equalize(flat).rgb, flat.rgb);
  // Hue shift of a full turn's half twice returns the colour (up to rounding).
  Image h2 = image::adjust_hue(image::adjust_hue(img, 0.5), -0.5);
  for (size_t i = 0; i < img.rgb.size(); ++i) ASSERT_NEAR(h2.rgb[i], img.rgb[i], 2);
  // A blur keeps a constant image constant.
  EXPECT_EQ(image::gaussian_blur(flat, 3, 1.5).rgb, flat.rgb);
}

TEST(SevaAugment, SpecsParseWithDefaultsAndRefuseBadOnes) {
  EXPECT_EQ(aug::parse_spec("rrcrop").canonical(), "rrcrop:0.36-0.64");
  EXPECT_EQ(aug::parse_spec("rrcrop:0.2-0.5").canonical(), "rrcrop:0.2-0.5");
  EXPECT_EQ(aug::parse_spec("diffusion").canonical(), "diffusion:500");
  auto s = aug::parse_spec(" flip+diffusion:300 ");
  EXPECT_EQ(s.text, "flip+diffusion:300");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_FALSE(s.steps[0].tensor_space);
  EXPECT_TRUE(s.steps[1].tensor_space);
  EXPECT_TRUE(aug::parse_spec("none").identity());
  for (const char* bad : {"blurry", "diffusion:1000", "diffusion:-1", "diffusion:12.5", "rrcrop:0.7-0.5", "rrcrop:0-0.5",
                          "flip:2", "diffusion:300+flip", "flip+", "+flip", "autoaug:3", "posterize:9", "", "rrcrop:a-b"}) {
    try {
      aug::parse_spec(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("valid augmentations"), std::string::npos) << msg;
      EXPECT_NE(msg.find("rrcrop[:MIN-MAX]"), std::string::npos) << msg;
      EXPECT_NE(msg.find("diffusion[:T]"), std::string::npos) << msg;
    }
  }
}

TEST(SevaAugment, EverySpecMakesAValidViewDeterministically) {
  Image img = image::decode_image(seva::test::fixture_path("images/img0_97x61.png"));
  image::PreprocessConfig cfg;
  cfg.shortest_edge = 56;
  cfg.crop_width = cfg.crop_height = 56;
  for (const char* spec : {"none", "flip", "rrcrop", "autoaug", "randaug", "moco", "simclr", "byol", "rotate",
                           "perspective", "affine", "posterize", "solarize", "equalize", "invert", "autocontrast",
                           "sharpness", "grayscale", "jitter", "blur", "diffusion:500", "flip+diffusion:300",
                           "rrcrop:0.2-0.4+jitter:0.2-0.2-0.2-0.05"}) {
    auto sp = aug::parse_spec(spec);
    auto a = aug::make_view(sp, img, cfg, image::ImageAspect::Pad, 7, "item-1");
    auto b = aug::make_view(sp, img, cfg, image::ImageAspect::Pad, 7, "item-1");
    ASSERT_EQ(a.sizes(), (std::vector<int64_t>{3, 56, 56})) << spec;
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>()) << spec;
    EXPECT_TRUE(torch::equal(a, b)) << spec << ": same seed and id must give the same view";
  }
  // The stream depends on seed and id.
  auto sp = aug::parse_spec("moco+diffusion:300");
  auto a = aug::make_view(sp, img, cfg, image::ImageAspect::Pad, 7, "item-1");
  EXPECT_FALSE(torch::equal(a, aug::make_view(sp, img, cfg, image::ImageAspect::Pad, 8, "item-1")));
  EXPECT_FALSE(torch::equal(a, aug::make_view(sp, img, cfg, image::ImageAspect::Pad, 7, "item-2")));
  // "none" is exactly the original preprocessing.
  EXPECT_TRUE(torch::equal(aug::make_view(aug::parse_spec("none"), img, cfg, image::ImageAspect::Pad, 1, "x"),
                           image::preprocess(img, cfg, image::ImageAspect::Pad)));
}
