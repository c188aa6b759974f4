#include "model/qwen2_vl_config.h"

#include "model/config_fields.h"

#include <numeric>
#include <stdexcept>

namespace seva::model {
namespace {

// rope_scaling (transformers 4.x) or rope_parameters (5.x): M-RoPE's sections, and rope_theta
// where 5.x moved it. Any other scaling type changes the positions seva computes: refused.
void read_rope(const nlohmann::json& j, LlamaConfig& c, const std::string& where) {
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) throw std::runtime_error(where + ": " + key + " is not an object");
    std::string type = "default";
    get_if(*it, "rope_type", type, where);
    get_if(*it, "type", type, where);
    if (type != "default" && type != "mrope")
      throw std::runtime_error(where + ": " + key + " type '" + type + "' is not supported (supported: mrope, default)");
    get_if(*it, "mrope_section", c.mrope_section, where);
    get_if(*it, "rope_theta", c.rope_theta, where);
  }
  if (c.mrope_section.size() != 3)
    throw std::runtime_error(where + ": rope_scaling.mrope_section must list 3 sections (temporal, height, width)");
  for (auto s : c.mrope_section) check_size(s, 0, 4096, "mrope_section", where);
  const int64_t sum = std::accumulate(c.mrope_section.begin(), c.mrope_section.end(), int64_t{0});
  if (sum * 2 != c.dim_per_head())
    throw std::runtime_error(where + ": rope_scaling.mrope_section sums to " + std::to_string(sum) +
                             ", not head_dim/2 = " + std::to_string(c.dim_per_head() / 2));
}

LlamaConfig parse_text(const nlohmann::json& top, const std::string& where) {
  // Older configs hold the decoder's fields at the top level, newer ones (also) in text_config:
  // read the top level, then let text_config win.
  nlohmann::json j = top;
  if (top.contains("text_config") && top["text_config"].is_object())
    for (auto& [k, v] : top["text_config"].items()) j[k] = v;
  LlamaConfig c;
  // Qwen2's own defaults where a field is absent.
  c.vocab_size = 152064;
  c.hidden_size = 8192;
  c.intermediate_size = 29568;
  c.num_hidden_layers = 80;
  c.num_attention_heads = 64;
  c.num_key_value_heads = 8;
  c.max_position_embeddings = 32768;
  c.rope_theta = 1000000.0;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = 151643;
  c.eos_token_id = 151645;
  c.qkv_bias = true;
  read_text_fields(j, c, where);
  bool sliding = false;
  get_if(j, "use_sliding_window", sliding, where);
  if (sliding) throw std::runtime_error(where + ": use_sliding_window true is not supported");
  // Sizes first: read_rope divides by num_attention_heads (dim_per_head), which may be 0 here.
  check_text_sizes(c, where);
  read_rope(j, c, where);
  return c;
}

Qwen2VLVisionConfig parse_vision(const nlohmann::json& j, bool windowed, const std::string& where) {
  Qwen2VLVisionConfig c;
  c.windowed = windowed;
  if (windowed) {
    c.hidden_act = "silu";
    c.intermediate_size = 3420;
    c.fullatt_block_indexes = {7, 15, 23, 31};
    get_if(j, "hidden_size", c.hidden_size, where);
    get_if(j, "intermediate_size", c.intermediate_size, where);
    get_if(j, "out_hidden_size", c.out_hidden_size, where);
    get_if(j, "window_size", c.window_size, where);
    get_if(j, "fullatt_block_indexes", c.fullatt_block_indexes, where);
  } else {
    // Qwen2-VL names the encoder width embed_dim and the output width hidden_size.
    int64_t mlp_ratio = 4;
    get_if(j, "embed_dim", c.hidden_size, where);
    get_if(j, "hidden_size", c.out_hidden_size, where);
    if (j.contains("mlp_ratio") && j["mlp_ratio"].is_number()) {
      double r = j["mlp_ratio"].get<double>();
      if (!(r > 0 && r < 1024)) throw std::runtime_error(where + ": vision_config.mlp_ratio is outside (0, 1024)");
      c.intermediate_size = static_cast<int64_t>(static_cast<double>(c.hidden_size) * r);
    } else {
      c.intermediate_size = c.hidden_size * mlp_ratio;
    }
  }
  get_if(j, "depth", c.depth, where);
  get_if(j, "num_heads", c.num_heads, where);
  get_if(j, "in_chans", c.in_channels, where);
  get_if(j, "in_channels", c.in_channels, where);
  get_if(j, "spatial_patch_size", c.patch_size, where);
  get_if(j, "patch_size", c.patch_size, where);
  get_if(j, "spatial_merge_size", c.spatial_merge_size, where);
  get_if(j, "temporal_patch_size", c.temporal_patch_size, where);
  get_if(j, "hidden_act", c.hidden_act, where);
  check_activation(c.hidden_act, "vision_config.hidden_act", where);
  check_size(c.depth, 1, 1024, "vision_config.depth", where);
  check_size(c.hidden_size, 1, int64_t{1} << 16, "vision_config.hidden_size", where);
  check_size(c.intermediate_size, 1, int64_t{1} << 18, "vision_config.intermediate_size", where);
  check_size(c.num_heads, 1, 1024, "vision_config.num_heads", where);
  check_size(c.out_hidden_size, 1, int64_t{1} << 16, "vision_config.out_hidden_size", where);
  check_size(c.in_channels, 1, 4, "vision_config.in_channels", where);
  check_size(c.patch_size, 1, 1024, "vision_config.patch_size", where);
  check_size(c.spatial_merge_size, 1, 16, "vision_config.spatial_merge_size", where);
  check_size(c.temporal_patch_size, 1, 16, "vision_config.temporal_patch_size", where);
  check_size(c.window_size, c.patch_size * c.spatial_merge_size, 1 << 16, "vision_config.window_size", where);
  for (auto b : c.fullatt_block_indexes) check_size(b, 0, c.depth - 1, "vision_config.fullatt_block_indexes", where);
  if (c.hidden_size % c.num_heads != 0 || c.head_dim() % 4 != 0)
    throw std::runtime_error(where + ": vision_config head width " + std::to_string(c.hidden_size) + "/" +
                             std::to_string(c.num_heads) + " is not a multiple of 4");
  return c;
}

}  // namespace

