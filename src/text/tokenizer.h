// Tokenizer: the Hugging Face slow LlamaTokenizer (sentencepiece + added tokens), legacy=false
// exact, or a Hugging Face fast byte-level BPE tokenizer (tokenizer.json: Qwen2, Qwen2-VL, GPT-2,
// Llama 3), whichever the directory holds; callers need not know which.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/sp_model.h"
#include "text/tokenizer_files.h"

namespace seva::text {

struct EncodedBatch {
  std::vector<std::vector<int64_t>> input_ids;       // each padded on the left with pad_id()
  std::vector<std::vector<int64_t>> attention_mask;  // 0 on padding, 1 elsewhere
};

class BpeTokenizer;

class Tokenizer {
 public:
  // Loads <dir>/tokenizer.model (a BPE or UNIGRAM sentencepiece model) and tokenizer_config.json,
  // plus special_tokens_map.json / added_tokens.json where present. A directory without
  // tokenizer.model but with tokenizer.json is loaded as a fast byte-level BPE tokenizer
  // (Qwen2TokenizerFast, PreTrainedTokenizerFast) with tokenizer_config.json. Throws
  // std::runtime_error naming the missing or unusable file (and field).
  static Tokenizer load(const std::string& dir);

  // tok(text)["input_ids"]: BOS (if add_bos_token) + ids (+ EOS if add_eos_token); for BPE, what
  // tokenizer.json's post-processor adds (Qwen2: nothing).
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
  // tok.tokenize(text): the tokens, without BOS/EOS.
  std::vector<std::string> tokenize(const std::string& text) const;
  // tok.decode(ids, skip_special_tokens=...) with transformers 4.40's defaults. For BPE, ids that
  // are no token are dropped as tokenizers does, and invalid UTF-8 becomes U+FFFD.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;
  std::vector<std::string> convert_ids_to_tokens(const std::vector<int64_t>& ids,
                                                 bool skip_special_tokens = false) const;
  // tok(texts, padding=True) with left padding.
  EncodedBatch batch_encode_left_padded(const std::vector<std::string>& texts,
                                        bool add_special_tokens = true) const;

  std::string id_to_piece(int64_t id) const;         // throws for an unknown id
  int64_t piece_to_id(const std::string& piece) const;  // unk_id() when absent (-1 with no unk)
  // The id of a token, added ones included ("<|image_pad|>", "<|im_start|>"); -1 when absent.
  int64_t token_to_id(const std::string& token) const;
  bool is_special_id(int64_t id) const { return special_ids_.count(id) != 0; }

  int64_t size() const { return size_; }  // len(tokenizer): sentencepiece pieces + added tokens
  int64_t sp_size() const { return sp_size_; }  // the model's own vocabulary, no added tokens
  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t pad_id() const { return pad_id_; }  // -1 if there is no pad token
  int64_t unk_id() const { return unk_id_; }
  int64_t image_token_id() const { return image_id_; }  // id of "<image>", -1 if absent
  bool legacy() const { return settings_.legacy; }

 private:
  static Tokenizer load_bpe(const std::string& dir);
  std::vector<std::string> sp_tokenize(const std::string& chunk) const;
  std::string tokens_to_string(std::vector<std::string> tokens) const;
  int64_t special_id(const char* key) const;  // id of a named special token, -1 if None

  TokenizerSettings settings_;
  SpModel sp_;
  int64_t sp_size_ = 0;
  int64_t size_ = 0;
  std::map<int64_t, AddedToken> added_decoder_;
  std::unordered_map<std::string, int64_t> added_encoder_;
  std::vector<std::string> added_longest_first_;  // split order
  std::set<std::string> special_tokens_;          // all_special_tokens
  std::set<int64_t> special_ids_;                 // all_special_ids
  std::set<std::string> legacy_added_tokens_;     // decoded apart from the sentencepiece text
  std::string unk_token_;
  size_t unk_token_length_ = 0;
  int64_t bos_id_ = -1, eos_id_ = -1, pad_id_ = -1, unk_id_ = -1, image_id_ = -1;
  // Set for a tokenizer.json directory: encoding and decoding go there; the sentencepiece
  // members above are then unused. Shared so that Tokenizer stays cheap to copy.
  std::shared_ptr<const BpeTokenizer> bpe_;
};

}  // namespace seva::text
