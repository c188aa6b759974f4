// CLIP preprocessing against the fixture made by transformers 4.40 + Pillow 9.4: expand2square,
// Pillow's bicubic resize, centre crop, rescale and normalise. The resize tests start from
// Pillow's decoded pixels (`rgb.img{i}`) so the decoder and the resize are tested separately.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/decode.h"
#include "image/preprocess.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "test_helpers.h"

using namespace seva::image;

namespace {

Image image_from_tensor(const torch::Tensor& t) {  // uint8 [H, W, 3]
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.scalar_type(), torch::kUInt8);
  Image img(int(t.size(1)), int(t.size(0)));
  auto c = t.contiguous();
  std::memcpy(img.rgb.data(), c.data_ptr<uint8_t>(), img.rgb.size());
  return img;
}

struct Diff {
  double max_abs = 0;         // on the normalised values
  double max_grey = 0;        // |diff| · std · 255: in grey levels before normalisation
};

Diff compare(const torch::Tensor& got, const torch::Tensor& want, const PreprocessConfig& cfg) {
  EXPECT_EQ(got.sizes(), want.sizes());
  Diff d;
  if (got.sizes() != want.sizes()) {
    d.max_abs = d.max_grey = 1e9;
    return d;
  }
  for (int c = 0; c < 3; ++c) {
    const double m = (got[c] - want[c]).abs().max().item<double>();
    d.max_abs = std::max(d.max_abs, m);
    d.max_grey = std::max(d.max_grey, m * cfg.image_std[c] * 255.0);
  }
  return d;
}

PreprocessConfig config_for(int size) {
  PreprocessConfig cfg;
  cfg.shortest_edge = size;
  cfg.crop_height = cfg.crop_width = size;
  return cfg;
}

struct Fixture {
  nlohmann::json cases;
  seva::io::SafetensorsFile ref{seva::test::fixture_path("preprocess.safetensors")};
  Fixture() { cases = seva::io::read_json(seva::test::fixture_path("preprocess.json")); }
  Image rgb(int i) { return image_from_tensor(ref.get("rgb.img" + std::to_string(i))); }
};

int image_index(const std::string& name) { return name[3] - '0'; }  // "img1_40x120.jpg" → 1

}  // namespace

TEST(ImagePreprocess, PadBackgroundIsTruncatedMean) {
  Fixture f;
  auto bg = pad_background(PreprocessConfig{});
  EXPECT_EQ(int(bg[0]), 122);
  EXPECT_EQ(int(bg[1]), 116);
  EXPECT_EQ(int(bg[2]), 104);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(int(bg[c]), f.cases["pad_background_rgb"][c].get<int>());
}

TEST(ImagePreprocess, ExpandToSquareMatchesLlava) {
  Fixture f;
  const auto bg = pad_background(PreprocessConfig{});
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    Image sq = expand_to_square(f.rgb(i), bg);
    Image want = image_from_tensor(f.ref.get("square.img" + std::to_string(i)));
    ASSERT_EQ(sq.width, want.width);
    ASSERT_EQ(sq.height, want.height);
    EXPECT_TRUE(sq.rgb == want.rgb);
  }
  // Odd padding: 3 wide, 6 high → pasted at x = 1.
  Image tall(3, 6);
  std::fill(tall.rgb.begin(), tall.rgb.end(), 7);
  Image sq = expand_to_square(tall, {1, 2, 3});
  ASSERT_EQ(sq.width, 6);
  EXPECT_EQ(sq.at(0, 0, 0), 1);
  EXPECT_EQ(sq.at(0, 0, 2), 3);
  EXPECT_EQ(sq.at(1, 0, 0), 7);
  EXPECT_EQ(sq.at(3, 5, 1), 7);
  EXPECT_EQ(sq.at(4, 5, 1), 2);
}

TEST(ImagePreprocess, ShortestEdgeSizeTruncates) {
  EXPECT_EQ(shortest_edge_size(97, 61, 56), std::make_pair(89, 56));  // 56·97/61 = 89.05
  EXPECT_EQ(shortest_edge_size(40, 120, 56), std::make_pair(56, 168));
  EXPECT_EQ(shortest_edge_size(64, 64, 84), std::make_pair(84, 84));
  EXPECT_EQ(shortest_edge_size(640, 480, 336), std::make_pair(448, 336));
  EXPECT_EQ(shortest_edge_size(500, 333, 336), std::make_pair(504, 336));  // 504.504…
}

