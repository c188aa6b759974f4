// Reads a Hugging Face tokenizers file (tokenizer.json) whose model is a byte-level BPE: Qwen2,
// Qwen2-VL, Qwen2.5-VL, GPT-2, Llama 3 and the like. Anything else is refused by name.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "text/bpe_model.h"
#include "text/json_fields.h"
#include "text/pretokenize.h"
#include "text/tokenizer_files.h"

namespace seva::text {

// Larger files are refused before they are read (Qwen2's is 7 MB, Gemma's 34 MB).
constexpr uint64_t kMaxTokenizerJsonBytes = 512ull << 20;

struct AddedTokenEntry {
  int64_t id;
  AddedToken token;
};

// What the pipeline of tokenizer.json does, in the forms seva supports.
struct ByteLevelBpeSpec {
  BpeModelSpec model;
  bool nfc = false;                  // normalizer NFC (else none)
  std::vector<SplitPattern> splits;  // Split(Regex, Isolated) pre-tokenizers, in order
  bool byte_level_regex = false;     // ByteLevel's use_regex: the GPT-2 split after those
  bool add_prefix_space = false;     // ByteLevel's add_prefix_space
  std::vector<AddedTokenEntry> added_tokens;  // in file order
  // The post-processor's TemplateProcessing "single": ids around the text ($A) when special
  // tokens are added; empty for ByteLevel or none.
  std::vector<int64_t> prefix_ids, suffix_ids;
};

// Throws std::runtime_error, one line naming the file and the field, for malformed JSON, a wrong
// type, an unsupported component, a merge naming a token not in the vocabulary, duplicate or
// out-of-range ids, or a file over kMaxTokenizerJsonBytes.
ByteLevelBpeSpec read_tokenizer_json(const std::string& path);

namespace detail {
// The pipeline parts (bpe_json_pipeline.cpp); `id_limit` bounds the ids they may name.
void read_normalizer(const nlohmann::json& v, const jsonf::At& at, ByteLevelBpeSpec& spec);
void read_pre_tokenizer(const nlohmann::json& v, const jsonf::At& at, ByteLevelBpeSpec& spec);
void read_decoder(const nlohmann::json& v, const jsonf::At& at);
void read_post_processor(const nlohmann::json& v, const jsonf::At& at, int64_t id_limit, ByteLevelBpeSpec& spec);
}  // namespace detail

}  // namespace seva::text
