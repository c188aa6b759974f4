// Loading and saving checkpoints of every family: config.json + safetensors (single or sharded),
// the family's key renames, strict key and shape checks.
#pragma once
#include "io/safetensors.h"
#include "model/llava.h"
#include "model/vlm_model.h"

#include <functional>
#include <memory>

#include <string>

namespace seva::model {

struct LoadOptions {
  torch::ScalarType dtype = torch::kFloat32;  // compute dtype; F16/BF16/F32 weights are converted
  torch::Device device = torch::kCPU;
};

// A loaded model of any family.
using VisionLanguageModel = std::shared_ptr<VisionLanguageModelImpl>;

// Copies the files that travel with the weights (tokenizer, processor, chat template, generation
// config, seva.json) from one model directory to another, those that exist.
void copy_processor_files(const std::string& from_dir, const std::string& to_dir);

// LLaVA's key map: a checkpoint key to this model's parameter name: the Hub / transformers ≤ 4.51 layout
// (language_model.model.*, vision_tower.*, multi_modal_projector.*, language_model.lm_head.*) is
// ours already; the newer one (model.language_model.*, model.vision_tower.*,
// model.multi_modal_projector.*, lm_head.*) is renamed. Returns "" for buffers that carry no
// weights (position_ids, rotary inv_freq), which are skipped.
std::string canonical_key(const std::string& key);

// Copies every parameter of `module` from `ckpt`, checkpoint keys mapped to parameter names by
// `to_name` ("" skips a key); a missing, unexpected or mis-shaped tensor is an error naming the
// tensor and its file.
void load_parameters(torch::nn::Module& module, const io::Checkpoint& ckpt, torch::ScalarType dtype,
                     const std::function<std::string(const std::string&)>& to_name = canonical_key);

// config.json's model_type in DIR ("llava" when absent, as llava-hf's oldest configs).
std::string model_type_of(const std::string& dir);
// Builds the model DIR/config.json names (llava, qwen2_vl, qwen2_5_vl) and loads its weights; an
// unknown model_type is an error naming the file and the value.
VisionLanguageModel load_model(const std::string& dir, const LoadOptions& opts = {});
// Writes DIR/config.json and the weights (sharded above `max_shard_bytes`) in the family's Hub
// key layout. Tokenizer and preprocessor files are not written here.
void save_model(VisionLanguageModelImpl& model, const std::string& dir, uint64_t max_shard_bytes = 5ull << 30);

// Builds the model from DIR/config.json and loads DIR's weights.
LlavaForConditionalGeneration load_llava(const std::string& dir, const LoadOptions& opts = {});

// Writes DIR/config.json and the weights (sharded above `max_shard_bytes`), in the Hub layout.
// Tokenizer and preprocessor files are not written here (copy them from the source model).
void save_llava(LlavaForConditionalGenerationImpl& model, const std::string& dir,
                uint64_t max_shard_bytes = 5ull << 30);

}  // namespace seva::model
