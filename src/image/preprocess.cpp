#include "image/preprocess.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "image/decode.h"
#include "io/files.h"

// Pillow is built without fused multiply-add; contracting `a * b + c` here would change the
// rounding of a filter weight now and then, and with it a pixel.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace seva::image {

// ---------------------------------------------------------------- configuration

namespace {

[[noreturn]] void bad_config(const std::string& file, const std::string& key,
                             const std::string& why) {
  throw std::runtime_error(file + ": preprocessor config \"" + key + "\": " + why);
}

int get_positive_int(const nlohmann::json& v, const std::string& file, const std::string& key) {
  if (!v.is_number_integer()) bad_config(file, key, "expected an integer, got " + v.dump());
  const long long x = v.get<long long>();
  if (x <= 0 || x > 65536) bad_config(file, key, "expected a positive size, got " + v.dump());
  return static_cast<int>(x);
}

bool get_bool(const nlohmann::json& j, const std::string& file, const std::string& key,
              bool def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) bad_config(file, key, "expected true or false, got " + it->dump());
  return it->get<bool>();
}

std::array<double, 3> get_triple(const nlohmann::json& j, const std::string& file,
                                 const std::string& key, std::array<double, 3> def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  if (it->is_number()) {
    double x = it->get<double>();
    return {x, x, x};
  }
  if (!it->is_array() || it->size() != 3)
    bad_config(file, key, "expected a list of 3 numbers, got " + it->dump());
  std::array<double, 3> out{};
  for (int c = 0; c < 3; ++c) {
    if (!(*it)[c].is_number()) bad_config(file, key, "expected a list of 3 numbers, got " + it->dump());
    out[c] = (*it)[c].get<double>();
  }
  return out;
}

int64_t get_pixels(const nlohmann::json& v, const std::string& file, const std::string& key) {
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > (1ll << 40))
    bad_config(file, key, "expected a pixel count in [1, 2^40], got " + v.dump());
  return v.get<int64_t>();
}

// Qwen2-VL's sizes: min_pixels / max_pixels, or size {shortest_edge, longest_edge} (newer
// transformers' names for the same two counts); the resize factor is patch_size · merge_size.
void read_qwen_sizes(const nlohmann::json& j, const std::string& file, PreprocessConfig& cfg) {
  cfg.do_center_crop = false;
  int patch = 14, merge = 2;
  if (auto it = j.find("patch_size"); it != j.end() && !it->is_null()) patch = get_positive_int(*it, file, "patch_size");
  if (auto it = j.find("merge_size"); it != j.end() && !it->is_null()) merge = get_positive_int(*it, file, "merge_size");
  if (patch > 1024 || merge > 16) bad_config(file, "patch_size", "patch_size or merge_size is too large");
  cfg.resize_factor = patch * merge;
  if (auto it = j.find("size"); it != j.end() && it->is_object()) {
    if (it->contains("shortest_edge")) cfg.min_pixels = get_pixels((*it)["shortest_edge"], file, "size.shortest_edge");
    if (it->contains("longest_edge")) cfg.max_pixels = get_pixels((*it)["longest_edge"], file, "size.longest_edge");
  }
  if (auto it = j.find("min_pixels"); it != j.end() && !it->is_null()) cfg.min_pixels = get_pixels(*it, file, "min_pixels");
  if (auto it = j.find("max_pixels"); it != j.end() && !it->is_null()) cfg.max_pixels = get_pixels(*it, file, "max_pixels");
  if (cfg.min_pixels > cfg.max_pixels) bad_config(file, "min_pixels", "is larger than max_pixels");
}

}  // namespace

