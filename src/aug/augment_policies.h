// The random augmentations, each a function of (image, rng) with torchvision's sampling:
// RandomResizedCrop, ColorJitter, AutoAugment (ImageNet policy), RandAugment, random
// rotation/perspective/affine/blur, and the MoCo v2, SimCLR and BYOL recipes.
#pragma once
#include <string>
#include <vector>

#include "image/image.h"
#include "util/rng.h"

namespace seva::aug {

struct CropBox {
  int left = 0, top = 0, width = 0, height = 0;
};
// RandomResizedCrop.get_params: 10 tries of (area scale, log-uniform aspect ratio), else the
// centre crop with the ratio clamped to [ratio_min, ratio_max].
CropBox rrc_params(int width, int height, double scale_min, double scale_max, double ratio_min,
                   double ratio_max, util::Rng& rng);
// The crop resized (bilinear, antialiased) to out_w × out_h; ratio (3/4, 4/3).
image::Image random_resized_crop(const image::Image& img, int out_w, int out_h, double scale_min,
                                 double scale_max, util::Rng& rng);

// torchvision ColorJitter: factors b ∈ [max(0, 1−B), 1+B], c, s likewise, hue ∈ [−H, H], applied
// in a random order (randperm(4)); a zero strength skips that adjustment.
image::Image color_jitter(const image::Image& img, double brightness, double contrast,
                          double saturation, double hue, util::Rng& rng);

// torchvision AutoAugment(AutoAugmentPolicy.IMAGENET): one of the 25 sub-policies, each of its two
// operations applied with its probability, signed magnitudes a coin flip; nearest, fill 0.
image::Image auto_augment(const image::Image& img, util::Rng& rng);
constexpr int kAutoAugmentPolicies = 25;
// One named AutoAugment/RandAugment operation ("ShearX", "Rotate", "Posterize", …) at a magnitude.
image::Image apply_op(const image::Image& img, const std::string& op, double magnitude);
// The operation names the two policies use (AutoAugment's 14 and RandAugment's Identity).
std::vector<std::string> op_names();
// torchvision RandAugment(num_ops, magnitude, num_magnitude_bins=31).
image::Image rand_augment(const image::Image& img, int num_ops, int magnitude, util::Rng& rng);

image::Image random_rotation(const image::Image& img, double degrees, util::Rng& rng);          // U(−deg, deg)
image::Image random_perspective(const image::Image& img, double distortion, util::Rng& rng);    // p = 1
// RandomAffine(degrees, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=(−10, 10)).
image::Image random_affine(const image::Image& img, double degrees, util::Rng& rng);
// GaussianBlur(kernel = odd int(0.1 · min side), at least 3; sigma U(sigma_min, sigma_max)).
image::Image random_blur(const image::Image& img, double sigma_min, double sigma_max, util::Rng& rng);

// MoCo v2 (the authors' recipe): RandomResizedCrop(224, scale (0.2, 1)), ColorJitter(0.4, 0.4,
// 0.4, 0.1), RandomGrayscale(0.2), GaussianBlur(sigma U(0.1, 2)), RandomHorizontalFlip(0.5).
image::Image moco(const image::Image& img, util::Rng& rng);
// SimCLR: RandomResizedCrop(224, (0.08, 1)), flip 0.5, ColorJitter(0.8, 0.8, 0.8, 0.2) with p 0.8,
// grayscale 0.2, GaussianBlur (kernel 0.1 · 224, sigma U(0.1, 2)) with p 0.5.
image::Image simclr(const image::Image& img, util::Rng& rng);
// BYOL (first view): RandomResizedCrop(224, (0.08, 1)), flip 0.5, ColorJitter(0.4, 0.4, 0.2, 0.1)
// with p 0.8, grayscale 0.2, GaussianBlur (kernel 23, sigma U(0.1, 2)) always.
image::Image byol(const image::Image& img, util::Rng& rng);

}  // namespace seva::aug
