// The byte-level BPE backend of text::Tokenizer: a tokenizer.json pipeline (added tokens, NFC,
// Split regexes, ByteLevel, BPE, post-processor; ByteLevel decoding) giving Hugging Face's ids.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe_json.h"
#include "text/bpe_model.h"

namespace seva::text {

class BpeTokenizer {
 public:
  // `config_tokens` are what tokenizer_config.json adds on top of tokenizer.json, as transformers
  // does at load: its added_tokens_decoder entries and named special tokens that the file lacks.
  BpeTokenizer(ByteLevelBpeSpec spec, const std::vector<AddedToken>& config_tokens,
               bool split_special_tokens, const std::string& path);

  // tokenizers' Tokenizer.encode(text, add_special_tokens).ids
  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens) const;
  // The tokens of encode(text, false).
  std::vector<std::string> tokenize(std::string_view text) const;
  // Tokenizer.decode: ids that are no token are dropped; skip_special drops added tokens marked
  // special; invalid UTF-8 in the decoded bytes becomes U+FFFD.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special) const;

  std::string id_to_token(int64_t id) const;          // throws std::out_of_range for no token
  int64_t token_to_id(const std::string& token) const;  // added tokens first; -1 when absent
  bool is_added_special(int64_t id) const;
  int64_t size() const { return size_; }                // len(tokenizer)
  int64_t model_size() const { return model_.size(); }  // the BPE vocabulary alone

 private:
  void add_token(int64_t id, const AddedToken& token);
  int64_t next_free_id() const;
  void encode_text(std::string_view text, std::vector<int64_t>& ids) const;
  void encode_pretoken(std::string_view piece, std::vector<int64_t>& ids) const;

  BpeModel model_;
  bool nfc_;
  std::vector<SplitPattern> splits_;
  bool byte_level_regex_;
  bool add_prefix_space_;
  std::vector<int64_t> prefix_ids_, suffix_ids_;
  bool split_special_;
  std::unordered_map<int64_t, AddedToken> added_by_id_;
  std::unordered_map<std::string, int64_t> added_by_content_;
  AddedTokenMatcher raw_matcher_;         // tokens with normalized false, on the raw text
  AddedTokenMatcher normalized_matcher_;  // tokens with normalized true, on normalized text
  int64_t size_ = 0;
};

}  // namespace seva::text