PreprocessConfig PreprocessConfig::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object())
    throw std::runtime_error(file + ": preprocessor config must be a JSON object");
  PreprocessConfig cfg;

  bool qwen = false;
  for (const char* type_key : {"image_processor_type", "feature_extractor_type"}) {
    auto it = j.find(type_key);
    if (it == j.end() || it->is_null()) continue;
    const std::string type = it->is_string() ? it->get<std::string>() : "";
    qwen = qwen || type.rfind("Qwen2VLImageProcessor", 0) == 0 || type.rfind("Qwen2_5_VLImageProcessor", 0) == 0;
    if (!qwen && type != "CLIPImageProcessor" && type != "CLIPFeatureExtractor")
      bad_config(file, type_key, it->dump() + " is not supported; only CLIPImageProcessor and Qwen2VLImageProcessor");
  }
  if (qwen) read_qwen_sizes(j, file, cfg);

  if (auto it = j.find("resample"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<long long>() != 3) {
      static const char* names[] = {"nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"};
      std::string what = it->dump();
      if (it->is_number_integer() && it->get<long long>() >= 0 && it->get<long long>() <= 5)
        what += " (" + std::string(names[it->get<long long>()]) + ")";
      bad_config(file, "resample", what + " is not supported; only 3 (bicubic)");
    }
  }

  if (auto it = j.find("size"); !qwen && it != j.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      cfg.shortest_edge = get_positive_int(*it, file, "size");
    } else if (it->is_object() && it->contains("shortest_edge")) {
      cfg.shortest_edge = get_positive_int((*it)["shortest_edge"], file, "size.shortest_edge");
    } else if (it->is_object() && it->contains("height") && it->contains("width")) {
      cfg.shortest_edge = 0;
      cfg.resize_height = get_positive_int((*it)["height"], file, "size.height");
      cfg.resize_width = get_positive_int((*it)["width"], file, "size.width");
    } else {
      bad_config(file, "size",
                 "expected {\"shortest_edge\": S}, {\"height\": H, \"width\": W} or an integer, got " +
                     it->dump());
    }
  }

  if (auto it = j.find("crop_size"); it != j.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      cfg.crop_height = cfg.crop_width = get_positive_int(*it, file, "crop_size");
    } else if (it->is_object() && it->contains("height") && it->contains("width")) {
      cfg.crop_height = get_positive_int((*it)["height"], file, "crop_size.height");
      cfg.crop_width = get_positive_int((*it)["width"], file, "crop_size.width");
    } else {
      bad_config(file, "crop_size",
                 "expected {\"height\": H, \"width\": W} or an integer, got " + it->dump());
    }
  }

  cfg.do_resize = get_bool(j, file, "do_resize", cfg.do_resize);
  cfg.do_center_crop = get_bool(j, file, "do_center_crop", cfg.do_center_crop);
  cfg.do_rescale = get_bool(j, file, "do_rescale", cfg.do_rescale);
  cfg.do_normalize = get_bool(j, file, "do_normalize", cfg.do_normalize);
  if (auto it = j.find("rescale_factor"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>()))
      bad_config(file, "rescale_factor", "expected a positive number, got " + it->dump());
    cfg.rescale_factor = it->get<double>();
  }
  cfg.image_mean = get_triple(j, file, "image_mean", cfg.image_mean);
  cfg.image_std = get_triple(j, file, "image_std", cfg.image_std);
  for (int c = 0; c < 3; ++c) {
    if (!std::isfinite(cfg.image_mean[c])) bad_config(file, "image_mean", "not a finite number");
    if (!(cfg.image_std[c] > 0) || !std::isfinite(cfg.image_std[c]))
      bad_config(file, "image_std", "every value must be positive");
  }
  return cfg;
}

PreprocessConfig PreprocessConfig::from_file(const std::string& path) {
  return from_json(io::read_json(path), path);
}

ImageAspect parse_image_aspect(const std::string& s) {
  if (s == "pad") return ImageAspect::Pad;
  if (s == "none") return ImageAspect::None;
  throw std::runtime_error("unknown image aspect mode \"" + s + "\" (expected \"pad\" or \"none\")");
}

const char* image_aspect_name(ImageAspect a) { return a == ImageAspect::Pad ? "pad" : "none"; }

// ---------------------------------------------------------------- geometry

std::array<uint8_t, 3> pad_background(const PreprocessConfig& cfg) {
  std::array<uint8_t, 3> bg{};
  for (int c = 0; c < 3; ++c) {
    double v = std::trunc(cfg.image_mean[c] * 255);  // Python int(x * 255)
    bg[c] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
  }
  return bg;
}

Image expand_to_square(const Image& img, std::array<uint8_t, 3> background) {
  if (img.width == img.height) return img;
  const int s = std::max(img.width, img.height);
  Image out(s, s);
  for (size_t i = 0; i < out.rgb.size(); i += 3) {
    out.rgb[i] = background[0];
    out.rgb[i + 1] = background[1];
    out.rgb[i + 2] = background[2];
  }
  const int x0 = (s - img.width) / 2, y0 = (s - img.height) / 2;
  for (int y = 0; y < img.height; ++y)
    std::copy(img.row(y), img.row(y) + size_t(img.width) * 3, out.pixel(x0, y0 + y));
  return out;
}

