// Hand-made matchers of the GPT-2, Qwen2 and Llama-3 pre-tokenizer regexes. Each alternative is a
// function that returns the end of its match at a position (or the position itself when it does
// not match); backtracking is worked out per alternative, as the comments explain.
#include "text/pretokenize.h"

#include "text/unicode.h"

namespace seva::text {
namespace {

// A character with the classes the patterns test, decoded once.
struct Unit {
  size_t offset;
  size_t length;
  char32_t cp;  // 0xFFFFFFFF for an invalid byte: equal to no literal
  bool letter, number, space;
  bool other() const { return !letter && !number && !space; }  // [^\s\p{L}\p{N}]
  bool newline() const { return cp == '\r' || cp == '\n'; }
};

using Units = std::vector<Unit>;

Units decode(std::string_view text) {
  Units units;
  units.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const unicode::Char c = unicode::decode_at(text, pos);
    units.push_back({pos, c.length, c.valid ? c.cp : 0xFFFFFFFFu, unicode::is_letter(c),
                     unicode::is_number(c), unicode::is_whitespace(c)});
    pos += c.length;
  }
  return units;
}

// (?i) folds s with S and with U+017F LONG S (Unicode case folding); the other contraction
// letters t r v e m l d have no fold beyond their upper case.
bool letter_is(char32_t cp, char lower, bool ignore_case) {
  if (cp == static_cast<char32_t>(lower)) return true;
  if (!ignore_case) return false;
  return cp == static_cast<char32_t>(lower - 'a' + 'A') || (lower == 's' && cp == 0x17F);
}

// 's|'t|'re|'ve|'m|'ll|'d, case-sensitive (GPT-2) or inside (?i:...) (Qwen2, Llama 3).
size_t contraction(const Units& u, size_t i, bool ignore_case) {
  if (u[i].cp != '\'' || i + 1 >= u.size()) return i;
  static const char* const kSuffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};
  for (const char* suffix : kSuffixes) {
    size_t k = 0;
    while (suffix[k] && i + 1 + k < u.size() && letter_is(u[i + 1 + k].cp, suffix[k], ignore_case)) ++k;
    if (!suffix[k]) return i + 1 + k;
  }
  return i;
}

template <typename Pred>
size_t run(const Units& u, size_t i, Pred pred) {
  while (i < u.size() && pred(u[i])) ++i;
  return i;
}

// GPT-2's " ?X+" for X = \p{L}, \p{N} or [^\s\p{L}\p{N}]: a space is taken only when an X follows
// (else the optional space backtracks to empty, and X+ cannot start on a space anyway).
template <typename Pred>
size_t optional_space_then_run(const Units& u, size_t i, Pred pred) {
  const size_t from = (u[i].cp == ' ' && i + 1 < u.size() && pred(u[i + 1])) ? i + 1 : i;
  const size_t end = run(u, from, pred);
  return end > from ? end : i;
}

// [^\r\n\p{L}\p{N}]?\p{L}+ : one leading character that is no letter, number or line break, when
// a letter follows; a letter cannot be the optional character, so it never competes.
size_t prefixed_letters(const Units& u, size_t i) {
  const Unit& c = u[i];
  const bool prefix = !c.newline() && !c.letter && !c.number && i + 1 < u.size() && u[i + 1].letter;
  const size_t from = prefix ? i + 1 : i;
  const size_t end = run(u, from, [](const Unit& x) { return x.letter; });
  return end > from ? end : i;
}

// \p{N}{1,max}
size_t numbers(const Units& u, size_t i, size_t max) {
  size_t end = i;
  while (end < u.size() && end - i < max && u[end].number) ++end;
  return end;
}

// " ?[^\s\p{L}\p{N}]+[\r\n]*" (Qwen2, Llama 3).
size_t punctuation_then_newlines(const Units& u, size_t i) {
  const size_t end = optional_space_then_run(u, i, [](const Unit& x) { return x.other(); });
  return end == i ? i : run(u, end, [](const Unit& x) { return x.newline(); });
}

