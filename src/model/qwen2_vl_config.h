// config.json of Qwen2-VL and Qwen2.5-VL checkpoints (transformers' Qwen2VLConfig and
// Qwen2_5_VLConfig, both layouts: text fields at the top level, or in text_config).
#pragma once
#include "model/config.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seva::model {

// The vision encoder of either version. Qwen2-VL: LayerNorm, fc1/fc2 MLP of embed_dim·mlp_ratio,
// full attention per image. Qwen2.5-VL: RMSNorm, SwiGLU MLP, window attention except in
// fullatt_block_indexes.
struct Qwen2VLVisionConfig {
  bool windowed = false;             // Qwen2.5-VL's encoder
  int64_t depth = 32;
  int64_t hidden_size = 1280;        // the encoder's width (Qwen2-VL's embed_dim)
  int64_t intermediate_size = 5120;  // MLP width (Qwen2-VL: embed_dim · mlp_ratio)
  int64_t num_heads = 16;
  int64_t out_hidden_size = 3584;    // the merger's output: the decoder's width
  int64_t in_channels = 3;
  int64_t patch_size = 14;
  int64_t spatial_merge_size = 2;
  int64_t temporal_patch_size = 2;
  std::string hidden_act = "quick_gelu";
  int64_t window_size = 112;                   // pixels per attention window side (Qwen2.5-VL)
  std::vector<int64_t> fullatt_block_indexes;  // blocks with full attention (Qwen2.5-VL)

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t patch_values() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
  int64_t merge_unit() const { return spatial_merge_size * spatial_merge_size; }
};

struct Qwen2VLConfig {
  std::string model_type = "qwen2_vl";  // or qwen2_5_vl
  LlamaConfig text;                     // the Qwen2 decoder: biased q/k/v, M-RoPE
  Qwen2VLVisionConfig vision;
  int64_t image_token_id = 151655;
  int64_t vision_start_token_id = 151652;
  int64_t vision_end_token_id = 151653;
  int64_t video_token_id = 151656;

  static Qwen2VLConfig from_json(const nlohmann::json& j, const std::string& source);
  // A complete config.json in transformers' layout for model_type (text fields at the top level
  // and in text_config, so both old and new transformers read it).
  nlohmann::json to_json() const;
};

}  // namespace seva::model
