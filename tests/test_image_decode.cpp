// Decoding: the fixture images against Pillow 9.4's pixels, synthetic PNG/JPEG variants against
// what Pillow's convert("RGB") gives, and refusal of bad input with the file named.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <jpeglib.h>

#include <gtest/gtest.h>

#include "image/decode.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "test_helpers.h"

using seva::image::Image;
using seva::image::decode_image;
using seva::image::decode_image_bytes;

namespace {

Image image_from_tensor(const torch::Tensor& t) {  // uint8 [H, W, 3]
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.size(2), 3);
  EXPECT_EQ(t.scalar_type(), torch::kUInt8);
  Image img(int(t.size(1)), int(t.size(0)));
  auto c = t.contiguous();
  std::memcpy(img.rgb.data(), c.data_ptr<uint8_t>(), img.rgb.size());
  return img;
}

int max_abs_diff(const Image& a, const Image& b) {
  int m = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) m = std::max(m, std::abs(int(a.rgb[i]) - int(b.rgb[i])));
  return m;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Expects `fn` to throw a message naming `name` and containing `what`.
template <class F>
void expect_refused(F fn, const std::string& name, const std::string& what) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << name;
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message should be one line: " << msg;
  }
}

const char* kImages[3] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};

// ---- synthetic PNGs through libpng's writer

struct PngSpec {
  int w = 0, h = 0, bit_depth = 8, color_type = PNG_COLOR_TYPE_RGB;
  int interlace = PNG_INTERLACE_NONE;
  std::vector<uint8_t> raw;  // rows exactly as PNG stores them (packed bits, 16-bit big-endian)
  std::vector<png_color> palette;
  std::vector<uint8_t> trns_palette;  // alpha per palette entry
  bool trns_color = false;
  png_color_16 trns_value{};
};

void png_append(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<char*>(data), n);
}
void png_flush_noop(png_structp) {}

bool png_encode_inner(png_structp png, png_infop info, const PngSpec* s, std::string* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, png_append, png_flush_noop);
  png_set_IHDR(png, info, s->w, s->h, s->bit_depth, s->color_type, s->interlace,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!s->palette.empty())
    png_set_PLTE(png, info, const_cast<png_color*>(s->palette.data()), int(s->palette.size()));
  if (!s->trns_palette.empty())
    png_set_tRNS(png, info, const_cast<uint8_t*>(s->trns_palette.data()),
                 int(s->trns_palette.size()), nullptr);
  if (s->trns_color) png_set_tRNS(png, info, nullptr, 0, const_cast<png_color_16*>(&s->trns_value));
  png_write_info(png, info);
  const size_t stride = s->raw.size() / s->h;
  std::vector<png_bytep> rows(s->h);
  for (int y = 0; y < s->h; ++y) rows[y] = const_cast<uint8_t*>(s->raw.data()) + y * stride;
  png_write_image(png, rows.data());
  png_write_end(png, info);
  return true;
}

std::string png_encode(const PngSpec& s) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  bool ok = png_encode_inner(png, info, &s, &out);
  png_destroy_write_struct(&png, &info);
  EXPECT_TRUE(ok) << "libpng could not write the test image";
  return out;
}

// ---- synthetic JPEGs through libjpeg's compressor

std::string jpeg_encode(int w, int h, int components, J_COLOR_SPACE space,
                        const std::vector<uint8_t>& pixels) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) + size_t(c.next_scanline) * w * components;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  jpeg_destroy_compress(&c);
  std::free(buf);
  return out;
}

uint32_t crc32_png(const std::string& bytes) {  // the CRC PNG chunks carry (ISO 3309)
  uint32_t crc = 0xffffffffu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(uint32_t(data.size())) + type + data + be32(crc32_png(type + data));
}

}  // namespace

// ---------------------------------------------------------------- the fixture

TEST(ImageDecode, FixtureImagesMatchPillowExactly) {
  seva::io::SafetensorsFile ref(seva::test::fixture_path("preprocess.safetensors"));
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(kImages[i]);
    Image got = decode_image(seva::test::fixture_path(std::string("images/") + kImages[i]));
    Image want = image_from_tensor(ref.get("rgb.img" + std::to_string(i)));
    ASSERT_EQ(got.width, want.width);
    ASSERT_EQ(got.height, want.height);
    const int diff = max_abs_diff(got, want);
    std::printf("[image] decode %s: %dx%d, max |diff| vs Pillow 9.4 = %d grey levels\n", kImages[i],
                got.width, got.height, diff);
    EXPECT_EQ(diff, 0);
  }
}