// \s*[\r\n]+ : \s* first takes the whole run of spaces and then gives back characters until
// [\r\n]+ can match, so the match ends just after the run's last \r or \n.
size_t spaces_to_last_newline(const Units& u, size_t i) {
  const size_t end = run(u, i, [](const Unit& x) { return x.space; });
  for (size_t k = end; k > i; --k)
    if (u[k - 1].newline()) return k;
  return i;
}

// \s+(?!\S) : the run of spaces, less its last one when a non-space follows (that one is then left
// to start the next piece, e.g. " word"); a lone space before a non-space does not match.
size_t spaces_not_before_text(const Units& u, size_t i) {
  const size_t end = run(u, i, [](const Unit& x) { return x.space; });
  if (end == i) return i;
  if (end == u.size()) return end;
  return end - i >= 2 ? end - 1 : i;
}

size_t spaces(const Units& u, size_t i) {
  return run(u, i, [](const Unit& x) { return x.space; });
}

size_t match_gpt2(const Units& u, size_t i) {
  size_t e;
  if ((e = contraction(u, i, false)) > i) return e;
  if ((e = optional_space_then_run(u, i, [](const Unit& x) { return x.letter; })) > i) return e;
  if ((e = optional_space_then_run(u, i, [](const Unit& x) { return x.number; })) > i) return e;
  if ((e = optional_space_then_run(u, i, [](const Unit& x) { return x.other(); })) > i) return e;
  if ((e = spaces_not_before_text(u, i)) > i) return e;
  return spaces(u, i);
}

// Qwen2 (max_digits 1) and Llama 3 (max_digits 3).
size_t match_qwen2(const Units& u, size_t i, size_t max_digits) {
  size_t e;
  if ((e = contraction(u, i, true)) > i) return e;
  if ((e = prefixed_letters(u, i)) > i) return e;
  if ((e = numbers(u, i, max_digits)) > i) return e;
  if ((e = punctuation_then_newlines(u, i)) > i) return e;
  if ((e = spaces_to_last_newline(u, i)) > i) return e;
  if ((e = spaces_not_before_text(u, i)) > i) return e;
  return spaces(u, i);
}

}  // namespace

const std::string& split_pattern_regex(SplitPattern p) {
  static const std::string kGpt2 =
      R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  static const std::string kQwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static const std::string kLlama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  switch (p) {
    case SplitPattern::kGpt2: return kGpt2;
    case SplitPattern::kQwen2: return kQwen2;
    default: return kLlama3;
  }
}

std::optional<SplitPattern> recognise_split_pattern(const std::string& regex) {
  for (SplitPattern p : {SplitPattern::kGpt2, SplitPattern::kQwen2, SplitPattern::kLlama3})
    if (regex == split_pattern_regex(p)) return p;
  return std::nullopt;
}

std::vector<std::string_view> split_isolated(std::string_view text, SplitPattern p) {
  const Units u = decode(text);
  std::vector<std::string_view> pieces;
  auto piece = [&](size_t from, size_t to) {  // units [from, to)
    const size_t begin = u[from].offset;
    const size_t end = to < u.size() ? u[to].offset : text.size();
    pieces.push_back(text.substr(begin, end - begin));
  };
  size_t gap = 0;  // start of text not yet matched
  for (size_t i = 0; i < u.size();) {
    const size_t end = p == SplitPattern::kGpt2 ? match_gpt2(u, i)
                                                : match_qwen2(u, i, p == SplitPattern::kQwen2 ? 1 : 3);
    if (end == i) {  // no match here: the regex search moves on one character
      ++i;
      continue;
    }
    if (gap < i) piece(gap, i);
    piece(i, end);
    i = gap = end;
  }
  if (gap < u.size()) piece(gap, u.size());
  return pieces;
}

}  // namespace seva::text
