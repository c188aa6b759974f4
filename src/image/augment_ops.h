// Pixel-space image operations for augmentations, with torchvision's (PIL backend) semantics:
// flips, crops, resampling, affine and perspective warps, and the colour operations of
// ColorJitter, AutoAugment and RandAugment. All deterministic; randomness lives in src/aug.
#pragma once
#include <array>
#include <cstdint>

#include "image/image.h"

namespace seva::image {

// ---------------------------------------------------------------- geometry (augment_geometry.cpp)

Image hflip(const Image& img);  // exact left-right mirror
// Rows [top, top+h), columns [left, left+w); must lie inside the image.
Image crop(const Image& img, int left, int top, int w, int h);
// PIL's antialiased bilinear resize (triangle filter, support scaled when shrinking), separable,
// uint8 between the passes: what torchvision's Resize/RandomResizedCrop do on PIL images.
Image resize_bilinear(const Image& img, int out_w, int out_h);

// An inverse 2×3 affine map as PIL's Image.transform(AFFINE) takes it: the output pixel centre
// (x + 0.5, y + 0.5) reads the input at (m[0]x' + m[1]y' + m[2], m[3]x' + m[4]y' + m[5]).
using AffineMatrix = std::array<double, 6>;
// torchvision's _get_inverse_affine_matrix: rotation `angle` (degrees, clockwise in image
// coordinates), translate (tx, ty), scale, shear (degrees, x and y), about `center` (pixels).
AffineMatrix inverse_affine_matrix(double cx, double cy, double angle, double tx, double ty,
                                   double scale, double shear_x, double shear_y);
// Nearest-neighbour warp (torchvision's default for affine/rotate/AutoAugment); outside → fill.
Image warp_affine(const Image& img, const AffineMatrix& m, std::array<uint8_t, 3> fill = {0, 0, 0});
// torchvision F.affine on a PIL image: centre = image centre when cx, cy < 0.
Image affine(const Image& img, double angle, double tx, double ty, double scale, double shear_x,
             double shear_y, double cx = -1, double cy = -1);
// torchvision F.rotate (PIL's Image.rotate): counter-clockwise by `degrees` about the centre, same size.
Image rotate(const Image& img, double degrees);

// torchvision F.perspective: maps `start` corners (x, y) to `end` corners, bilinear, fill 0.
using Corners = std::array<std::array<double, 2>, 4>;
Image perspective(const Image& img, const Corners& start, const Corners& end);

// ---------------------------------------------------------------- colour (augment_color.cpp)

// PIL's "L" conversion: L = (299 R + 587 G + 114 B) / 1000, rounded; replicated to 3 channels.
Image grayscale(const Image& img);
// PIL ImageEnhance: blend with a degenerate image, out = degenerate + factor · (img − degenerate).
Image adjust_brightness(const Image& img, double factor);  // degenerate: black
Image adjust_contrast(const Image& img, double factor);    // degenerate: the mean grey level
Image adjust_saturation(const Image& img, double factor);  // degenerate: the grayscale image
Image adjust_sharpness(const Image& img, double factor);   // degenerate: 3×3 smoothed (borders kept)
// Shifts the hue by `hue` turns (in [-0.5, 0.5]) in HSV space.
Image adjust_hue(const Image& img, double hue);
Image posterize(const Image& img, int bits);        // keep the top `bits` bits (1..8)
Image solarize(const Image& img, double threshold);  // invert values >= threshold
Image invert(const Image& img);
Image autocontrast(const Image& img);  // per channel: stretch min..max to 0..255
Image equalize(const Image& img);      // per channel histogram equalisation (PIL ImageOps.equalize)
// torchvision GaussianBlur: separable kernel of odd size `kernel`, reflect padding.
Image gaussian_blur(const Image& img, int kernel, double sigma);

}  // namespace seva::image