TEST(ImageDecode, BytesAndFileAgree) {
  const std::string path = seva::test::fixture_path("images/img1_40x120.jpg");
  Image a = decode_image(path);
  Image b = decode_image_bytes(seva::io::read_file(path), "cell 7");
  EXPECT_EQ(a.rgb, b.rgb);
  EXPECT_EQ(seva::image::sniff_image_format(seva::io::read_file(path)), "jpeg");
  EXPECT_EQ(seva::image::sniff_image_format(
                seva::io::read_file(seva::test::fixture_path("images/img0_97x61.png"))),
            "png");
}

// ---------------------------------------------------------------- PNG variants

TEST(ImageDecode, PngGrayIsReplicated) {
  PngSpec s;
  s.w = 3, s.h = 2, s.color_type = PNG_COLOR_TYPE_GRAY;
  s.raw = {0, 100, 255, 7, 8, 9};
  Image img = decode_image_bytes(png_encode(s), "gray.png");
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.height, 2);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(img.rgb[3 * i + c], s.raw[i]);
}

TEST(ImageDecode, PngLowBitGrayIsScaledToFullRange) {
  PngSpec s1;  // 1 bit: 0 → 0, 1 → 255 (Pillow mode "1")
  s1.w = 8, s1.h = 1, s1.bit_depth = 1, s1.color_type = PNG_COLOR_TYPE_GRAY;
  s1.raw = {0b10110001};
  Image a = decode_image_bytes(png_encode(s1), "bits.png");
  const int bits[8] = {1, 0, 1, 1, 0, 0, 0, 1};
  for (int x = 0; x < 8; ++x) EXPECT_EQ(a.at(x, 0, 1), bits[x] ? 255 : 0) << x;

  PngSpec s4;  // 4 bits: v → 17 v (Pillow's "L;4")
  s4.w = 4, s4.h = 1, s4.bit_depth = 4, s4.color_type = PNG_COLOR_TYPE_GRAY;
  s4.raw = {0x0F, 0x83};
  Image b = decode_image_bytes(png_encode(s4), "nibbles.png");
  const int v[4] = {0, 15, 8, 3};
  for (int x = 0; x < 4; ++x) EXPECT_EQ(b.at(x, 0, 0), 17 * v[x]) << x;
}

TEST(ImageDecode, PngAlphaIsDroppedNotComposited) {
  PngSpec s;
  s.w = 2, s.h = 1, s.color_type = PNG_COLOR_TYPE_RGB_ALPHA;
  s.raw = {10, 20, 30, 0, 200, 100, 50, 128};
  Image img = decode_image_bytes(png_encode(s), "rgba.png");
  EXPECT_EQ(img.rgb, (std::vector<uint8_t>{10, 20, 30, 200, 100, 50}));

  PngSpec g;  // gray + alpha, 16 bits
  g.w = 2, g.h = 1, g.bit_depth = 16, g.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  g.raw = {0xAB, 0xCD, 0x00, 0x00, 0x12, 0xFF, 0xFF, 0xFF};
  Image ga = decode_image_bytes(png_encode(g), "la16.png");
  EXPECT_EQ(ga.rgb, (std::vector<uint8_t>{0xAB, 0xAB, 0xAB, 0x12, 0x12, 0x12}));
}

TEST(ImageDecode, Png16BitKeepsTheHighByte) {
  PngSpec s;
  s.w = 2, s.h = 1, s.bit_depth = 16, s.color_type = PNG_COLOR_TYPE_RGB;
  s.raw = {0x12, 0x34, 0xFF, 0xFF, 0x00, 0x80, 0x80, 0x7F, 0x7F, 0x80, 0x01, 0xFF};
  Image img = decode_image_bytes(png_encode(s), "rgb16.png");
  EXPECT_EQ(img.rgb, (std::vector<uint8_t>{0x12, 0xFF, 0x00, 0x80, 0x7F, 0x01}));
}

