// JPEG and PNG decoding with the system libjpeg-turbo and libpng (what Debian's Pillow uses).
//
// Both libraries report errors through a callback that must not return; here it longjmps back
// into a small C-style function that holds nothing but plain data, so no C++ destructor is ever
// skipped. Buffers are owned by the callers of those functions, outside the setjmp range.
#include "image/decode.h"

#include "util/strings.h"

#include <png.h>  // before <csetjmp>: libpng wants to see setjmp.h first itself

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <jpeglib.h>  // needs <cstdio> first
#include <jerror.h>

#include "io/files.h"

namespace seva::image {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& why) {
  throw std::runtime_error("cannot decode image " + name + ": " + why);
}

void check_dimensions(const std::string& name, const char* format, long long w, long long h) {
  if (w <= 0 || h <= 0)
    fail(name, std::string(format) + " header gives an empty size " + std::to_string(w) + "x" +
                   std::to_string(h));
  if (w > kMaxImageSide || h > kMaxImageSide || w * h > kMaxImagePixels)
    fail(name, std::string(format) + " image is " + std::to_string(w) + "x" + std::to_string(h) +
                   " pixels, over the limit of " + std::to_string(kMaxImageSide) +
                   " pixels per side and " + std::to_string(kMaxImagePixels / 1000000) +
                   " megapixels");
}

const unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// ---------------------------------------------------------------- PNG

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t pos;
};

struct PngError {
  char msg[256];
};

void png_read_cb(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->size - src->pos) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

void png_error_cb(png_structp png, png_const_charp msg) {
  auto* err = static_cast<PngError*>(png_get_error_ptr(png));
  std::snprintf(err->msg, sizeof err->msg, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

void png_warning_cb(png_structp, png_const_charp) {}  // ancillary-chunk trouble: Pillow ignores it too

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
};

// Reads the chunks up to the first IDAT. Returns false on a libpng error.
bool png_read_header(png_structp png, png_infop info, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  png_get_IHDR(png, info, &h->width, &h->height, &h->bit_depth, &h->color_type, &h->interlace,
               nullptr, nullptr);
  return true;
}

// Asks for 8-bit RGB or RGBA rows; reports the row size and channel count libpng will deliver.
bool png_setup(png_structp png, png_infop info, const PngHeader* h, size_t* rowbytes,
               int* channels, int* bit_depth) {
  if (setjmp(png_jmpbuf(png))) return false;
  // Palette → RGB, gray 1/2/4 → 8 bits (scaled to 0..255 as Pillow unpacks them), tRNS → alpha
  // (dropped below: Pillow's convert("RGB") ignores transparency).
  png_set_expand(png);
  if (h->bit_depth == 16) png_set_strip_16(png);  // keep the high byte, as Pillow's ";16B" unpackers
  if (!(h->color_type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  if (h->interlace != PNG_INTERLACE_NONE) png_set_interlace_handling(png);
  png_read_update_info(png, info);
  *rowbytes = png_get_rowbytes(png, info);
  *channels = png_get_channels(png, info);
  *bit_depth = png_get_bit_depth(png, info);
  return true;
}

bool png_read_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);  // no png_read_end: like Pillow, do not insist on what follows IDAT
  return true;
}

struct PngGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngGuard() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

uint32_t be32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

Image decode_png(const std::string& bytes, const std::string& name) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  // The size limit straight from IHDR, before libpng allocates anything for the image.
  if (bytes.size() >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0)
    check_dimensions(name, "PNG", be32(data + 16), be32(data + 20));

  PngError err{};
  PngGuard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_error_cb, png_warning_cb);
  if (!g.png) fail(name, "libpng could not be initialised");
  g.info = png_create_info_struct(g.png);
  if (!g.info) fail(name, "libpng could not be initialised");
  PngSource src{data, bytes.size(), 0};
  png_set_read_fn(g.png, &src, png_read_cb);

  PngHeader h;
  if (!png_read_header(g.png, g.info, &h)) fail(name, std::string("corrupt PNG: ") + err.msg);
  check_dimensions(name, "PNG", h.width, h.height);

  size_t rowbytes = 0;
  int channels = 0, depth = 0;
  if (!png_setup(g.png, g.info, &h, &rowbytes, &channels, &depth))
    fail(name, std::string("corrupt PNG: ") + err.msg);
  if (depth != 8 || (channels != 3 && channels != 4) ||
      rowbytes != size_t(h.width) * size_t(channels))
    fail(name, "unsupported PNG layout (bit depth " + std::to_string(h.bit_depth) +
                   ", colour type " + std::to_string(h.color_type) + ")");

  Image img(int(h.width), int(h.height));
  std::vector<uint8_t> rgba;
  if (channels == 4) rgba.resize(rowbytes * h.height);
  uint8_t* base = channels == 3 ? img.rgb.data() : rgba.data();
  std::vector<png_bytep> rows(h.height);
  for (png_uint_32 y = 0; y < h.height; ++y) rows[y] = base + size_t(y) * rowbytes;
  if (!png_read_rows(g.png, rows.data())) fail(name, std::string("corrupt PNG: ") + err.msg);

  if (channels == 4) {  // drop alpha, as convert("RGB") does: no compositing
    const size_t n = size_t(h.width) * h.height;
    for (size_t i = 0; i < n; ++i) {
      img.rgb[3 * i + 0] = rgba[4 * i + 0];
      img.rgb[3 * i + 1] = rgba[4 * i + 1];
      img.rgb[3 * i + 2] = rgba[4 * i + 2];
    }
  }
  return img;
}

// ---------------------------------------------------------------- JPEG

