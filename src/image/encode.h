// PNG encoding (libpng): 8-bit RGB, no interlacing, no ancillary chunks, so the same pixels always
// give the same bytes. What the synthetic world writes; decode.h reads it back.
#pragma once
#include <string>

#include "image/image.h"

namespace seva::image {

// The PNG file bytes of `img`. `compression` is zlib's level, 0..9 (6: libpng's default).
// Throws std::runtime_error for an empty image or a libpng failure.
std::string encode_png(const Image& img, int compression = 6);

// encode_png, then writes the file (not atomically: callers writing many small files pick their
// own scheme). Errors name the file.
void write_png(const Image& img, const std::string& path, int compression = 6);

}  // namespace seva::image
