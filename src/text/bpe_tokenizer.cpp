// Encoding and decoding in the order of tokenizers' Tokenizer::encode / decode.
#include "text/bpe_tokenizer.h"

#include <algorithm>
#include <stdexcept>

#include "text/byte_level.h"
#include "text/unicode.h"

namespace seva::text {

BpeTokenizer::BpeTokenizer(ByteLevelBpeSpec spec, const std::vector<AddedToken>& config_tokens,
                           bool split_special_tokens, const std::string& path)
    : model_(std::move(spec.model), path + ": model.merges"), nfc_(spec.nfc), splits_(std::move(spec.splits)),
      byte_level_regex_(spec.byte_level_regex), add_prefix_space_(spec.add_prefix_space),
      prefix_ids_(std::move(spec.prefix_ids)), suffix_ids_(std::move(spec.suffix_ids)),
      split_special_(split_special_tokens) {
  for (const auto& e : spec.added_tokens) add_token(e.id, e.token);
  // transformers adds what the config names and the file lacks: the model's id when the model
  // has the token, else the next id after the vocabulary and the added tokens.
  for (const AddedToken& t : config_tokens) {
    if (added_by_content_.count(t.content) || t.content.empty()) continue;
    const int64_t in_model = model_.token_to_id(t.content);
    add_token(in_model >= 0 ? in_model : next_free_id(), t);
  }
  // len(tokenizer): the distinct tokens of the vocabulary and the added tokens together.
  size_ = model_.size();
  for (const auto& [content, id] : added_by_content_)
    if (model_.token_to_id(content) < 0) ++size_;
}

void BpeTokenizer::add_token(int64_t id, const AddedToken& token) {
  if (auto old = added_by_id_.find(id); old != added_by_id_.end()) added_by_content_.erase(old->second.content);
  added_by_id_[id] = token;
  added_by_content_[token.content] = id;
  if (token.normalized)
    normalized_matcher_.add(id, token, nfc_ ? unicode::nfc(token.content) : token.content);
  else
    raw_matcher_.add(id, token, token.content);
}

// AddedVocabulary::add_tokens' rule for a token new to both the model and the added tokens.
int64_t BpeTokenizer::next_free_id() const {
  int64_t max_added = -1;
  for (const auto& [id, tok] : added_by_id_) max_added = std::max(max_added, id);
  return max_added >= model_.size() ? max_added + 1 : model_.size();
}

// One pre-token: ByteLevel's own prefix space and GPT-2 split when configured, the byte-level
// alphabet, then BPE.
void BpeTokenizer::encode_pretoken(std::string_view piece, std::vector<int64_t>& ids) const {
  std::string prefixed;
  if (add_prefix_space_ && (piece.empty() || piece[0] != ' ')) {
    prefixed = " " + std::string(piece);
    piece = prefixed;
  }
  if (!byte_level_regex_) {
    model_.tokenize(to_byte_level(piece), ids);
    return;
  }
  for (std::string_view word : split_isolated(piece, SplitPattern::kGpt2)) model_.tokenize(to_byte_level(word), ids);
}

// Text between non-normalized added tokens: normalize, split out the normalized added tokens,
// pre-tokenize the rest with the Split patterns in order, and BPE each pre-token.
void BpeTokenizer::encode_text(std::string_view text, std::vector<int64_t>& ids) const {
  const std::string normalized = nfc_ ? unicode::nfc(text) : std::string(text);
  std::vector<TextPiece> parts;
  if (normalized_matcher_.empty())
    parts.push_back({normalized, -1});
  else
    normalized_matcher_.split(normalized, split_special_, parts);
  for (const TextPiece& part : parts) {
    if (part.id >= 0) {
      ids.push_back(part.id);
      continue;
    }
    std::vector<std::string_view> pieces{part.text};
    for (SplitPattern p : splits_) {
      std::vector<std::string_view> next;
      for (std::string_view s : pieces)
        for (std::string_view cut : split_isolated(s, p)) next.push_back(cut);
      pieces = std::move(next);
    }
    for (std::string_view s : pieces) encode_pretoken(s, ids);
  }
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int64_t> ids;
  if (add_special_tokens) ids = prefix_ids_;
  std::vector<TextPiece> parts;
  raw_matcher_.split(text, split_special_, parts);
  for (const TextPiece& part : parts) {
    if (part.id >= 0)
      ids.push_back(part.id);
    else
      encode_text(part.text, ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::vector<std::string> BpeTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> tokens;
  for (int64_t id : encode(text, false)) tokens.push_back(id_to_token(id));
  return tokens;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  std::string bytes;
  for (int64_t id : ids) {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      if (!(skip_special && it->second.special)) append_byte_level_decoded(it->second.content, bytes);
    } else if (id >= 0 && id < model_.size()) {
      append_byte_level_decoded(model_.id_to_token(id), bytes);
    }
  }
  return unicode::utf8_lossy(bytes);
}

std::string BpeTokenizer::id_to_token(int64_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return it->second.content;
  if (id < 0 || id >= model_.size())
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary (" +
                            std::to_string(size_) + " tokens)");
  return model_.id_to_token(id);
}

int64_t BpeTokenizer::token_to_id(const std::string& token) const {
  if (auto it = added_by_content_.find(token); it != added_by_content_.end()) return it->second;
  return model_.token_to_id(token);
}

bool BpeTokenizer::is_added_special(int64_t id) const {
  auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && it->second.special;
}

}  // namespace seva::text
