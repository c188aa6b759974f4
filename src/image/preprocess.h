// CLIP image preprocessing as Hugging Face's CLIPImageProcessor (transformers 4.40) does it with
// Pillow 9.4, plus LLaVA-1.5's "pad" aspect mode (expand2square). Pixel-exact: the resize is
// Pillow's own fixed-point bicubic, the crop and the float32 arithmetic follow transformers.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include "image/image.h"

namespace seva::image {

struct PreprocessConfig {
  // size: {"shortest_edge": S} (resize keeping the aspect ratio) or {"height", "width"} (resize to
  // exactly that; then shortest_edge is 0).
  int shortest_edge = 224;
  int resize_height = 0, resize_width = 0;
  int crop_height = 224, crop_width = 224;
  bool do_resize = true;
  bool do_center_crop = true;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
  std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};
  // Qwen2-VL's processor (image_processor_type Qwen2VLImageProcessor): no crop; each image is
  // resized by smart_resize to multiples of `resize_factor` (patch_size · merge_size) with
  // min_pixels ≤ H·W ≤ max_pixels. 0: the CLIP chain above.
  int resize_factor = 0;
  int64_t min_pixels = 56 * 56, max_pixels = 28 * 28 * 1280;

  // Reads a `preprocessor_config.json` object. Missing keys keep CLIPImageProcessor's defaults;
  // unknown keys (`_valid_processor_keys`, `processor_class`, …) are ignored. A resample other
  // than 3 (bicubic), a wrong type or a bad value throws a message naming the file and key.
  static PreprocessConfig from_json(const nlohmann::json& j, const std::string& file_for_errors);
  static PreprocessConfig from_file(const std::string& path);  // read_json + from_json
};

// LLaVA's `image_aspect_ratio`: "pad" (expand to a square with the mean colour first) or "none".
enum class ImageAspect { Pad, None };
ImageAspect parse_image_aspect(const std::string& s);  // throws on anything else, naming it
const char* image_aspect_name(ImageAspect a);

// The pad colour: int(255 · mean) per channel, truncated → (122, 116, 104) for CLIP.
std::array<uint8_t, 3> pad_background(const PreprocessConfig& cfg);

// LLaVA's expand2square: a max(w,h) square of `background` with the image pasted at
// ((S − w) / 2, (S − h) / 2) (integer division). A square image is returned unchanged.
Image expand_to_square(const Image& img, std::array<uint8_t, 3> background);

// Pillow's Image.resize(..., BICUBIC) for RGB, bit-exact: separable (horizontal pass, then
// vertical), a pass skipped when its size does not change, uint8 between passes, 22-bit
// fixed-point weights.
Image resize_bicubic(const Image& img, int out_w, int out_h);

// transformers' get_resize_output_image_size(default_to_square=False): the short side becomes
// `shortest_edge`, the long one int(shortest_edge · long / short). Returns {width, height}.
std::pair<int, int> shortest_edge_size(int width, int height, int shortest_edge);

// transformers' center_crop: top = (h − H) // 2, left = (w − W) // 2; an image smaller than the
// crop is first padded with zeros (centred; an odd extra pixel goes to the top/left).
Image center_crop(const Image& img, int crop_w, int crop_h);

// transformers' smart_resize: the {height, width} nearest to the image's with both multiples of
// `factor` and the pixel count in [min_pixels, max_pixels], the aspect ratio kept as well as it
// can be. An aspect ratio above 200 is an error, as there.
std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels);

// The whole chain → float32 [3, H, W]: pad (if Pad), resize, crop, rescale, normalise.
torch::Tensor preprocess(const Image& img, const PreprocessConfig& cfg, ImageAspect aspect);
torch::Tensor preprocess_file(const std::string& path, const PreprocessConfig& cfg,
                              ImageAspect aspect);

}  // namespace seva::image
