// Image embeddings for training, with the frozen vision tower's output kept once computed: the
// tower is the expensive half, and when it does not train an image's tower output never changes.
#pragma once
#include "generate/vlm.h"

#include <map>
#include <string>
#include <vector>

namespace seva::train {

class ImageFeatures {
 public:
  // `tower_trains`: the vision encoder has trainable parameters, so nothing is kept and gradients
  // flow through it. Otherwise encoder outputs are kept up to `budget_bytes` (LLaVA-1.5-7B: 576 ×
  // 1024 values, ~1.2 MB in bfloat16, per image) and recomputed past it.
  ImageFeatures(generate::Vlm& vlm, std::string images_dir, bool tower_trains,
                int64_t budget_bytes = int64_t{2} << 30);

  // The projector's output for each of these images (paths relative to the images directory).
  // The projector runs at each call, so it, or LoRA on it, trains like any other layer.
  std::vector<torch::Tensor> operator()(const std::vector<std::string>& images);

 private:
  std::vector<torch::Tensor> tower(const std::vector<std::string>& images);
  generate::Vlm& vlm_;
  std::string images_dir_;
  bool tower_trains_;
  int64_t budget_bytes_, cached_bytes_ = 0;
  std::map<std::string, torch::Tensor> kept_;
};

}  // namespace seva::train