Qwen2VLConfig Qwen2VLConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": config is not a JSON object");
  Qwen2VLConfig c;
  get_if(j, "model_type", c.model_type, where);
  if (c.model_type != "qwen2_vl" && c.model_type != "qwen2_5_vl")
    throw std::runtime_error(where + ": model_type '" + c.model_type + "' is not a Qwen2-VL family model");
  c.text = parse_text(j, where);
  nlohmann::json v = j.contains("vision_config") && j["vision_config"].is_object() ? j["vision_config"]
                                                                                  : nlohmann::json::object();
  c.vision = parse_vision(v, c.model_type == "qwen2_5_vl", where);
  if (c.vision.out_hidden_size != c.text.hidden_size)
    throw std::runtime_error(where + ": the vision merger's output width " + std::to_string(c.vision.out_hidden_size) +
                             " differs from the decoder's hidden_size " + std::to_string(c.text.hidden_size));
  get_if(j, "image_token_id", c.image_token_id, where);
  get_if(j, "vision_start_token_id", c.vision_start_token_id, where);
  get_if(j, "vision_end_token_id", c.vision_end_token_id, where);
  get_if(j, "video_token_id", c.video_token_id, where);
  check_size(c.image_token_id, 0, c.text.vocab_size - 1, "image_token_id", where);
  return c;
}

nlohmann::json Qwen2VLConfig::to_json() const {
  nlohmann::json t = text.to_json();
  t["rope_scaling"] = {{"type", "mrope"}, {"rope_type", "default"}, {"mrope_section", text.mrope_section}};
  t["use_sliding_window"] = false;
  nlohmann::json v = {
      {"depth", vision.depth},
      {"num_heads", vision.num_heads},
      {"in_chans", vision.in_channels},
      {"in_channels", vision.in_channels},
      {"patch_size", vision.patch_size},
      {"spatial_patch_size", vision.patch_size},
      {"spatial_merge_size", vision.spatial_merge_size},
      {"temporal_patch_size", vision.temporal_patch_size},
      {"hidden_act", vision.hidden_act},
  };
  if (vision.windowed) {
    v["model_type"] = "qwen2_5_vl";
    v["hidden_size"] = vision.hidden_size;
    v["intermediate_size"] = vision.intermediate_size;
    v["out_hidden_size"] = vision.out_hidden_size;
    v["window_size"] = vision.window_size;
    v["fullatt_block_indexes"] = vision.fullatt_block_indexes;
  } else {
    v["model_type"] = "qwen2_vl";
    v["embed_dim"] = vision.hidden_size;
    v["hidden_size"] = vision.out_hidden_size;
    v["mlp_ratio"] = static_cast<double>(vision.intermediate_size) / static_cast<double>(vision.hidden_size);
  }
  nlohmann::json j = t;
  t["model_type"] = vision.windowed ? "qwen2_5_vl_text" : "qwen2_vl_text";
  j["text_config"] = t;
  j["model_type"] = model_type;
  j["architectures"] = {vision.windowed ? "Qwen2_5_VLForConditionalGeneration" : "Qwen2VLForConditionalGeneration"};
  j["vision_config"] = v;
  j["image_token_id"] = image_token_id;
  j["vision_start_token_id"] = vision_start_token_id;
  j["vision_end_token_id"] = vision_end_token_id;
  j["video_token_id"] = video_token_id;
  j["torch_dtype"] = "float32";
  return j;
}

}  // namespace seva::model
