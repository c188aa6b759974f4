// PNG encoding with the system libpng, into memory.
#include "image/encode.h"

#include <png.h>  // before <csetjmp>: libpng wants to see setjmp.h first itself

#include <cstdio>
#include <stdexcept>
#include <vector>

namespace seva::image {
namespace {

struct PngError {
  char msg[256];
};

void png_error_cb(png_structp png, png_const_charp msg) {
  auto* err = static_cast<PngError*>(png_get_error_ptr(png));
  std::snprintf(err->msg, sizeof err->msg, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void png_warning_cb(png_structp, png_const_charp) {}

void png_write_cb(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string*>(png_get_io_ptr(png))->append(reinterpret_cast<const char*>(data), n);
}

void png_flush_cb(png_structp) {}

struct PngWriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteGuard() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

// Everything libpng may longjmp out of, in a frame holding no C++ objects with destructors.
bool png_write_all(png_structp png, png_infop info, const Image& img, int compression, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_compression_level(png, compression);
  png_set_IHDR(png, info, static_cast<png_uint_32>(img.width), static_cast<png_uint_32>(img.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

std::string encode_png(const Image& img, int compression) {
  if (img.empty() || img.rgb.size() != size_t(img.width) * size_t(img.height) * 3)
    throw std::runtime_error("encode_png: empty or inconsistent image");
  if (compression < 0 || compression > 9) throw std::runtime_error("encode_png: compression must be 0..9");
  PngError err{};
  PngWriteGuard g;
  g.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_error_cb, png_warning_cb);
  if (!g.png) throw std::runtime_error("encode_png: libpng could not be initialised");
  g.info = png_create_info_struct(g.png);
  if (!g.info) throw std::runtime_error("encode_png: libpng could not be initialised");
  std::string out;
  out.reserve(img.rgb.size() / 2 + 128);
  png_set_write_fn(g.png, &out, png_write_cb, png_flush_cb);
  std::vector<png_bytep> rows(static_cast<size_t>(img.height));
  for (int y = 0; y < img.height; ++y) rows[y] = const_cast<png_bytep>(img.row(y));
  if (!png_write_all(g.png, g.info, img, compression, rows.data()))
    throw std::runtime_error(std::string("encode_png: ") + err.msg);
  return out;
}

void write_png(const Image& img, const std::string& path, int compression) {
  const std::string bytes = encode_png(img, compression);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path);
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write " + path + " (disk full?)");
}

}  // namespace seva::image
