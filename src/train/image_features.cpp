#include "train/image_features.h"

#include "io/files.h"

#include <torch/torch.h>

namespace seva::train {

ImageFeatures::ImageFeatures(generate::Vlm& vlm, std::string images_dir, bool tower_trains, int64_t budget_bytes)
    : vlm_(vlm), images_dir_(std::move(images_dir)), tower_trains_(tower_trains), budget_bytes_(budget_bytes) {}

std::vector<torch::Tensor> ImageFeatures::tower(const std::vector<std::string>& images) {
  auto& m = *vlm_.model;
  if (tower_trains_) {
    std::vector<torch::Tensor> px;
    for (const auto& image : images) px.push_back(vlm_.pixels(io::join_path(images_dir_, image)));
    return m.vision_features(px);
  }
  // The images not kept yet, each once, through the tower one at a time: an image's features then
  // do not depend on which others shared its batch (a batch's shape changes the kernels' rounding),
  // so a run resumed from a checkpoint computes what the uninterrupted run computed.
  std::map<std::string, torch::Tensor> fresh;
  torch::NoGradGuard ng;
  for (const auto& image : images) {
    if (kept_.count(image) || fresh.count(image)) continue;
    auto one = m.vision_features({vlm_.pixels(io::join_path(images_dir_, image))})[0];
    fresh[image] = one;
    const int64_t bytes = one.numel() * static_cast<int64_t>(one.element_size());
    if (cached_bytes_ + bytes <= budget_bytes_) {
      kept_[image] = one.clone();  // its own storage: a view could keep the encoder's whole output alive
      cached_bytes_ += bytes;
    }
  }
  std::vector<torch::Tensor> out;
  for (const auto& image : images) {
    auto it = kept_.find(image);
    out.push_back(it != kept_.end() ? it->second : fresh.at(image));
  }
  return out;
}

std::vector<torch::Tensor> ImageFeatures::operator()(const std::vector<std::string>& images) {
  return vlm_.model->project(tower(images));
}

}  // namespace seva::train