struct JpegError {
  jpeg_error_mgr mgr;  // first member: libjpeg hands back a pointer to it
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX + 64];
};

void jpeg_error_exit_cb(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  char buf[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buf);
  std::snprintf(err->msg, sizeof err->msg, "%s", buf);
  std::longjmp(err->jump, 1);
}

// Warnings about corrupt data are tolerated, as Pillow tolerates them; running out of data is
// not (Pillow: "image file is truncated").
void jpeg_emit_message_cb(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    auto* err = reinterpret_cast<JpegError*>(cinfo->err);
    std::snprintf(err->msg, sizeof err->msg, "premature end of JPEG data (truncated file)");
    std::longjmp(err->jump, 1);
  }
  cinfo->err->num_warnings++;
}

struct JpegHeader {
  long long width = 0, height = 0;
  int color_space = 0, components = 0;
};

bool jpeg_header(j_decompress_ptr cinfo, JpegError* err, JpegHeader* h) {
  if (setjmp(err->jump)) return false;
  jpeg_read_header(cinfo, TRUE);
  h->width = cinfo->image_width;
  h->height = cinfo->image_height;
  h->color_space = cinfo->jpeg_color_space;
  h->components = cinfo->num_components;
  return true;
}

// Decodes every scanline into `out` (height × width × out_components), libjpeg's defaults
// otherwise (JDCT_ISLOW, fancy upsampling, no scaling), which is what Pillow asks for.
bool jpeg_decode(j_decompress_ptr cinfo, JpegError* err, J_COLOR_SPACE out_space,
                 int out_components, unsigned char* out, int* bad_layout) {
  if (setjmp(err->jump)) return false;
  cinfo->out_color_space = out_space;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_components != out_components) {
    *bad_layout = 1;
    return true;
  }
  const size_t stride = size_t(cinfo->output_width) * out_components;
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + size_t(cinfo->output_scanline) * stride;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  // No jpeg_finish_decompress: every row is in, and what follows the last scan does not matter.
  return true;
}

struct JpegGuard {
  jpeg_decompress_struct cinfo;
  bool created = false;
  ~JpegGuard() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

Image decode_jpeg(const std::string& bytes, const std::string& name) {
  JpegError err;
  std::memset(&err, 0, sizeof err);
  JpegGuard g;
  std::memset(&g.cinfo, 0, sizeof g.cinfo);
  g.cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit_cb;
  err.mgr.emit_message = jpeg_emit_message_cb;
  jpeg_create_decompress(&g.cinfo);
  g.created = true;
  jpeg_mem_src(&g.cinfo,
               const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(bytes.data())),
               static_cast<unsigned long>(bytes.size()));

  JpegHeader h;
  if (!jpeg_header(&g.cinfo, &err, &h)) fail(name, std::string("corrupt JPEG: ") + err.msg);
  check_dimensions(name, "JPEG", h.width, h.height);

  J_COLOR_SPACE out_space;
  int comps;
  switch (h.color_space) {
    case JCS_GRAYSCALE: out_space = JCS_GRAYSCALE; comps = 1; break;
    case JCS_YCbCr:
    case JCS_RGB: out_space = JCS_RGB; comps = 3; break;
    case JCS_CMYK:
    case JCS_YCCK: fail(name, "CMYK JPEG images are not supported; convert the image to RGB");
    default:
      fail(name, "unsupported JPEG colour space (" + std::to_string(h.components) +
                     " components, libjpeg colour space " + std::to_string(h.color_space) + ")");
  }

  std::vector<uint8_t> buf(size_t(h.width) * size_t(h.height) * comps);
  int bad_layout = 0;
  if (!jpeg_decode(&g.cinfo, &err, out_space, comps, buf.data(), &bad_layout))
    fail(name, std::string("corrupt JPEG: ") + err.msg);
  if (bad_layout) fail(name, "unexpected JPEG output layout");

  Image img(int(h.width), int(h.height));
  if (comps == 3) {
    img.rgb = std::move(buf);
  } else {  // grayscale: replicated, as convert("RGB") does from mode L
    const size_t n = buf.size();
    for (size_t i = 0; i < n; ++i) img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = buf[i];
  }
  return img;
}

// Magic numbers hold NUL bytes: their length is given, not found.
bool starts_with(const std::string& s, const char* prefix, size_t n) {
  return util::starts_with(s, std::string_view(prefix, n));
}

}  // namespace

std::string sniff_image_format(const std::string& b) {
  if (starts_with(b, reinterpret_cast<const char*>(kPngSignature), 8)) return "png";
  if (starts_with(b, "\xFF\xD8\xFF", 3)) return "jpeg";
  if (starts_with(b, "GIF87a", 6) || starts_with(b, "GIF89a", 6)) return "gif";
  if (b.size() >= 12 && starts_with(b, "RIFF", 4) && std::memcmp(b.data() + 8, "WEBP", 4) == 0)
    return "webp";
  if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4)) return "tiff";
  if (starts_with(b, "BM", 2)) return "bmp";
  return "";
}

Image decode_image_bytes(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) fail(name, "empty file");
  const std::string fmt = sniff_image_format(bytes);
  if (fmt == "png") return decode_png(bytes, name);
  if (fmt == "jpeg") return decode_jpeg(bytes, name);
  if (!fmt.empty()) fail(name, "unsupported image format (" + fmt + "); only JPEG and PNG are read");
  fail(name, "not a JPEG or PNG image (unrecognised leading bytes)");
}

Image decode_image(const std::string& path) {
  return decode_image_bytes(io::read_file(path), path);
}

}  // namespace seva::image
