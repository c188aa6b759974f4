// The augmentation registry and spec parsing (see augment.h).
#include "aug/augment.h"

#include "image/augment_ops.h"
#include "aug/augment_policies.h"
#include "aug/diffusion.h"
#include "util/strings.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace seva::aug {
namespace {

using image::Image;
using PixelFn = std::function<Image(const Image&, const std::vector<double>&, util::Rng&, const Context&)>;

struct Param {
  const char* name;
  double def, lo, hi;
  bool integer = false;
};

struct Entry {
  const char* name;
  const char* help;
  std::vector<Param> params;  // all optional, given in order
  PixelFn pixel;              // null for tensor-space steps
  bool tensor = false;
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> r = {
      {"none", "the original image", {}, [](const Image& i, auto&, util::Rng&, auto&) { return i; }},
      {"flip", "horizontal flip with probability P", {{"P", 1.0, 0, 1}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) {
         return p[0] >= 1.0 || rng.bernoulli(p[0]) ? image::hflip(i) : i;
       }},
      {"rrcrop", "random resized crop to the model's square input, area scale MIN-MAX, ratio 3/4-4/3",
       {{"MIN", 0.36, 0.01, 1}, {"MAX", 0.64, 0.01, 1}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, const Context& c) {
         return random_resized_crop(i, c.out_size, c.out_size, p[0], p[1], rng);
       }},
      {"autoaug", "torchvision AutoAugment, ImageNet policy (25 sub-policies)", {},
       [](const Image& i, auto&, util::Rng& rng, auto&) { return auto_augment(i, rng); }},
      {"randaug", "torchvision RandAugment: N operations at magnitude M of 31 bins",
       {{"N", 2, 1, 10, true}, {"M", 9, 0, 30, true}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) {
         return rand_augment(i, int(p[0]), int(p[1]), rng);
       }},
      {"moco", "MoCo v2: crop 224 scale 0.2-1, jitter 0.4/0.4/0.4/0.1, gray 0.2, blur sigma 0.1-2, flip 0.5", {},
       [](const Image& i, auto&, util::Rng& rng, auto&) { return moco(i, rng); }},
      {"simclr", "SimCLR: crop 224 scale 0.08-1, flip, jitter 0.8/0.8/0.8/0.2 p 0.8, gray 0.2, blur p 0.5", {},
       [](const Image& i, auto&, util::Rng& rng, auto&) { return simclr(i, rng); }},
      {"byol", "BYOL view 1: crop 224 scale 0.08-1, flip, jitter 0.4/0.4/0.2/0.1 p 0.8, gray 0.2, blur", {},
       [](const Image& i, auto&, util::Rng& rng, auto&) { return byol(i, rng); }},
      {"rotate", "random rotation in [-DEG, DEG] degrees (nearest, fill black)", {{"DEG", 30, 0, 180}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) { return random_rotation(i, p[0], rng); }},
      {"perspective", "random perspective with distortion D", {{"D", 0.5, 0, 1}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) { return random_perspective(i, p[0], rng); }},
      {"affine", "random affine: rotation DEG, translate 0.1, scale 0.9-1.1, shear 10", {{"DEG", 15, 0, 180}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) { return random_affine(i, p[0], rng); }},
      {"posterize", "keep BITS bits per channel", {{"BITS", 4, 1, 8, true}},
       [](const Image& i, const std::vector<double>& p, util::Rng&, auto&) { return image::posterize(i, int(p[0])); }},
      {"solarize", "invert values >= T", {{"T", 128, 0, 256}},
       [](const Image& i, const std::vector<double>& p, util::Rng&, auto&) { return image::solarize(i, p[0]); }},
      {"equalize", "histogram equalisation", {},
       [](const Image& i, auto&, util::Rng&, auto&) { return image::equalize(i); }},
      {"invert", "negative image", {}, [](const Image& i, auto&, util::Rng&, auto&) { return image::invert(i); }},
      {"autocontrast", "stretch each channel to 0-255", {},
       [](const Image& i, auto&, util::Rng&, auto&) { return image::autocontrast(i); }},
      {"sharpness", "sharpness factor F (1 = unchanged)", {{"F", 2, 0, 10}},
       [](const Image& i, const std::vector<double>& p, util::Rng&, auto&) { return image::adjust_sharpness(i, p[0]); }},
      {"grayscale", "grey levels in all three channels", {},
       [](const Image& i, auto&, util::Rng&, auto&) { return image::grayscale(i); }},
      {"jitter", "ColorJitter brightness B, contrast C, saturation S, hue H",
       {{"B", 0.4, 0, 2}, {"C", 0.4, 0, 2}, {"S", 0.4, 0, 2}, {"H", 0.1, 0, 0.5}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) {
         return color_jitter(i, p[0], p[1], p[2], p[3], rng);
       }},
      {"blur", "Gaussian blur, kernel 0.1 x short side (odd, >= 3), sigma uniform in MIN-MAX",
       {{"MIN", 0.1, 0.01, 50}, {"MAX", 2.0, 0.01, 50}},
       [](const Image& i, const std::vector<double>& p, util::Rng& rng, auto&) { return random_blur(i, p[0], p[1], rng); }},
      {"diffusion", "diffusion noise at step T on the normalised tensor (after preprocessing)",
       {{"T", 500, 0, kDiffusionSteps - 1, true}}, nullptr, true},
  };
  return r;
}

const Entry* find_entry(const std::string& name) {
  for (const auto& e : registry())
    if (name == e.name) return &e;
  return nullptr;
}

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string syntax(const Entry& e) {
  std::string s = e.name;
  if (e.params.empty()) return s;
  s += "[:";
  for (size_t i = 0; i < e.params.size(); ++i) s += (i ? "-" : "") + std::string(e.params[i].name);
  return s + "]";
}

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw std::invalid_argument("--aug '" + text + "': " + why + "\nvalid augmentations (join with '+'):\n" + valid_specs());
}