namespace {

int floor_div(int a, int b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---- Pillow's Resample.c (9.4), RGB 8 bits per channel.
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;   // per output: first input index, number of inputs
  std::vector<int32_t> k;    // per output: ksize fixed-point weights
};

Coeffs precompute_coeffs(int in_size, int out_size) {
  const double support_base = 2.0;  // bicubic
  double scale = static_cast<double>(in_size) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = support_base * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(size_t(out_size) * 2);
  c.k.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> pre(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = 0.0 + (xx + 0.5) * scale;
    double ww = 0.0;
    double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      double w = bicubic_filter((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0) pre[x] /= ww;
    int32_t* kk = &c.k[size_t(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      if (pre[x] < 0)
        kk[x] = static_cast<int32_t>(-0.5 + pre[x] * (1 << kPrecisionBits));
      else
        kk[x] = static_cast<int32_t>(0.5 + pre[x] * (1 << kPrecisionBits));
    }
    c.bounds[size_t(xx) * 2] = xmin;
    c.bounds[size_t(xx) * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t in) {
  int32_t v = in >> kPrecisionBits;  // arithmetic shift, as Pillow's lookup table index
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

Image resample_horizontal(const Image& in, int out_w) {
  const Coeffs c = precompute_coeffs(in.width, out_w);
  Image out(out_w, in.height);
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* src = in.row(y);
    uint8_t* dst = out.row(y);
    for (int xx = 0; xx < out_w; ++xx) {
      const int xmin = c.bounds[size_t(xx) * 2], xmax = c.bounds[size_t(xx) * 2 + 1];
      const int32_t* k = &c.k[size_t(xx) * c.ksize];
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < xmax; ++x) {
        const uint8_t* p = src + size_t(x + xmin) * 3;
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[size_t(xx) * 3] = clip8(s0);
      dst[size_t(xx) * 3 + 1] = clip8(s1);
      dst[size_t(xx) * 3 + 2] = clip8(s2);
    }
  }
  return out;
}

Image resample_vertical(const Image& in, int out_h) {
  const Coeffs c = precompute_coeffs(in.height, out_h);
  Image out(in.width, out_h);
  const size_t row_len = size_t(in.width) * 3;
  std::vector<int32_t> acc(row_len);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[size_t(yy) * 2], ymax = c.bounds[size_t(yy) * 2 + 1];
    const int32_t* k = &c.k[size_t(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), int32_t(1) << (kPrecisionBits - 1));
    for (int y = 0; y < ymax; ++y) {
      const uint8_t* src = in.row(y + ymin);
      const int32_t w = k[y];
      for (size_t i = 0; i < row_len; ++i) acc[i] += src[i] * w;
    }
    uint8_t* dst = out.row(yy);
    for (size_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
  }
  return out;
}

}  // namespace

Image resize_bicubic(const Image& img, int out_w, int out_h) {
  if (img.empty()) throw std::runtime_error("resize_bicubic: empty image");
  if (out_w <= 0 || out_h <= 0)
    throw std::runtime_error("resize_bicubic: invalid output size " + std::to_string(out_w) + "x" +
                             std::to_string(out_h));
  if (out_w == img.width && out_h == img.height) return img;
  if (out_w == img.width) return resample_vertical(img, out_h);
  Image tmp = resample_horizontal(img, out_w);
  if (out_h == img.height) return tmp;
  return resample_vertical(tmp, out_h);
}

std::pair<int, int> shortest_edge_size(int width, int height, int shortest_edge) {
  const int short_side = std::min(width, height), long_side = std::max(width, height);
  const int new_long = static_cast<int>(static_cast<double>(shortest_edge) * long_side / short_side);
  if (width <= height) return {shortest_edge, new_long};
  return {new_long, shortest_edge};
}

Image center_crop(const Image& img, int crop_w, int crop_h) {
  if (crop_w <= 0 || crop_h <= 0)
    throw std::runtime_error("center_crop: invalid crop size " + std::to_string(crop_w) + "x" +
                             std::to_string(crop_h));
  const int h = img.height, w = img.width;
  int top = floor_div(h - crop_h, 2), left = floor_div(w - crop_w, 2);
  const Image* src = &img;
  Image padded;
  if (top < 0 || left < 0 || top + crop_h > h || left + crop_w > w) {
    const int nh = std::max(crop_h, h), nw = std::max(crop_w, w);
    const int top_pad = (nh - h + 1) / 2, left_pad = (nw - w + 1) / 2;  // ceil
    padded = Image(nw, nh);
    for (int y = 0; y < h; ++y)
      std::copy(img.row(y), img.row(y) + size_t(w) * 3, padded.pixel(left_pad, top_pad + y));
    top += top_pad;
    left += left_pad;
    src = &padded;
  }
  Image out(crop_w, crop_h);
  for (int y = 0; y < crop_h; ++y)
    std::copy(src->pixel(left, top + y), src->pixel(left, top + y) + size_t(crop_w) * 3, out.row(y));
  return out;
}

// ---------------------------------------------------------------- the chain

std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels) {
  const double h = height, w = width, f = factor;
  if (height <= 0 || width <= 0 || std::max(h, w) / std::min(h, w) > 200)
    throw std::runtime_error("image of " + std::to_string(width) + "x" + std::to_string(height) +
                             ": the aspect ratio must be below 200");
  // Python's round() rounds halves to even, as std::nearbyint does in the default rounding mode.
  double hb = std::max(f, std::nearbyint(h / f) * f), wb = std::max(f, std::nearbyint(w / f) * f);
  if (hb * wb > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt(h * w / static_cast<double>(max_pixels));
    hb = std::max(f, std::floor(h / beta / f) * f);
    wb = std::max(f, std::floor(w / beta / f) * f);
  } else if (hb * wb < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    hb = std::ceil(h * beta / f) * f;
    wb = std::ceil(w * beta / f) * f;
  }
  if (hb > 65536 || wb > 65536) throw std::runtime_error("smart_resize: the resized image would exceed 65536 px a side");
  return {static_cast<int>(hb), static_cast<int>(wb)};
}

torch::Tensor preprocess(const Image& input, const PreprocessConfig& cfg, ImageAspect aspect) {
  if (input.empty()) throw std::runtime_error("preprocess: empty image");
  Image img = aspect == ImageAspect::Pad ? expand_to_square(input, pad_background(cfg)) : input;
  if (cfg.resize_factor > 0) {
    auto [h, w] = smart_resize(img.height, img.width, cfg.resize_factor, cfg.min_pixels, cfg.max_pixels);
    if (cfg.do_resize) img = resize_bicubic(img, w, h);
    if (img.height != h || img.width != w)
      throw std::runtime_error("preprocess: do_resize is false but the image is not a multiple of " +
                               std::to_string(cfg.resize_factor) + " px");
  } else if (cfg.do_resize) {
    int w = cfg.resize_width, h = cfg.resize_height;
    if (cfg.shortest_edge > 0) std::tie(w, h) = shortest_edge_size(img.width, img.height, cfg.shortest_edge);
    img = resize_bicubic(img, w, h);
  }
  if (cfg.do_center_crop) img = center_crop(img, cfg.crop_width, cfg.crop_height);

  // transformers: uint8 × rescale_factor in float64, cast to float32, then (x − mean) / std in
  // float32. One table per channel gives exactly those numbers.
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    const float mean = static_cast<float>(cfg.image_mean[c]);
    const float stdv = static_cast<float>(cfg.image_std[c]);
    for (int v = 0; v < 256; ++v) {
      float x = cfg.do_rescale ? static_cast<float>(v * cfg.rescale_factor) : static_cast<float>(v);
      if (cfg.do_normalize) x = (x - mean) / stdv;
      table[c][v] = x;
    }
  }
  const int H = img.height, W = img.width;
  torch::Tensor out = torch::empty({3, H, W}, torch::kFloat32);
  float* o = out.data_ptr<float>();
  const size_t plane = size_t(H) * W;
  for (size_t i = 0; i < plane; ++i) {
    o[i] = table[0][img.rgb[3 * i]];
    o[plane + i] = table[1][img.rgb[3 * i + 1]];
    o[2 * plane + i] = table[2][img.rgb[3 * i + 2]];
  }
  return out;
}

torch::Tensor preprocess_file(const std::string& path, const PreprocessConfig& cfg,
                              ImageAspect aspect) {
  return preprocess(decode_image(path), cfg, aspect);
}

}  // namespace seva::image
