// The pre-tokenizer regexes of byte-level BPE tokenizers, matched by hand: their \p{L}, \p{N} and
// (?!\S) are beyond std::regex, and only a handful of patterns exist in the wild.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seva::text {

enum class SplitPattern {
  kGpt2,    // GPT-2's, also ByteLevel's own when use_regex is true
  kQwen2,   // Qwen2 / Qwen2.5 / Qwen2-VL
  kLlama3,  // Llama 3: Qwen2's with \p{N}{1,3}
};

// The regex text as tokenizer.json spells it.
const std::string& split_pattern_regex(SplitPattern p);
// The pattern whose regex text is exactly `regex`; nullopt for any other regex.
std::optional<SplitPattern> recognise_split_pattern(const std::string& regex);

// `text` cut as a Split pre-tokenizer with behavior Isolated (invert false) cuts it: every
// leftmost match of the pattern is a piece, and so is any text between matches. Regex semantics
// exactly: alternatives tried in order, the first that matches wins, each greedy with
// backtracking. Invalid UTF-8 bytes count as characters outside \s, \p{L} and \p{N}.
std::vector<std::string_view> split_isolated(std::string_view text, SplitPattern p);

}  // namespace seva::text