// A spec's steps and parameters may be padded with spaces and tabs; other whitespace is kept.
std::string trim(const std::string& s) { return util::strip(s, " \t"); }

}  // namespace

std::string valid_specs() {
  std::string out;
  for (const auto& e : registry()) {
    std::string line = "  " + syntax(e);
    line.resize(std::max<size_t>(line.size() + 1, 26), ' ');
    line += e.help;
    if (!e.params.empty()) {
      line += " (";
      for (size_t i = 0; i < e.params.size(); ++i) {
        const auto& p = e.params[i];
        line += (i ? "; " : "") + std::string(p.name) + " " + format_number(p.lo) + ".." + format_number(p.hi) +
                ", default " + format_number(p.def);
      }
      line += ")";
    }
    out += line + "\n";
  }
  return out;
}

Spec parse_spec(const std::string& raw) {
  Spec spec;
  spec.text = trim(raw);
  if (spec.text.empty()) refuse(raw, "empty augmentation");
  std::stringstream parts(spec.text);
  std::string part;
  bool seen_tensor = false;
  while (std::getline(parts, part, '+')) {
    part = trim(part);
    if (part.empty()) refuse(spec.text, "empty step between '+'");
    const auto colon = part.find(':');
    const std::string name = part.substr(0, colon);
    const Entry* e = find_entry(name);
    if (!e) refuse(spec.text, "unknown augmentation '" + name + "'");
    Step step{e->name, {}, e->tensor};
    std::vector<std::string> given;
    if (colon != std::string::npos) {
      std::stringstream ps(part.substr(colon + 1));
      std::string p;
      while (std::getline(ps, p, '-')) given.push_back(trim(p));
      if (given.empty() || given.size() > e->params.size())
        refuse(spec.text, "'" + name + "' takes " +
                              (e->params.empty() ? std::string("no parameters") : "at most " + std::to_string(e->params.size()) +
                                                                                       " parameter(s): " + syntax(*e)));
    }
    for (size_t i = 0; i < e->params.size(); ++i) {
      const auto& P = e->params[i];
      double v = P.def;
      if (i < given.size()) {
        char* end = nullptr;
        v = std::strtod(given[i].c_str(), &end);
        if (given[i].empty() || *end != '\0' || !std::isfinite(v))
          refuse(spec.text, "'" + given[i] + "' is not a number (" + syntax(*e) + ")");
        if (P.integer && v != std::floor(v)) refuse(spec.text, std::string(P.name) + " of '" + name + "' must be an integer");
        if (v < P.lo || v > P.hi)
          refuse(spec.text, std::string(P.name) + " of '" + name + "' is " + given[i] + ", outside " + format_number(P.lo) +
                                ".." + format_number(P.hi));
      }
      step.params.push_back(v);
    }
    if ((step.name == "rrcrop" || step.name == "blur") && step.params[0] > step.params[1])
      refuse(spec.text, "'" + name + "': MIN is greater than MAX");
    if (seen_tensor && !step.tensor_space)
      refuse(spec.text, "pixel-space step '" + name + "' after 'diffusion': diffusion acts on the preprocessed tensor, so it comes last");
    seen_tensor = seen_tensor || step.tensor_space;
    spec.steps.push_back(std::move(step));
  }
  if (!spec.text.empty() && spec.text.back() == '+') refuse(spec.text, "empty step after '+'");
  return spec;
}

std::string Spec::canonical() const {
  std::string s;
  for (const auto& st : steps) {
    if (!s.empty()) s += "+";
    s += st.name;
    for (size_t i = 0; i < st.params.size(); ++i) s += (i ? "-" : ":") + format_number(st.params[i]);
  }
  return s;
}

bool Spec::identity() const {
  for (const auto& st : steps)
    if (st.name != "none") return false;
  return true;
}

Image apply_pixel_steps(const Spec& spec, const Image& img, util::Rng& rng, const Context& ctx) {
  Image out = img;
  for (const auto& st : spec.steps)
    if (!st.tensor_space) out = find_entry(st.name)->pixel(out, st.params, rng, ctx);
  return out;
}

torch::Tensor apply_tensor_steps(const Spec& spec, const torch::Tensor& pixels, util::Rng& rng) {
  torch::Tensor out = pixels;
  for (const auto& st : spec.steps)
    if (st.name == "diffusion") out = add_diffusion_noise(out, static_cast<int>(st.params[0]), rng);
  return out;
}

uint64_t view_seed(uint64_t seed, const std::string& item_id, const Spec& spec) {
  return util::hash_key(seed, item_id, spec.canonical());
}

torch::Tensor make_view(const Spec& spec, const Image& img, const image::PreprocessConfig& cfg, image::ImageAspect aspect,
                        uint64_t seed, const std::string& item_id) {
  util::Rng rng(view_seed(seed, item_id, spec));
  Context ctx;
  // A fixed-input model crops to its input side; a dynamic-resolution one (Qwen2-VL) has none, so
  // the crop keeps the image's own scale (its short side) and the processor sizes it as any image.
  ctx.out_size = cfg.resize_factor > 0 ? std::max(1, std::min(img.width, img.height)) : cfg.crop_width;
  auto px = image::preprocess(apply_pixel_steps(spec, img, rng, ctx), cfg, aspect);
  return apply_tensor_steps(spec, px, rng);
}

}  // namespace seva::aug
