// PNG encoding: round trips through the project's own decoder, deterministic bytes.
#include <gtest/gtest.h>

#include "image/decode.h"
#include "image/encode.h"
#include "io/files.h"
#include "test_helpers.h"

using namespace seva;

namespace {

image::Image pattern(int w, int h) {
  image::Image img(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.pixel(x, y);
      p[0] = static_cast<uint8_t>(x * 7 + y);
      p[1] = static_cast<uint8_t>(y * 13);
      p[2] = static_cast<uint8_t>((x * y) ^ 0x5a);
    }
  return img;
}

}  // namespace

TEST(ImageEncode, PngRoundTripsThroughTheDecoder) {
  for (auto [w, h] : {std::pair{48, 48}, std::pair{1, 1}, std::pair{37, 5}}) {
    const image::Image img = pattern(w, h);
    for (int level : {0, 6, 9}) {
      const std::string bytes = image::encode_png(img, level);
      EXPECT_EQ(image::sniff_image_format(bytes), "png");
      const image::Image back = image::decode_image_bytes(bytes, "memory");
      ASSERT_EQ(back.width, w);
      ASSERT_EQ(back.height, h);
      EXPECT_EQ(back.rgb, img.rgb) << w << "x" << h << " level " << level;
    }
  }
}

TEST(ImageEncode, WritesAFileTheDecoderReads) {
  const std::string dir = test::temp_dir("encode");
  const image::Image img = pattern(20, 11);
  image::write_png(img, dir + "/a.png");
  EXPECT_EQ(image::decode_image(dir + "/a.png").rgb, img.rgb);
  EXPECT_EQ(io::read_file(dir + "/a.png"), image::encode_png(img));  // the same pixels, the same bytes
}

TEST(ImageEncode, RefusesAnEmptyImageAndBadLevels) {
  EXPECT_THROW(image::encode_png(image::Image()), std::runtime_error);
  EXPECT_THROW(image::encode_png(pattern(2, 2), 10), std::runtime_error);
  EXPECT_THROW(image::write_png(pattern(2, 2), "/nonexistent-dir/x.png"), std::runtime_error);
}
