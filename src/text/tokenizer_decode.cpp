// Tokenizer decoding: transformers 4.40 slow PreTrainedTokenizer._decode + LlamaTokenizer's joining.
#include "text/bpe_tokenizer.h"
#include "text/tokenizer.h"
#include "util/strings.h"

namespace seva::text {
namespace {

const std::string kUnderline = "\xe2\x96\x81";

using util::replace_all;
using util::starts_with;

// PreTrainedTokenizerBase.clean_up_tokenization.
std::string clean_up_tokenization(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = replace_all(std::move(s), from, to);
  return s;
}

}  // namespace

std::vector<std::string> Tokenizer::convert_ids_to_tokens(const std::vector<int64_t>& ids,
                                                          bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (skip_special_tokens && special_ids_.count(id)) continue;
    tokens.push_back(id_to_piece(id));
  }
  return tokens;
}

// LlamaTokenizer.convert_tokens_to_string: special tokens verbatim, the rest through sentencepiece.
std::string Tokenizer::tokens_to_string(std::vector<std::string> tokens) const {
  const bool prefix = settings_.add_prefix_space;
  if (!tokens.empty() && prefix && starts_with(tokens[0], kUnderline)) tokens[0].erase(0, kUnderline.size());
  std::vector<std::string> current;
  std::string out;
  bool prev_is_special = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& tok = tokens[i];
    if (special_tokens_.count(tok)) {
      if (!prev_is_special && i != 0 && settings_.legacy) out += " ";
      out += sp_.decode_pieces(current) + tok;
      prev_is_special = true;
      current.clear();
    } else {
      if (prev_is_special && i == 1 && prefix && !starts_with(tok, kUnderline)) out += " ";
      current.push_back(tok);
      prev_is_special = false;
    }
  }
  return out + sp_.decode_pieces(current);
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  if (bpe_) {
    // transformers 4.x applies the clean-up when the config asks for it (5.x skips it for BPE).
    std::string text = bpe_->decode(ids, skip_special_tokens);
    return settings_.clean_up_tokenization_spaces ? clean_up_tokenization(std::move(text)) : text;
  }
  // Tokens added beyond the model (here <image>) are kept apart and the parts joined with a space
  // (spaces_between_special_tokens=True, _decode's default).
  std::vector<std::string> sub_texts, current;
  for (auto& tok : convert_ids_to_tokens(ids, skip_special_tokens)) {
    if (!legacy_added_tokens_.count(tok)) {
      current.push_back(std::move(tok));
      continue;
    }
    if (!current.empty()) {
      std::string s = tokens_to_string(std::move(current));
      if (!s.empty()) sub_texts.push_back(std::move(s));
      current.clear();
    }
    sub_texts.push_back(std::move(tok));
  }
  if (!current.empty()) sub_texts.push_back(tokens_to_string(std::move(current)));
  std::string text;
  for (size_t i = 0; i < sub_texts.size(); ++i) text += (i ? " " : "") + sub_texts[i];
  return settings_.clean_up_tokenization_spaces ? clean_up_tokenization(std::move(text)) : text;
}

}  // namespace seva::text