TEST(ImageDecode, PngPaletteWithTransparencyGivesThePaletteColours) {
  PngSpec s;
  s.w = 3, s.h = 1, s.bit_depth = 8, s.color_type = PNG_COLOR_TYPE_PALETTE;
  s.palette = {{255, 0, 0}, {0, 255, 0}, {1, 2, 3}};
  s.trns_palette = {0, 128};  // entry 0 fully transparent: its colour is kept all the same
  s.raw = {2, 0, 1};
  Image img = decode_image_bytes(png_encode(s), "pal.png");
  EXPECT_EQ(img.rgb, (std::vector<uint8_t>{1, 2, 3, 255, 0, 0, 0, 255, 0}));

  PngSpec p2;  // 2-bit palette
  p2.w = 4, p2.h = 1, p2.bit_depth = 2, p2.color_type = PNG_COLOR_TYPE_PALETTE;
  p2.palette = {{9, 9, 9}, {50, 60, 70}, {1, 1, 1}, {200, 201, 202}};
  p2.raw = {0b11011000};
  Image b = decode_image_bytes(png_encode(p2), "pal2.png");
  EXPECT_EQ(b.rgb, (std::vector<uint8_t>{200, 201, 202, 50, 60, 70, 1, 1, 1, 9, 9, 9}));

  PngSpec g;  // gray with a tRNS colour key
  g.w = 2, g.h = 1, g.color_type = PNG_COLOR_TYPE_GRAY;
  g.trns_color = true;
  g.trns_value.gray = 40;
  g.raw = {40, 41};
  Image c = decode_image_bytes(png_encode(g), "graykey.png");
  EXPECT_EQ(c.rgb, (std::vector<uint8_t>{40, 40, 40, 41, 41, 41}));
}

TEST(ImageDecode, PngInterlacedMatchesItsPixels) {
  PngSpec s;
  s.w = 11, s.h = 9, s.interlace = PNG_INTERLACE_ADAM7;
  s.raw.resize(size_t(s.w) * s.h * 3);
  for (size_t i = 0; i < s.raw.size(); ++i) s.raw[i] = uint8_t(i * 37 + 11);
  Image img = decode_image_bytes(png_encode(s), "adam7.png");
  EXPECT_EQ(img.width, 11);
  EXPECT_EQ(img.height, 9);
  EXPECT_EQ(img.rgb, s.raw);
}

// ---------------------------------------------------------------- JPEG variants

TEST(ImageDecode, JpegGrayIsReplicated) {
  const int w = 16, h = 8;
  std::vector<uint8_t> px(w * h);
  for (int i = 0; i < w * h; ++i) px[i] = uint8_t(i * 2);
  Image img = decode_image_bytes(jpeg_encode(w, h, 1, JCS_GRAYSCALE, px), "gray.jpg");
  ASSERT_EQ(img.width, w);
  ASSERT_EQ(img.height, h);
  int max_err = 0;
  for (int i = 0; i < w * h; ++i) {
    EXPECT_EQ(img.rgb[3 * i], img.rgb[3 * i + 1]);
    EXPECT_EQ(img.rgb[3 * i], img.rgb[3 * i + 2]);
    max_err = std::max(max_err, std::abs(int(img.rgb[3 * i]) - int(px[i])));
  }
  EXPECT_LE(max_err, 6);  // quality 90: close to the source
}

TEST(ImageDecode, JpegCmykIsRefusedClearly) {
  std::vector<uint8_t> px(8 * 8 * 4, 100);
  const std::string bytes = jpeg_encode(8, 8, 4, JCS_CMYK, px);
  expect_refused([&] { decode_image_bytes(bytes, "cmyk.jpg"); }, "cmyk.jpg", "CMYK");
}

// ---------------------------------------------------------------- refusals

TEST(ImageDecode, TruncatedPngIsRefused) {
  const std::string dir = seva::test::temp_dir("image_decode");
  std::string bytes = seva::io::read_file(seva::test::fixture_path("images/img0_97x61.png"));
  const std::string path = dir + "/cut.png";
  write_bytes(path, bytes.substr(0, bytes.size() / 2));
  expect_refused([&] { decode_image(path); }, path, "truncated");
  // cut inside the header chunks as well
  write_bytes(path, bytes.substr(0, 20));
  expect_refused([&] { decode_image(path); }, path, "truncated");
}

TEST(ImageDecode, TruncatedJpegIsRefused) {
  const std::string dir = seva::test::temp_dir("image_decode");
  std::string bytes = seva::io::read_file(seva::test::fixture_path("images/img1_40x120.jpg"));
  const std::string path = dir + "/cut.jpg";
  write_bytes(path, bytes.substr(0, bytes.size() / 2));
  expect_refused([&] { decode_image(path); }, path, "truncated");
  write_bytes(path, bytes.substr(0, 40));  // inside the header
  expect_refused([&] { decode_image(path); }, path, "corrupt JPEG");
}

