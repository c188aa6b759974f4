// Splitting text on added tokens as tokenizers' AddedVocabulary does: leftmost-longest matches,
// single_word boundaries, lstrip/rstrip taking the whitespace around a token into it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer_files.h"

namespace seva::text {

// A stretch of text, or an added token when id >= 0.
struct TextPiece {
  std::string text;
  int64_t id = -1;
};

class AddedTokenMatcher {
 public:
  // `pattern` is what is searched for: the content, or the normalized content for a token with
  // normalized true (those are searched for in normalized text).
  void add(int64_t id, const AddedToken& token, std::string pattern);
  bool empty() const { return entries_.empty(); }

  // `sentence` cut into text and added tokens, appended to `out`. With skip_special, special
  // tokens are not matched (split_special_tokens / encode_special_tokens).
  void split(std::string_view sentence, bool skip_special, std::vector<TextPiece>& out) const;

 private:
  struct Entry {
    std::string pattern;
    int64_t id;
    AddedToken token;
  };
  struct Match {
    size_t start, end;
    const Entry* entry;
  };
  Match find(std::string_view s, size_t from) const;  // entry null when none

  std::vector<Entry> entries_;  // longest pattern first: the first that matches is the longest
  bool first_byte_[256] = {};   // bytes some pattern starts with, to skip the rest quickly
};

}  // namespace seva::text
