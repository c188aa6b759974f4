// Model configuration: config.json of a llava-hf checkpoint, with transformers' defaults.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seva::model {

// transformers' LlamaConfig (the fields LLaVA-1.5 uses), same defaults.
struct LlamaConfig {
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = -1;  // -1: same as num_attention_heads (no GQA)
  int64_t head_dim = -1;             // -1: hidden_size / num_attention_heads
  std::string hidden_act = "silu";
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool attention_bias = false;
  bool qkv_bias = false;  // biased q/k/v projections only (Qwen2): o_proj keeps no bias
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  int64_t bos_token_id = 1, eos_token_id = 2, pad_token_id = -1;

  // M-RoPE (Qwen2-VL): how many of the head_dim/2 rotary frequencies follow the temporal, the
  // height and the width position, in that order. Empty: one position per token (plain RoPE).
  std::vector<int64_t> mrope_section;

  int64_t kv_heads() const { return num_key_value_heads > 0 ? num_key_value_heads : num_attention_heads; }
  int64_t dim_per_head() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  // The decoder fields every family's text_config writes (a family adds its own).
  nlohmann::json to_json() const;
};

// transformers' CLIPVisionConfig, same defaults.
struct ClipVisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  std::string hidden_act = "quick_gelu";
  double layer_norm_eps = 1e-5;
  int64_t projection_dim = 512;

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

// transformers' LlavaConfig.
struct LlavaConfig {
  LlamaConfig text;
  ClipVisionConfig vision;
  int64_t image_token_index = 32000;
  int64_t pad_token_id = -1;
  std::string projector_hidden_act = "gelu";
  std::string vision_feature_select_strategy = "default";  // "default" drops CLS, "full" keeps it
  int64_t vision_feature_layer = -2;
  bool projector_bias = true;  // newer transformers: multimodal_projector_bias

  // Image embeddings that replace one <image> token.
  int64_t image_tokens() const {
    return vision.num_patches() + (vision_feature_select_strategy == "full" ? 1 : 0);
  }
  // How many CLIP encoder layers must run to reach vision_feature_layer.
  int64_t vision_layers_needed() const;

  // Parses a config.json object; unknown values of known fields (an activation, a strategy,
  // rope_scaling) are refused by name. `source` names the file in errors.
  static LlavaConfig from_json(const nlohmann::json& j, const std::string& source);
  static LlavaConfig load(const std::string& model_dir);
  // A complete config.json (every field written, not a diff against defaults).
  nlohmann::json to_json() const;
};

// The activations both configs may name; anything else is refused.
bool is_supported_activation(const std::string& name);

}  // namespace seva::model
