// Augmentation specs (`--aug SPEC`): parsing, validation, and making a view of an image.
// A spec is one or more steps joined by '+', each `name[:P1-P2-...]`, e.g. `flip+diffusion:300`.
// Pixel-space steps act on the RGB image before CLIP preprocessing; `diffusion` acts on the
// normalised tensor after it, so it must come last. Every view's randomness is one stream
// seeded by (seed, item id, canonical spec): independent of batch size and thread count.
#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

#include "image/image.h"
#include "image/preprocess.h"
#include "util/rng.h"

namespace seva::aug {

struct Step {
  std::string name;            // a registered name, e.g. "rrcrop"
  std::vector<double> params;  // every parameter, defaults filled in
  bool tensor_space = false;   // true for diffusion
};

struct Spec {
  std::string text;         // as written (used as the view's name)
  std::vector<Step> steps;  // in order; tensor-space steps only at the end
  std::string canonical() const;  // defaults spelled out, e.g. "rrcrop:0.36-0.64"
  bool identity() const;          // no step changes the image ("none")
};

// Throws std::invalid_argument naming the bad part and listing the valid specs.
Spec parse_spec(const std::string& text);
// One line per registered augmentation: syntax, defaults and ranges.
std::string valid_specs();

struct Context {
  int out_size = 224;  // side of rrcrop's square output (the model's input size)
};

image::Image apply_pixel_steps(const Spec& spec, const image::Image& img, util::Rng& rng, const Context& ctx);
// pixels: (3, S, S) float32, normalised.
torch::Tensor apply_tensor_steps(const Spec& spec, const torch::Tensor& pixels, util::Rng& rng);

// The seed of one item's view: hash of (seed, item id, canonical spec).
uint64_t view_seed(uint64_t seed, const std::string& item_id, const Spec& spec);
// The whole view: pixel steps, preprocessing, tensor steps. out_size comes from cfg's crop (the
// image's short side for dynamic-resolution processors).
torch::Tensor make_view(const Spec& spec, const image::Image& img, const image::PreprocessConfig& cfg,
                        image::ImageAspect aspect, uint64_t seed, const std::string& item_id);

}  // namespace seva::aug
