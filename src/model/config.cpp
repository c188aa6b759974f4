#include "model/config.h"

#include "model/config_fields.h"

#include "io/files.h"

#include <stdexcept>

namespace seva::model {
namespace {

const char* const kActivations[] = {"silu", "gelu", "quick_gelu", "gelu_new", "gelu_pytorch_tanh",
                                    "gelu_fast", "relu"};

}  // namespace

void check_size(int64_t value, int64_t lo, int64_t hi, const std::string& field, const std::string& where) {
  if (value < lo || value > hi)
    throw std::runtime_error(where + ": " + field + " " + std::to_string(value) + " is outside [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "]");
}

void check_activation(const std::string& act, const std::string& field, const std::string& where) {
  if (!is_supported_activation(act)) {
    std::string valid;
    for (const char* a : kActivations) valid += std::string(valid.empty() ? "" : ", ") + a;
    throw std::runtime_error(where + ": unsupported " + field + " '" + act + "' (supported: " + valid + ")");
  }
}

void check_text_sizes(const LlamaConfig& c, const std::string& where) {
  // Bounds far above any released LLaMA-family model, far below what would overflow.
  check_size(c.vocab_size, 1, int64_t{1} << 24, "text_config.vocab_size", where);
  check_size(c.hidden_size, 1, int64_t{1} << 16, "text_config.hidden_size", where);
  check_size(c.intermediate_size, 1, int64_t{1} << 18, "text_config.intermediate_size", where);
  check_size(c.num_hidden_layers, 1, 1024, "text_config.num_hidden_layers", where);
  check_size(c.num_attention_heads, 1, 1024, "text_config.num_attention_heads", where);
  check_size(c.num_key_value_heads, -1, 1024, "text_config.num_key_value_heads", where);  // -1 or 0: no GQA
  check_size(c.head_dim, -1, 4096, "text_config.head_dim", where);  // -1: hidden_size / heads
  check_size(c.max_position_embeddings, 1, int64_t{1} << 24, "text_config.max_position_embeddings", where);
  if (c.head_dim <= 0 && c.hidden_size % c.num_attention_heads != 0)
    throw std::runtime_error(where + ": text_config.hidden_size is not divisible by num_attention_heads");
  if (c.num_attention_heads % c.kv_heads() != 0)
    throw std::runtime_error(where + ": num_attention_heads is not a multiple of num_key_value_heads");
}

void read_text_fields(const nlohmann::json& j, LlamaConfig& c, const std::string& where) {
  get_if(j, "vocab_size", c.vocab_size, where);
  get_if(j, "hidden_size", c.hidden_size, where);
  get_if(j, "intermediate_size", c.intermediate_size, where);
  get_if(j, "num_hidden_layers", c.num_hidden_layers, where);
  get_if(j, "num_attention_heads", c.num_attention_heads, where);
  get_if(j, "num_key_value_heads", c.num_key_value_heads, where);
  get_if(j, "head_dim", c.head_dim, where);
  get_if(j, "hidden_act", c.hidden_act, where);
  get_if(j, "max_position_embeddings", c.max_position_embeddings, where);
  get_if(j, "rms_norm_eps", c.rms_norm_eps, where);
  get_if(j, "rope_theta", c.rope_theta, where);
  get_if(j, "attention_bias", c.attention_bias, where);
  get_if(j, "mlp_bias", c.mlp_bias, where);
  get_if(j, "tie_word_embeddings", c.tie_word_embeddings, where);
  get_if(j, "bos_token_id", c.bos_token_id, where);
  get_if(j, "eos_token_id", c.eos_token_id, where);
  get_if(j, "pad_token_id", c.pad_token_id, where);
  check_activation(c.hidden_act, "text_config.hidden_act", where);
}

namespace {

LlamaConfig parse_text(const nlohmann::json& j, const std::string& where) {
  LlamaConfig c;
  std::string model_type = "llama";
  get_if(j, "model_type", model_type, where);
  if (model_type != "llama" && model_type != "mistral")
    throw std::runtime_error(where + ": text_config.model_type '" + model_type +
                             "' is not supported (supported: llama)");
  read_text_fields(j, c, where);
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    throw std::runtime_error(where + ": text_config.rope_scaling " + j["rope_scaling"].dump() +
                             " is not supported (LLaVA-1.5 uses none)");
  check_text_sizes(c, where);
  return c;
}

ClipVisionConfig parse_vision(const nlohmann::json& j, const std::string& where) {
  ClipVisionConfig c;
  std::string model_type = "clip_vision_model";
  get_if(j, "model_type", model_type, where);
  if (model_type != "clip_vision_model")
    throw std::runtime_error(where + ": vision_config.model_type '" + model_type +
                             "' is not supported (supported: clip_vision_model)");
  get_if(j, "hidden_size", c.hidden_size, where);
  get_if(j, "intermediate_size", c.intermediate_size, where);
  get_if(j, "num_hidden_layers", c.num_hidden_layers, where);
  get_if(j, "num_attention_heads", c.num_attention_heads, where);
  get_if(j, "num_channels", c.num_channels, where);
  get_if(j, "image_size", c.image_size, where);
  get_if(j, "patch_size", c.patch_size, where);
  get_if(j, "hidden_act", c.hidden_act, where);
  get_if(j, "layer_norm_eps", c.layer_norm_eps, where);
  get_if(j, "projection_dim", c.projection_dim, where);
  check_activation(c.hidden_act, "vision_config.hidden_act", where);
  check_size(c.hidden_size, 1, int64_t{1} << 16, "vision_config.hidden_size", where);
  check_size(c.intermediate_size, 1, int64_t{1} << 18, "vision_config.intermediate_size", where);
  check_size(c.num_hidden_layers, 1, 1024, "vision_config.num_hidden_layers", where);
  check_size(c.num_attention_heads, 1, 1024, "vision_config.num_attention_heads", where);
  check_size(c.num_channels, 1, 4, "vision_config.num_channels", where);
  check_size(c.patch_size, 1, 1024, "vision_config.patch_size", where);
  check_size(c.image_size, c.patch_size, 8192, "vision_config.image_size", where);
  if (c.image_size % c.patch_size != 0)
    throw std::runtime_error(where + ": vision_config.image_size is not a multiple of patch_size");
  if (c.hidden_size % c.num_attention_heads != 0)
    throw std::runtime_error(where + ": vision_config.hidden_size is not divisible by num_attention_heads");
  return c;
}

}  // namespace

bool is_supported_activation(const std::string& name) {
  for (const char* a : kActivations)
    if (name == a) return true;
  return false;
}

int64_t LlavaConfig::vision_layers_needed() const {
  // hidden_states has num_hidden_layers + 1 entries: the embeddings, then each layer's output.
  int64_t n = vision.num_hidden_layers;
  return vision_feature_layer < 0 ? n + 1 + vision_feature_layer : vision_feature_layer;
}

LlavaConfig LlavaConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": config is not a JSON object");
  LlavaConfig c;
  std::string model_type;
  get_if(j, "model_type", model_type, where);
  if (!model_type.empty() && model_type != "llava")
    throw std::runtime_error(where + ": model_type '" + model_type + "' is not supported (supported: llava)");
  if (j.contains("text_config") && j["text_config"].is_object()) {
    c.text = parse_text(j["text_config"], where);
  }
  if (j.contains("vision_config") && j["vision_config"].is_object()) {
    c.vision = parse_vision(j["vision_config"], where);
  } else {
    // LlavaConfig's default vision tower: CLIP ViT-L/14 at 336 px.
    c.vision.intermediate_size = 4096;
    c.vision.hidden_size = 1024;
    c.vision.patch_size = 14;
    c.vision.image_size = 336;
    c.vision.num_hidden_layers = 24;
    c.vision.num_attention_heads = 16;
    c.vision.projection_dim = 768;
  }
  get_if(j, "image_token_index", c.image_token_index, where);
  get_if(j, "image_token_id", c.image_token_index, where);  // newer transformers' name
  get_if(j, "pad_token_id", c.pad_token_id, where);
  get_if(j, "projector_hidden_act", c.projector_hidden_act, where);
  get_if(j, "vision_feature_select_strategy", c.vision_feature_select_strategy, where);
  get_if(j, "multimodal_projector_bias", c.projector_bias, where);
  if (j.contains("vision_feature_layer") && j["vision_feature_layer"].is_array())
    throw std::runtime_error(where + ": a list of vision_feature_layer values is not supported");
  get_if(j, "vision_feature_layer", c.vision_feature_layer, where);
  check_activation(c.projector_hidden_act, "projector_hidden_act", where);
  if (c.vision_feature_select_strategy != "default" && c.vision_feature_select_strategy != "full")
    throw std::runtime_error(where + ": vision_feature_select_strategy '" + c.vision_feature_select_strategy +
                             "' is not supported (supported: default, full)");
  int64_t needed = c.vision_layers_needed();
  if (needed < 0 || needed > c.vision.num_hidden_layers)
    throw std::runtime_error(where + ": vision_feature_layer " + std::to_string(c.vision_feature_layer) +
                             " is outside the vision tower's " +
                             std::to_string(c.vision.num_hidden_layers) + " layers");
  return c;
}