// The heart of it: pixel values of every fixture case, plain and padded, from Pillow's pixels.
TEST(ImagePreprocess, MatchesTransformersOnAllFixtureCases) {
  Fixture f;
  double worst_abs = 0, worst_grey = 0;
  int n = 0;
  for (const auto& c : f.cases["cases"]) {
    const int size = c["size"].get<int>();
    const int i = image_index(c["image"].get<std::string>());
    const PreprocessConfig cfg = config_for(size);
    for (ImageAspect aspect : {ImageAspect::None, ImageAspect::Pad}) {
      const std::string key =
          c[aspect == ImageAspect::Pad ? "pad_key" : "plain_key"].get<std::string>();
      SCOPED_TRACE(key);
      torch::Tensor got = preprocess(f.rgb(i), cfg, aspect);
      torch::Tensor want = f.ref.get(key).squeeze(0);
      ASSERT_EQ(got.scalar_type(), torch::kFloat32);
      ASSERT_EQ(got.sizes(), want.sizes());
      Diff d = compare(got, want, cfg);
      std::printf("[image] %-15s max |diff| = %.3g (normalised), %.3g grey levels\n", key.c_str(),
                  d.max_abs, d.max_grey);
      EXPECT_LE(d.max_grey, 2.0);
      EXPECT_LT(d.max_abs, 1e-5);
      EXPECT_NEAR(got.sum().item<double>(),
                  c[aspect == ImageAspect::Pad ? "pad_sum" : "plain_sum"].get<double>(), 1e-2);
      worst_abs = std::max(worst_abs, d.max_abs);
      worst_grey = std::max(worst_grey, d.max_grey);
      ++n;
    }
  }
  EXPECT_EQ(n, 12);
  std::printf("[image] all %d cases: worst max |diff| = %.3g normalised, %.3g grey levels\n", n,
              worst_abs, worst_grey);
}

// End to end from the files (decoder included), with the checkpoint's own preprocessor config.
TEST(ImagePreprocess, FromFilesWithTheCheckpointConfig) {
  Fixture f;
  const std::string cfg_path = seva::test::fixture_path("model_A/preprocessor_config.json");
  const PreprocessConfig cfg = PreprocessConfig::from_file(cfg_path);
  EXPECT_EQ(cfg.shortest_edge, 56);
  EXPECT_EQ(cfg.crop_height, 56);
  EXPECT_EQ(cfg.crop_width, 56);
  EXPECT_DOUBLE_EQ(cfg.rescale_factor, 1.0 / 255.0);
  EXPECT_DOUBLE_EQ(cfg.image_mean[1], 0.4578275);
  EXPECT_DOUBLE_EQ(cfg.image_std[2], 0.27577711);
  const char* images[3] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};
  for (int i = 0; i < 3; ++i) {
    for (ImageAspect aspect : {ImageAspect::None, ImageAspect::Pad}) {
      const std::string ref_key = (aspect == ImageAspect::Pad ? "s56.pad.img" : "s56.plain.img") +
                                  std::to_string(i);
      SCOPED_TRACE(ref_key);
      torch::Tensor got =
          preprocess_file(seva::test::fixture_path(std::string("images/") + images[i]), cfg, aspect);
      Diff d = compare(got, f.ref.get(ref_key).squeeze(0), cfg);
      EXPECT_LT(d.max_abs, 1e-5);
    }
  }
}

TEST(ImagePreprocess, ResizeKeepsConstantsAndIdentity) {
  Image img(13, 7);
  for (size_t i = 0; i < img.rgb.size(); i += 3) img.rgb[i] = 0, img.rgb[i + 1] = 255, img.rgb[i + 2] = 77;
  for (auto [w, h] : {std::pair{5, 3}, std::pair{40, 29}, std::pair{13, 20}, std::pair{2, 7}}) {
    Image r = resize_bicubic(img, w, h);
    ASSERT_EQ(r.width, w);
    ASSERT_EQ(r.height, h);
    for (size_t i = 0; i < r.rgb.size(); i += 3) {
      ASSERT_EQ(r.rgb[i], 0);
      ASSERT_EQ(r.rgb[i + 1], 255);
      ASSERT_EQ(r.rgb[i + 2], 77);
    }
  }
  Fixture f;
  Image a = f.rgb(0);
  EXPECT_TRUE(resize_bicubic(a, a.width, a.height).rgb == a.rgb);
  EXPECT_THROW(resize_bicubic(a, 0, 5), std::runtime_error);
}

