// libFuzzer target: image decoding (PNG and JPEG, format sniffed from the bytes, size bounds
// checked from the header).
#include "image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)seva::image::sniff_image_format(bytes);
  try {
    auto img = seva::image::decode_image_bytes(bytes, "image");
    (void)img;
  } catch (const std::exception&) {
  }
  return 0;
}