LlavaConfig LlavaConfig::load(const std::string& model_dir) {
  std::string path = io::join_path(model_dir, "config.json");
  if (!io::file_exists(path)) throw std::runtime_error(path + ": no config.json in the model directory");
  return from_json(io::read_json(path), path);
}

nlohmann::json LlamaConfig::to_json() const {
  nlohmann::json t = {
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", kv_heads()},
      {"hidden_act", hidden_act},
      {"max_position_embeddings", max_position_embeddings},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"tie_word_embeddings", tie_word_embeddings},
      {"bos_token_id", bos_token_id},
      {"eos_token_id", eos_token_id},
  };
  if (head_dim > 0) t["head_dim"] = head_dim;
  if (pad_token_id >= 0) t["pad_token_id"] = pad_token_id;
  return t;
}

nlohmann::json LlavaConfig::to_json() const {
  nlohmann::json t = text.to_json();
  t["model_type"] = "llama";
  t["attention_bias"] = text.attention_bias;
  t["mlp_bias"] = text.mlp_bias;
  nlohmann::json v = {
      {"model_type", "clip_vision_model"},
      {"hidden_size", vision.hidden_size},
      {"intermediate_size", vision.intermediate_size},
      {"num_hidden_layers", vision.num_hidden_layers},
      {"num_attention_heads", vision.num_attention_heads},
      {"num_channels", vision.num_channels},
      {"image_size", vision.image_size},
      {"patch_size", vision.patch_size},
      {"hidden_act", vision.hidden_act},
      {"layer_norm_eps", vision.layer_norm_eps},
      {"projection_dim", vision.projection_dim},
  };
  nlohmann::json j = {
      {"architectures", {"LlavaForConditionalGeneration"}},
      {"model_type", "llava"},
      {"ignore_index", -100},
      {"image_token_index", image_token_index},
      {"projector_hidden_act", projector_hidden_act},
      {"vision_feature_select_strategy", vision_feature_select_strategy},
      {"vision_feature_layer", vision_feature_layer},
      {"text_config", t},
      {"vision_config", v},
      {"torch_dtype", "float32"},
  };
  if (!projector_bias) j["multimodal_projector_bias"] = false;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  return j;
}

}  // namespace seva::model
