// Log-probabilities of answers given an image and a prompt, computed with shared-prefix packing:
// one sequence per example `[prompt][answer_1]…[answer_k]` under a block attention mask (each
// answer sees the prompt and itself; its positions restart after the prompt), so the image and
// the prompt are run once for all answers. The lm_head and log-softmax run only at answer positions.
#pragma once
#include "model/vlm_model.h"

#include <vector>

namespace seva::train {

// One prompt (holding one image marker) and the token ids of its answers (the end-of-answer token included).
struct PackedExample {
  std::vector<int64_t> prompt_ids;
  std::vector<std::vector<int64_t>> answers;
};

// Summed log-probability of each answer: out[e] is (k_e,) float32 with autograd when the model
// has trainable parameters and grad mode is on. image_features: model.image_features' output,
// one per example.
std::vector<torch::Tensor> packed_logps(model::VisionLanguageModelImpl& model,
                                        const std::vector<PackedExample>& examples,
                                        const std::vector<torch::Tensor>& image_features);

// The official trainer's way, kept for tests and the speed comparison: every answer is its own
// sequence [prompt][answer] with the image features repeated.
std::vector<torch::Tensor> separate_logps(model::VisionLanguageModelImpl& model,
                                          const std::vector<PackedExample>& examples,
                                          const std::vector<torch::Tensor>& image_features);

}  // namespace seva::train
