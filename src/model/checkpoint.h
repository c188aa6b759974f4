// Loading and saving llava-hf checkpoints: config.json + safetensors (single or sharded), with
// one rename table for the two key layouts and strict key and shape checks.
#pragma once
#include "io/safetensors.h"
#include "model/llava.h"

#include <string>

namespace seva::model {

struct LoadOptions {
  torch::ScalarType dtype = torch::kFloat32;  // compute dtype; F16/BF16/F32 weights are converted
  torch::Device device = torch::kCPU;
};

// Maps a checkpoint key to this model's parameter name: the Hub / transformers ≤ 4.51 layout
// (language_model.model.*, vision_tower.*, multi_modal_projector.*, language_model.lm_head.*) is
// ours already; the newer one (model.language_model.*, model.vision_tower.*,
// model.multi_modal_projector.*, lm_head.*) is renamed. Returns "" for buffers that carry no
// weights (position_ids, rotary inv_freq), which are skipped.
std::string canonical_key(const std::string& key);

// Copies every parameter of `module` from `ckpt`; a missing, unexpected or mis-shaped tensor is
// an error naming the tensor and its file. `what` names the checkpoint in messages.
void load_parameters(torch::nn::Module& module, const io::Checkpoint& ckpt, torch::ScalarType dtype);

// Builds the model from DIR/config.json and loads DIR's weights.
LlavaForConditionalGeneration load_llava(const std::string& dir, const LoadOptions& opts = {});

// Writes DIR/config.json and the weights (sharded above `max_shard_bytes`), in the Hub layout.
// Tokenizer and preprocessor files are not written here (copy them from the source model).
void save_llava(LlavaForConditionalGenerationImpl& model, const std::string& dir,
                uint64_t max_shard_bytes = 5ull << 30);

}  // namespace seva::model
