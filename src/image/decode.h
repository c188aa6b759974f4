// Image decoding: JPEG (libjpeg-turbo) and PNG (libpng), giving the pixels Pillow's
// `Image.open(f).convert("RGB")` gives: JPEG with libjpeg's defaults (islow DCT, fancy
// upsampling), grayscale replicated to RGB; PNG with palettes expanded, 16-bit samples reduced to
// their high byte, gray replicated, alpha (and tRNS) discarded. No EXIF rotation (Pillow applies
// none on open). Every failure throws std::runtime_error with a one-line message naming the file.
#pragma once
#include <string>

#include "image/image.h"

namespace seva::image {

// Images larger than this are refused from their header, before any pixel is decoded.
constexpr int kMaxImageSide = 16384;
constexpr long long kMaxImagePixels = 100'000'000;

// Reads and decodes a file; the format comes from its leading bytes, not its name.
Image decode_image(const std::string& path);

// Decodes an encoded image held in memory (e.g. a base64-decoded MMBench cell);
// `name_for_errors` is what messages call it.
Image decode_image_bytes(const std::string& bytes, const std::string& name_for_errors);

// "jpeg", "png", or a name for a recognised but unsupported format ("gif", "bmp", "webp", "tiff"),
// or "" when the leading bytes match nothing known.
std::string sniff_image_format(const std::string& bytes);

}  // namespace seva::image
