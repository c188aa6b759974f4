// LoRA adapters on the language model's linear layers, in PEFT's on-disk layout
// (adapter_config.json + adapter_model.safetensors), loadable whether PEFT wrapped the whole
// LLaVA model or only its language model.
#pragma once
#include "model/vlm_model.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seva::model {

struct LoraConfig {
  int64_t r = 1024;          // the paper's rank
  double alpha = 2048;       // scaling = alpha / r (alpha / sqrt(r) with use_rslora)
  double dropout = 0.05;
  bool use_rslora = false;
  // Module names (the last component) that get an adapter, as PEFT matches them: the language
  // model's decoder layers (q_proj ... down_proj) and the projector's linear_1 / linear_2 (names
  // only the projector has). Never lm_head or the vision tower (whose q/k/v_proj share the
  // decoder's names; LLaVA's recipes leave the tower frozen).
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
  // PEFT's other form: one regular expression that must match a module's whole name (in the
  // adapter's layout, e.g. model.language_model.layers.0.self_attn.q_proj). When set it replaces
  // target_modules, and is what adapter_config.json holds.
  std::string target_regex;
  bool targets_projector() const;
  double scaling() const;
  // adapter_config.json as PEFT writes it (task_type CAUSAL_LM, peft_type LORA).
  nlohmann::json to_peft_json() const;
  static LoraConfig from_peft_json(const nlohmann::json& j, const std::string& source);
};

// The linear layers LoRA targets, by parameter-name prefix (language_model.model.layers.N....,
// multi_modal_projector.linear_1).
std::vector<std::pair<std::string, LinearImpl*>> lora_targets(VisionLanguageModelImpl& model,
                                                              const LoraConfig& cfg);

// Attaches fresh adapters (PEFT init; A drawn from torch's generator, seed it first) and freezes
// everything else. Returns the trainable parameters. `dtype`: the adapters' (default: the base
// weights'); training passes training_lora_dtype(model.dtype()).
std::vector<torch::Tensor> add_lora(VisionLanguageModelImpl& model, const LoraConfig& cfg,
                                    c10::optional<torch::ScalarType> dtype = c10::nullopt);
// Mixed precision: adapters that train over a bfloat16/float16 base are kept in float32 (and so
// their AdamW state); over a float32/float64 base, in the base's dtype.
torch::ScalarType training_lora_dtype(torch::ScalarType base);
void set_lora_enabled(VisionLanguageModelImpl& model, bool enabled);
void merge_lora(VisionLanguageModelImpl& model);
// (name, tensor) of every adapter weight, our names (language_model.model.layers.0.self_attn.q_proj.lora_A.weight).
std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(VisionLanguageModelImpl& model);

// The key PEFT gives our parameter `name` in adapter_model.safetensors: base_model.model. and the
// name in the family's checkpoint layout.
std::string adapter_key(const VisionLanguageModelImpl& model, const std::string& name);

// Writes DIR/adapter_config.json and DIR/adapter_model.safetensors with the keys PEFT writes for
// the model (adapter_key).
void save_adapter(VisionLanguageModelImpl& model, const LoraConfig& cfg, const std::string& dir,
                  const std::string& base_model = "");
// Attaches the adapter in DIR. Keys may be relative to LLaVA (base_model.model.language_model.model.layers...),
// to its language model (base_model.model.model.layers...), or to the newer layout
// (base_model.model.model.language_model.layers...); an adapter name (".default") is accepted.
// A non_lora_trainables.safetensors next to it (LLaVA's file for parts trained whole beside the
// adapter, e.g. `seva sft --lora --train projector`) is loaded into the model too.
LoraConfig load_adapter(VisionLanguageModelImpl& model, const std::string& dir);

}  // namespace seva::model