TEST(ImageDecode, CorruptPngChunkIsRefused) {
  std::string bytes = seva::io::read_file(seva::test::fixture_path("images/img0_97x61.png"));
  bytes[bytes.size() / 2] ^= 0x5A;  // inside IDAT: a CRC error or bad zlib data
  expect_refused([&] { decode_image_bytes(bytes, "flipped.png"); }, "flipped.png", "corrupt PNG");
}

TEST(ImageDecode, RandomBytesAndOtherFormatsAreRefused) {
  const std::string dir = seva::test::temp_dir("image_decode");
  std::mt19937 rng(42);
  std::string junk(1000, '\0');
  for (char& c : junk) c = char(rng() & 0xff);
  junk[0] = 'x';  // never a magic number by chance
  const std::string path = dir + "/junk.jpg";
  write_bytes(path, junk);
  expect_refused([&] { decode_image(path); }, path, "not a JPEG or PNG");

  expect_refused([&] { decode_image_bytes("GIF89a\x01\x00\x01\x00", "anim.gif"); }, "anim.gif",
                 "unsupported image format (gif)");
  expect_refused([&] { decode_image_bytes("", "empty.png"); }, "empty.png", "empty");
  expect_refused([&] { decode_image(dir + "/missing.png"); }, dir + "/missing.png", "cannot read");
  // a JPEG start and then garbage
  expect_refused([&] { decode_image_bytes("\xFF\xD8\xFF\xE0" + junk, "garbage.jpg"); },
                 "garbage.jpg", "corrupt JPEG");
}

TEST(ImageDecode, HugePngIsRefusedFromItsHeader) {
  const std::string dir = seva::test::temp_dir("image_decode");
  std::string ihdr = be32(20000) + be32(20000) + std::string("\x08\x02\x00\x00\x00", 5);
  // a tiny (wrong-sized) IDAT: only the header may be looked at
  const std::string idat("\x78\x9c\x63\x00\x00\x00\x01\x00\x01", 9);
  const std::string bytes = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                            png_chunk("IDAT", idat) + png_chunk("IEND", "");
  const std::string path = dir + "/huge.png";
  write_bytes(path, bytes);
  expect_refused([&] { decode_image(path); }, path, "20000x20000");

  // One side over the limit: 16385 wide, 1 high (no megapixel problem).
  ihdr = be32(16385) + be32(1) + std::string("\x08\x02\x00\x00\x00", 5);
  expect_refused(
      [&] {
        decode_image_bytes(std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                               png_chunk("IDAT", idat) + png_chunk("IEND", ""),
                           "wide.png");
      },
      "wide.png", "16385x1");
  // 12000 x 9000 = 108 megapixels, each side within the limit
  ihdr = be32(12000) + be32(9000) + std::string("\x08\x02\x00\x00\x00", 5);
  expect_refused(
      [&] {
        decode_image_bytes(std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                               png_chunk("IDAT", idat) + png_chunk("IEND", ""),
                           "big.png");
      },
      "big.png", "megapixels");
}

TEST(ImageDecode, HugeJpegIsRefusedFromItsHeader) {
  std::string bytes = seva::io::read_file(seva::test::fixture_path("images/img1_40x120.jpg"));
  // Patch the frame header (SOFn: FF C0..C3, length, precision, height, width) to 20000x20000,
  // walking the marker segments from the start.
  size_t sof = std::string::npos;
  for (size_t i = 2; i + 4 < bytes.size() && uint8_t(bytes[i]) == 0xFF;) {
    const int marker = uint8_t(bytes[i + 1]);
    if (marker >= 0xC0 && marker <= 0xC3) {
      sof = i;
      break;
    }
    i += 2 + ((size_t(uint8_t(bytes[i + 2])) << 8) | uint8_t(bytes[i + 3]));
  }
  ASSERT_NE(sof, std::string::npos);
  bytes[sof + 5] = char(20000 >> 8), bytes[sof + 6] = char(20000 & 0xff);
  bytes[sof + 7] = char(20000 >> 8), bytes[sof + 8] = char(20000 & 0xff);
  expect_refused([&] { decode_image_bytes(bytes, "huge.jpg"); }, "huge.jpg", "20000x20000");
}
