// Tokenizer encoding: transformers 4.40 slow LlamaTokenizer.tokenize (legacy=false recipe), padding.
#include <stdexcept>

#include "text/bpe_tokenizer.h"
#include "text/tokenizer.h"
#include "util/strings.h"

namespace seva::text {
namespace {

const std::string kUnderline = "\xe2\x96\x81";  // U+2581, sentencepiece's space

using util::lstrip;  // the ASCII whitespace " \t\n\r\v\f"
using util::replace_all;
using util::rstrip;
using util::starts_with;

}  // namespace

// LlamaTokenizer._tokenize: a chunk starting with a space is encoded behind the unk token, whose
// pieces are then dropped, so that the sentencepiece model adds no prefix of its own.
std::vector<std::string> Tokenizer::sp_tokenize(const std::string& chunk) const {
  std::vector<std::string> out;
  const bool behind_unk = !settings_.legacy && (starts_with(chunk, kUnderline) || starts_with(chunk, " "));
  const auto pieces = sp_.encode(behind_unk ? unk_token_ + chunk : chunk);
  const size_t skip = (behind_unk && pieces.size() >= unk_token_length_) ? unk_token_length_ : 0;
  for (size_t i = skip; i < pieces.size(); ++i) out.push_back(pieces[i].piece);
  return out;
}

std::vector<std::string> Tokenizer::tokenize(const std::string& input) const {
  if (bpe_) return bpe_->tokenize(input);
  std::string text = input;
  const bool prefixed = !settings_.legacy && !text.empty();
  if (prefixed) {
    text = replace_all(text, kUnderline, " ");
    if (settings_.add_prefix_space) text = kUnderline + text;
  }
  // Split on added tokens, leftmost first, longest at a position (the tokens trie).
  std::vector<std::string> parts;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::string* match = nullptr;
    for (const auto& tok : added_longest_first_)
      if (!tok.empty() && text.compare(i, tok.size(), tok) == 0) {
        match = &tok;
        break;
      }
    if (!match) {
      ++i;
      continue;
    }
    if (i > start) parts.push_back(text.substr(start, i - start));
    parts.push_back(*match);
    i += match->size();
    start = i;
  }
  if (start < text.size()) parts.push_back(text.substr(start));

  // AddedToken lstrip / rstrip / single_word, as PreTrainedTokenizer.tokenize applies them.
  for (size_t k = 0; k < parts.size(); ++k) {
    auto it = added_encoder_.find(parts[k]);
    if (it == added_encoder_.end()) continue;
    const AddedToken& tok = added_decoder_.at(it->second);
    const std::string left = k > 0 ? parts[k - 1] : "";
    const std::string right = k + 1 < parts.size() ? parts[k + 1] : "";
    if (tok.rstrip && !right.empty()) parts[k + 1] = lstrip(right);
    if (tok.lstrip && !left.empty()) parts[k - 1] = rstrip(left);
    if (tok.single_word && !left.empty() && left.back() != ' ') {
      parts[k - 1] += parts[k];
      parts[k].clear();
    } else if (tok.single_word && !right.empty() && right.front() != ' ') {
      parts[k] += right;
      parts[k + 1].clear();
    }
  }

  std::vector<std::string> tokens;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (added_encoder_.count(p)) {
      tokens.push_back(p);
    } else {
      auto sub = sp_tokenize(p);
      tokens.insert(tokens.end(), sub.begin(), sub.end());
    }
  }
  if (prefixed && tokens.size() > 1 && tokens[0] == kUnderline && special_tokens_.count(tokens[1]))
    tokens.erase(tokens.begin());
  return tokens;
}

std::vector<int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  if (bpe_) return bpe_->encode(text, add_special_tokens);
  std::vector<int64_t> ids;
  if (add_special_tokens && settings_.add_bos_token) {
    if (bos_id_ < 0) throw std::runtime_error("add_bos_token is set but the tokenizer has no bos_token");
    ids.push_back(bos_id_);
  }
  for (const auto& tok : tokenize(text)) ids.push_back(piece_to_id(tok));
  if (add_special_tokens && settings_.add_eos_token) {
    if (eos_id_ < 0) throw std::runtime_error("add_eos_token is set but the tokenizer has no eos_token");
    ids.push_back(eos_id_);
  }
  return ids;
}

EncodedBatch Tokenizer::batch_encode_left_padded(const std::vector<std::string>& texts,
                                                 bool add_special_tokens) const {
  if (pad_id_ < 0) throw std::runtime_error("cannot pad a batch: the tokenizer has no pad_token");
  EncodedBatch batch;
  size_t longest = 0;
  for (const auto& t : texts) {
    batch.input_ids.push_back(encode(t, add_special_tokens));
    longest = std::max(longest, batch.input_ids.back().size());
  }
  for (auto& ids : batch.input_ids) {
    const size_t pad = longest - ids.size();
    std::vector<int64_t> mask(pad, 0);
    mask.resize(longest, 1);
    ids.insert(ids.begin(), pad, pad_id_);
    batch.attention_mask.push_back(std::move(mask));
  }
  return batch;
}

}  // namespace seva::text
