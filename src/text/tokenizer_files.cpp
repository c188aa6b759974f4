// Parsing of tokenizer_config.json, special_tokens_map.json and added_tokens.json.
#include "text/tokenizer_files.h"

#include "io/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

namespace seva::text {
namespace {

using nlohmann::json;
// Token ids are int64 in the tensors but index vocabularies of at most a few million rows; an id
// from a file beyond this is an error, not an allocation.
constexpr int64_t kMaxTokenId = (int64_t{1} << 31) - 1;

json read_json_file(const std::string& path) {
  const std::string text = read_binary_file(path);
  try {
    return io::parse_json(text);  // depth-bounded: tokenizer files come from strangers
  } catch (const json::parse_error& e) {
    throw std::runtime_error("malformed JSON in " + path + " at byte " + std::to_string(e.byte) + ": " +
                             e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("malformed JSON in " + path + ": " + e.what());
  }
}

// A special-token value: "<s>", {"content": "<s>", ...}, or null (returns false).
bool token_content(const json& v, std::string& out) {
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    out = v["content"].get<std::string>();
    return true;
  }
  return false;
}

bool get_bool(const json& cfg, const char* key, bool fallback) {
  auto it = cfg.find(key);
  return (it != cfg.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

const char* const kSpecialKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                    "pad_token", "cls_token", "mask_token"};

void read_special(const json& j, TokenizerSettings& s, const std::string& path) {
  for (const char* key : kSpecialKeys) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    std::string c;
    if (token_content(*it, c))
      s.special[key] = c;
    else if (it->is_null())
      s.special.erase(key);
    else
      throw std::runtime_error(path + ": " + key + " is neither a string nor a token object");
  }
  if (auto it = j.find("additional_special_tokens"); it != j.end() && it->is_array()) {
    s.additional_special.clear();
    for (const auto& v : *it) {
      std::string c;
      if (!token_content(v, c))
        throw std::runtime_error(path + ": an additional_special_tokens entry is not a token");
      s.additional_special.push_back(c);
    }
  }
}

// tokenizer_config.json over the defaults already in `s`, then added_tokens.json (when the
// config has no added_tokens_decoder) and special_tokens_map.json.
void read_config_files(const std::string& dir, const json& cfg, TokenizerSettings& s) {
  const std::string config_path = dir + "/tokenizer_config.json";
  const std::string map_path = dir + "/special_tokens_map.json";
  const std::string added_path = dir + "/added_tokens.json";
  s.add_bos_token = get_bool(cfg, "add_bos_token", s.add_bos_token);
  s.add_eos_token = get_bool(cfg, "add_eos_token", s.add_eos_token);
  s.legacy = get_bool(cfg, "legacy", s.legacy);
  s.add_prefix_space = get_bool(cfg, "add_prefix_space", s.add_prefix_space);
  s.clean_up_tokenization_spaces = get_bool(cfg, "clean_up_tokenization_spaces", s.clean_up_tokenization_spaces);
  s.split_special_tokens = get_bool(cfg, "split_special_tokens", s.split_special_tokens);
  if (auto it = cfg.find("padding_side"); it != cfg.end() && it->is_string()) s.padding_side = *it;
  read_special(cfg, s, config_path);

  if (auto it = cfg.find("added_tokens_decoder"); it != cfg.end() && it->is_object() && !it->empty()) {
    for (const auto& [key, v] : it->items()) {
      AddedToken t;
      if (!v.is_object() || !v.contains("content") || !v["content"].is_string())
        throw std::runtime_error(config_path + ": added_tokens_decoder[" + key + "] has no content");
      t.content = v["content"];
      t.lstrip = get_bool(v, "lstrip", false);
      t.rstrip = get_bool(v, "rstrip", false);
      t.single_word = get_bool(v, "single_word", false);
      t.normalized = get_bool(v, "normalized", false);
      t.special = get_bool(v, "special", false);
      int64_t id = -1;
      try {
        size_t used = 0;
        id = std::stoll(key, &used);
        if (used != key.size()) id = -1;
      } catch (const std::exception&) {
      }
      if (id < 0 || id > kMaxTokenId)
        throw std::runtime_error(config_path + ": added_tokens_decoder key '" + key + "' is not a token id (0.." +
                                 std::to_string(kMaxTokenId) + ")");
      s.added_tokens[id] = t;
    }
  } else if (file_exists(added_path)) {
    const json added = read_json_file(added_path);
    if (!added.is_object()) throw std::runtime_error(added_path + ": not a JSON object");
    for (const auto& [content, id] : added.items()) {
      // A uint64 above int64's range would wrap to a negative id: bounded as the decoder keys are.
      if (!id.is_number_integer() || (id.is_number_unsigned() && id.get<uint64_t>() > uint64_t(kMaxTokenId)) ||
          id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxTokenId)
        throw std::runtime_error(added_path + ": id of '" + content + "' is not a token id (0.." +
                                 std::to_string(kMaxTokenId) + ")");
      AddedToken t;
      t.content = content;
      t.normalized = true;
      s.added_tokens[id.get<int64_t>()] = t;
    }
  }

  if (file_exists(map_path)) {
    const json m = read_json_file(map_path);
    if (!m.is_object()) throw std::runtime_error(map_path + ": not a JSON object");
    read_special(m, s, map_path);
  }
}

json read_config(const std::string& config_path) {
  if (!file_exists(config_path)) throw std::runtime_error("tokenizer file missing: " + config_path);
  json cfg = read_json_file(config_path);
  if (!cfg.is_object()) throw std::runtime_error(config_path + ": not a JSON object");
  return cfg;
}

}  // namespace

std::string read_binary_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path + ": read error");
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TokenizerSettings read_tokenizer_settings(const std::string& dir) {
  TokenizerSettings s;
  s.model_path = dir + "/tokenizer.model";
  if (!file_exists(s.model_path)) throw std::runtime_error("tokenizer file missing: " + s.model_path);
  const json cfg = read_config(dir + "/tokenizer_config.json");
  // LlamaTokenizer's defaults (the struct's own, and these tokens).
  s.special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}};
  read_config_files(dir, cfg, s);
  return s;
}

TokenizerSettings read_fast_tokenizer_settings(const std::string& dir) {
  TokenizerSettings s;
  s.json_path = dir + "/tokenizer.json";
  if (!file_exists(s.json_path)) throw std::runtime_error("tokenizer file missing: " + s.json_path);
  const json cfg = read_config(dir + "/tokenizer_config.json");
  s.add_bos_token = false;
  s.legacy = false;
  s.add_prefix_space = false;
  auto cls = cfg.find("tokenizer_class");
  if (cls != cfg.end() && cls->is_string() && cls->get<std::string>().rfind("Qwen2Tokenizer", 0) == 0)
    s.special = {{"unk_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}, {"pad_token", "<|endoftext|>"}};
  read_config_files(dir, cfg, s);
  return s;
}

}  // namespace seva::text