TEST(ImagePreprocess, CenterCropAsTransformers) {
  Image img(5, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) img.pixel(x, y)[0] = uint8_t(10 * y + x + 1);
  Image c = center_crop(img, 2, 3);  // top = (4-3)//2 = 0, left = (5-2)//2 = 1
  ASSERT_EQ(c.width, 2);
  ASSERT_EQ(c.height, 3);
  EXPECT_EQ(c.at(0, 0, 0), 2);
  EXPECT_EQ(c.at(1, 2, 0), 23);

  // Smaller than the crop: zero padding, centred with ceil → the odd pixel on top/left.
  Image small(3, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) small.pixel(x, y)[1] = uint8_t(1 + 3 * y + x);
  Image p = center_crop(small, 6, 4);  // rows: 1 pad, 3 image; cols: 2 pad, 3 image, 1 pad
  ASSERT_EQ(p.width, 6);
  ASSERT_EQ(p.height, 4);
  for (int x = 0; x < 6; ++x) EXPECT_EQ(p.at(x, 0, 1), 0);
  EXPECT_EQ(p.at(1, 1, 1), 0);
  EXPECT_EQ(p.at(2, 1, 1), 1);
  EXPECT_EQ(p.at(4, 3, 1), 9);
  EXPECT_EQ(p.at(5, 3, 1), 0);

  // Mixed: wider than the crop, shorter than it.
  Image m = center_crop(img, 3, 6);  // left = 1; height 4 → 6: top pad 1
  ASSERT_EQ(m.height, 6);
  EXPECT_EQ(m.at(0, 0, 0), 0);
  EXPECT_EQ(m.at(0, 1, 0), 2);
  EXPECT_EQ(m.at(2, 4, 0), 34);
  EXPECT_EQ(m.at(2, 5, 0), 0);
}

TEST(ImagePreprocess, ExactSizeResizeAndNoCrop) {
  nlohmann::json j = {{"size", {{"height", 30}, {"width", 20}}},
                      {"do_center_crop", false},
                      {"do_normalize", false},
                      {"resample", 3}};
  PreprocessConfig cfg = PreprocessConfig::from_json(j, "pp.json");
  EXPECT_EQ(cfg.shortest_edge, 0);
  Fixture f;
  torch::Tensor t = preprocess(f.rgb(0), cfg, ImageAspect::None);
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{3, 30, 20}));
  Image r = resize_bicubic(f.rgb(0), 20, 30);
  EXPECT_FLOAT_EQ(t[1][4][7].item<float>(), float(r.at(7, 4, 1) * (1.0 / 255.0)));
}

TEST(ImagePreprocess, ConfigParsing) {
  PreprocessConfig d;
  EXPECT_EQ(d.shortest_edge, 224);
  EXPECT_EQ(d.crop_width, 224);
  EXPECT_TRUE(d.do_resize && d.do_center_crop && d.do_rescale && d.do_normalize);

  PreprocessConfig a = PreprocessConfig::from_json(
      {{"size", 336}, {"crop_size", 336}, {"_valid_processor_keys", {"images"}}, {"foo", 1}},
      "a.json");
  EXPECT_EQ(a.shortest_edge, 336);
  EXPECT_EQ(a.crop_height, 336);
  EXPECT_EQ(a.crop_width, 336);

  auto refused = [](const nlohmann::json& j, const std::string& what) {
    try {
      PreprocessConfig::from_json(j, "dir/preprocessor_config.json");
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const std::runtime_error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("dir/preprocessor_config.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  refused({{"resample", 2}}, "bilinear");
  refused({{"resample", 2}}, "resample");
  refused({{"size", {{"longest_edge", 3}}}}, "size");
  refused({{"size", -4}}, "size");
  refused({{"crop_size", "big"}}, "crop_size");
  refused({{"image_mean", {0.5, 0.5}}}, "image_mean");
  refused({{"image_std", {0.5, 0.0, 0.5}}}, "image_std");
  refused({{"do_resize", "yes"}}, "do_resize");
  refused({{"image_processor_type", "SiglipImageProcessor"}}, "SiglipImageProcessor");
  refused(nlohmann::json::array(), "object");

  EXPECT_EQ(parse_image_aspect("pad"), ImageAspect::Pad);
  EXPECT_EQ(parse_image_aspect("none"), ImageAspect::None);
  EXPECT_THROW(parse_image_aspect("anyres"), std::runtime_error);
}
