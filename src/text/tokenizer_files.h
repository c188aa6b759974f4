// Reads a Hugging Face tokenizer directory's JSON files into plain settings (no sentencepiece here).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seva::text {

// One entry of added_tokens_decoder (HF AddedToken).
struct AddedToken {
  std::string content;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
  bool special = false;
};

// The settings of tokenizer_config.json, overlaid with special_tokens_map.json (which wins, as in
// transformers' from_pretrained); added_tokens.json is used only when the config has no
// added_tokens_decoder. Defaults are LlamaTokenizer's.
struct TokenizerSettings {
  std::string model_path;                       // <dir>/tokenizer.model (sentencepiece)
  std::string json_path;                        // <dir>/tokenizer.json (byte-level BPE)
  std::map<int64_t, AddedToken> added_tokens;   // id -> token
  std::map<std::string, std::string> special;   // "bos_token" etc. -> content (absent = None)
  std::vector<std::string> additional_special;  // additional_special_tokens contents
  bool add_bos_token = true;
  bool add_eos_token = false;
  bool legacy = true;  // transformers' default when the config does not say
  bool add_prefix_space = true;
  bool clean_up_tokenization_spaces = false;
  std::string padding_side = "left";
  bool split_special_tokens = false;  // special tokens in text are tokenized as text (BPE only)
};

// Throws std::runtime_error naming the missing or malformed file. tokenizer.model and
// tokenizer_config.json are required; special_tokens_map.json and added_tokens.json optional.
TokenizerSettings read_tokenizer_settings(const std::string& dir);

// The same for a tokenizers directory: tokenizer.json and tokenizer_config.json are required.
// Defaults are those of transformers' fast tokenizers: no special tokens, add_bos_token false,
// legacy false, no prefix space, no clean-up; Qwen2Tokenizer(Fast) defaults unk, eos and pad to
// "<|endoftext|>" (Qwen2's configs set unk_token null, which stays None).
TokenizerSettings read_fast_tokenizer_settings(const std::string& dir);

// True when a file (or directory) exists at path.
bool file_exists(const std::string& path);

// Whole file as bytes; throws "cannot read PATH: reason".
std::string read_binary_file(const std::string& path);

}  // namespace seva::text
