#include "text/word_tokenize.h"

#include "text/unicode.h"

#include <memory>
#include <stdexcept>

#include <unicode/uchar.h>
#include <unicode/ucasemap.h>

namespace seva::text {

namespace {

using U32 = std::u32string;

// Text as code points. A byte that is not well-formed UTF-8 becomes U+DC80..U+DCFF (Python's
// surrogateescape): no class matches it and encode() writes the byte back.
U32 decode(std::string_view s) {
  U32 out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    const unicode::Char c = unicode::decode_at(s, pos);
    out.push_back(c.valid ? c.cp : 0xDC00 + c.cp);
    pos += c.length;
  }
  return out;
}

bool is_escaped_byte(char32_t c) { return c >= 0xDC80 && c <= 0xDCFF; }

std::string encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80)
      out.push_back(static_cast<char>(c));
    else if (is_escaped_byte(c))
      out.push_back(static_cast<char>(c - 0xDC00));
    else
      out += unicode::encode_utf8(c);
  }
  return out;
}

int8_t category(char32_t c) { return is_escaped_byte(c) ? -1 : u_charType(static_cast<UChar32>(c)); }

// \s of the `regex` module: the White_Space property.
bool rx_space(char32_t c) { return !is_escaped_byte(c) && unicode::is_whitespace(c); }
// Python's str.isspace(), also \s of `re` and what str.split() cuts at: White_Space and U+001C..U+001F.
bool py_space(char32_t c) { return rx_space(c) || (c >= 0x1C && c <= 0x1F); }
// \w of the `regex` module: Alphabetic, marks, Nd, Pc, Join_Control.
bool rx_word(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (is_escaped_byte(c)) return false;
  return unicode::is_word_char(unicode::Char{c, 1, true});
}
// \w of `re`: str.isalnum() (a letter or a number) or '_'.
bool re_word(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const int8_t t = category(c);
  return t >= 0 && (U_MASK(t) & (U_GC_L_MASK | U_GC_N_MASK)) != 0;
}
// \d of the `regex` module: Nd.
bool rx_digit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return category(c) == U_DECIMAL_DIGIT_NUMBER;
}

bool one_of(char32_t c, std::u32string_view set) { return set.find(c) != std::u32string_view::npos; }

// One character of a (?i) pattern: `p` is an ASCII character of the pattern. Besides ASCII case,
// both engines fold 'ſ' (U+017F) to s and 'İ' (U+0130) to i; `re` also folds 'ı' (U+0131) to i.
bool ci_equal(char32_t c, char p, bool re_engine) {
  if (c == static_cast<char32_t>(p)) return true;
  if (p >= 'a' && p <= 'z') {
    if (c == static_cast<char32_t>(p - 'a' + 'A')) return true;
    if (p == 's') return c == 0x17F;
    if (p == 'i') return c == 0x130 || (re_engine && c == 0x131);
  }
  return false;
}

bool match_ci(const U32& t, size_t pos, std::string_view pattern, bool re_engine) {
  if (pos + pattern.size() > t.size()) return false;
  for (size_t k = 0; k < pattern.size(); ++k)
    if (!ci_equal(t[pos + k], pattern[k], re_engine)) return false;
  return true;
}

bool starts_at(const U32& t, size_t pos, std::u32string_view s) { return t.compare(pos, s.size(), s) == 0; }

// Every character for which pred holds, with a space either side (`re.sub(r"[...]", r" \g<0> ")`).
template <class Pred>
U32 pad(const U32& t, Pred pred) {
  U32 out;
  out.reserve(t.size() + 16);
  for (char32_t c : t) {
    if (pred(c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Non-overlapping occurrences of `from`, left to right, replaced by `to`.
U32 replace_all(const U32& t, std::u32string_view from, std::u32string_view to) {
  U32 out;
  size_t pos = 0;
  while (true) {
    const size_t hit = t.find(from, pos);
    if (hit == U32::npos) break;
    out.append(t, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(t, pos, U32::npos);
  return out;
}

// ---- STARTING_QUOTES ----

U32 starting_quotes(U32 t) {
  // ([«“‘„]|[`]+) -> " \1 "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      if (one_of(t[i], U"«“‘„")) {
        out += U' ';
        out += t[i++];
        out += U' ';
      } else if (t[i] == U'`') {
        size_t j = i;
        while (j < t.size() && t[j] == U'`') ++j;
        out += U' ';
        out.append(t, i, j - i);
        out += U' ';
        i = j;
      } else {
        out += t[i++];
      }
    }
    t = std::move(out);
  }
  // ^\" -> ``
  if (!t.empty() && t[0] == U'"') t = U"``" + t.substr(1);
  // (``) -> " \1 "
  t = replace_all(t, U"``", U" `` ");
  // ([ \(\[{<])(\"|\'{2}) -> "\1 `` "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      if (one_of(t[i], U" ([{<") && i + 1 < t.size()) {
        size_t quote = t[i + 1] == U'"' ? 1 : starts_at(t, i + 1, U"''") ? 2 : 0;
        if (quote > 0) {
          out += t[i];
          out += U" `` ";
          i += 1 + quote;
          continue;
        }
      }
      out += t[i++];
    }
    t = std::move(out);
  }
  // (?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w) -> "\1 "   (the `regex` engine)
  {
    static const char* const kClitics[] = {"re", "ve", "ll", "m", "t", "s", "d", "n"};
    U32 out;
    const size_t n = t.size();
    for (size_t i = 0; i < n; ++i) {
      out += t[i];
      if (t[i] != U'\'' || (i > 0 && rx_word(t[i - 1])) || i + 1 >= n || !rx_word(t[i + 1])) continue;
      bool clitic = false;
      for (const char* c : kClitics) {
        const std::string_view p(c);
        if (match_ci(t, i + 1, p, false)) {
          const size_t end = i + 1 + p.size();
          if (end == n || !rx_word(t[end])) clitic = true;  // \b after a word character
        }
      }
      if (!clitic) out += U' ';
    }
    t = std::move(out);
  }
  return t;
}

// ---- PUNCTUATION ----

// The final-period rules: ([^\.])(\.)([CLASS]*)\s*$. The '.' must be the text's last one (nothing
// after it but CLASS characters and whitespace) and follow a character other than '.'. Returns
// false when the text has no such period; else sets `dot` and `run_end` (the end of the CLASS run).
bool final_period(const U32& t, std::u32string_view closing, size_t& dot, size_t& run_end) {
  const size_t q = t.rfind(U'.');
  if (q == U32::npos || q == 0 || t[q - 1] == U'.') return false;
  size_t j = q + 1;
  while (j < t.size() && one_of(t[j], closing)) ++j;
  size_t k = j;
  while (k < t.size() && rx_space(t[k])) ++k;
  if (k != t.size()) return false;
  dot = q;
  run_end = j;
  return true;
}

// Python's `$` (no MULTILINE): the end, or just before a newline that ends the text.
bool at_dollar(const U32& t, size_t pos) { return pos == t.size() || (pos + 1 == t.size() && t[pos] == U'\n'); }

U32 punctuation(U32 t) {
  size_t dot = 0, run_end = 0;
  // ([^\.])(\.)([\]\)}>"\'»”’ ]*+)\s*$ -> "\1 \2 \3 "
  if (final_period(t, U"])}>\"'»”’ ", dot, run_end))
    t = t.substr(0, dot) + U" . " + t.substr(dot + 1, run_end - dot - 1) + U" ";
  // ([:,])([^\d]) -> " \1 \2"
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      if ((t[i] == U':' || t[i] == U',') && i + 1 < t.size() && !rx_digit(t[i + 1])) {
        out += U' ';
        out += t[i];
        out += U' ';
        out += t[i + 1];
        i += 2;
      } else {
        out += t[i++];
      }
    }
    t = std::move(out);
  }
  // ([:,])$ -> " \1 "
  for (size_t i = t.size() >= 2 ? t.size() - 2 : 0; i < t.size(); ++i)
    if ((t[i] == U':' || t[i] == U',') && at_dollar(t, i + 1)) {
      t = t.substr(0, i) + U" " + t[i] + U" " + t.substr(i + 1);
      break;
    }
  // \.{2,} -> " \g<0> "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      size_t j = i;
      while (j < t.size() && t[j] == U'.') ++j;
      if (j - i >= 2) {
        out += U' ';
        out.append(t, i, j - i);
        out += U' ';
        i = j;
      } else {
        out += t[i++];
      }
    }
    t = std::move(out);
  }
  // [;@#$%&] and the figure dash, en dash, em dash, horizontal bar (U+2012..U+2015)
  t = pad(t, [](char32_t c) { return one_of(c, U";@#$%&"); });
  t = pad(t, [](char32_t c) { return c >= 0x2012 && c <= 0x2015; });
  // ([^\.])(\.)([\]\)}>"\']*)\s*$ -> "\1 \2\3 "
  if (final_period(t, U"])}>\"'", dot, run_end))
    t = t.substr(0, dot) + U" ." + t.substr(dot + 1, run_end - dot - 1) + U" ";
  // [?!]
  t = pad(t, [](char32_t c) { return c == U'?' || c == U'!'; });
  // ([^'])' -> "\1 ' "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      if (t[i] != U'\'' && i + 2 < t.size() && t[i + 1] == U'\'' && t[i + 2] == U' ') {
        out += t[i];
        out += U" ' ";
        i += 3;
      } else {
        out += t[i++];
      }
    }
    t = std::move(out);
  }
  // [*]
  return pad(t, [](char32_t c) { return c == U'*'; });
}

// ---- ENDING_QUOTES ----

U32 ending_quotes(U32 t) {
  t = pad(t, [](char32_t c) { return one_of(c, U"»”’"); });
  t = replace_all(t, U"''", U" '' ");
  t = replace_all(t, U"\"", U" '' ");
  // \s+ -> " "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      if (rx_space(t[i])) {
        while (i < t.size() && rx_space(t[i])) ++i;
        out += U' ';
      } else {
        out += t[i++];
      }
    }
    t = std::move(out);
  }
  // ([^' ])('[sS]|'[mM]|'[dD]|') -> "\1 \2 "
  {
    U32 out;
    for (size_t i = 0; i < t.size();) {
      size_t len = 0;  // of \2
      if (t[i] != U'\'' && t[i] != U' ' && i + 2 < t.size() && t[i + 1] == U'\'') {
        if (one_of(t[i + 2], U"sSmMdD") && i + 3 < t.size() && t[i + 3] == U' ')
          len = 2;
        else if (t[i + 2] == U' ')
          len = 1;
      }
      if (len == 0) {
        out += t[i++];
        continue;
      }
      out += t[i];
      out += U' ';
      out.append(t, i + 1, len);
      out += U' ';
      i += 2 + len;  // the character, \2 and the space
    }
    t = std::move(out);
  }
  // ([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) -> "\1 \2 "
  {
    static const std::u32string_view kClitics[] = {U"'ll", U"'LL", U"'re", U"'RE", U"'ve", U"'VE", U"n't", U"N'T"};
    U32 out;
    for (size_t i = 0; i < t.size();) {
      bool hit = false;
      if (t[i] != U'\'' && t[i] != U' ' && i + 4 < t.size() && t[i + 4] == U' ')
        for (auto c : kClitics) hit = hit || starts_at(t, i + 1, c);
      if (!hit) {
        out += t[i++];
        continue;
      }
      out += t[i];
      out += U' ';
      out.append(t, i + 1, 3);
      out += U' ';
      i += 5;
    }
    t = std::move(out);
  }
  return t;
}

// ---- CONTRACTIONS2 / CONTRACTIONS3 (Python's `re`, case-insensitive) ----

struct Contraction {
  std::string_view first, second;
  bool space_before = false;  // CONTRACTIONS3: " ('t)(is)\b"
  bool space_after = false;   // (?=\s) instead of \b after the second group (wanna)
};

U32 split_contraction(const U32& t, const Contraction& c) {
  const size_t n = t.size();
  const size_t lead = c.space_before ? 1 : 0;
  const size_t len = c.first.size() + c.second.size();
  U32 out;
  for (size_t i = 0; i < n;) {
    bool hit = i + lead + len <= n;
    if (hit && c.space_before) hit = t[i] == U' ';
    if (hit && !c.space_before) hit = i == 0 || !re_word(t[i - 1]);  // \b before a letter
    hit = hit && match_ci(t, i + lead, c.first, true) && match_ci(t, i + lead + c.first.size(), c.second, true);
    const size_t end = i + lead + len;
    if (hit) hit = c.space_after ? end < n && py_space(t[end]) : end == n || !re_word(t[end]);
    if (!hit) {
      out += t[i++];
      continue;
    }
    out += U' ';
    out.append(t, i + lead, c.first.size());
    out += U' ';
    out.append(t, i + lead + c.first.size(), c.second.size());
    out += U' ';
    i = end;
  }
  return out;
}

const Contraction kContractions[] = {
    {"can", "not"}, {"d", "'ye"}, {"gim", "me"}, {"gon", "na"}, {"got", "ta"}, {"lem", "me"}, {"more", "'n"},
    {"wan", "na", false, true}, {"'t", "is", true}, {"'t", "was", true},
};

}  // namespace

std::vector<std::string> nltk_word_tokenize(std::string_view sentence) {
  U32 t = starting_quotes(decode(sentence));
  t = punctuation(std::move(t));
  t = pad(t, [](char32_t c) { return one_of(c, U"][(){}<>"); });
  t = replace_all(t, U"--", U" -- ");
  t = ending_quotes(U" " + t + U" ");
  for (const auto& c : kContractions) t = split_contraction(t, c);
  std::vector<std::string> tokens;
  for (size_t i = 0; i < t.size();) {
    if (py_space(t[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < t.size() && !py_space(t[j])) ++j;
    tokens.push_back(encode(std::u32string_view(t).substr(i, j - i)));
    i = j;
  }
  return tokens;
}

std::string python_lower(std::string_view text) {
  bool ascii = true;
  for (char ch : text) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
  if (ascii) {
    std::string out(text);
    for (char& ch : out)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return out;
  }
  UErrorCode status = U_ZERO_ERROR;
  UCaseMap* map = ucasemap_open("", 0, &status);  // the root locale: no Turkish or Lithuanian rules
  std::unique_ptr<UCaseMap, decltype(&ucasemap_close)> owner(map, ucasemap_close);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU case mapping unavailable: ") + u_errorName(status));
  std::string out;
  auto lower = [&](std::string_view piece) {
    if (piece.empty()) return;
    std::string buf(piece.size() * 3 + 16, '\0');
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = ucasemap_utf8ToLower(map, buf.data(), static_cast<int32_t>(buf.size()), piece.data(),
                                     static_cast<int32_t>(piece.size()), &st);
    if (st == U_BUFFER_OVERFLOW_ERROR) {
      buf.resize(static_cast<size_t>(n));
      st = U_ZERO_ERROR;
      n = ucasemap_utf8ToLower(map, buf.data(), n, piece.data(), static_cast<int32_t>(piece.size()), &st);
    }
    if (U_FAILURE(st)) throw std::runtime_error(std::string("ICU lower-casing failed: ") + u_errorName(st));
    out.append(buf.data(), static_cast<size_t>(n));
  };
  // Well-formed stretches are lower-cased (so final sigma sees its context); other bytes stay.
  size_t start = 0, pos = 0;
  while (pos < text.size()) {
    const unicode::Char c = unicode::decode_at(text, pos);
    if (!c.valid) {
      lower(text.substr(start, pos - start));
      out.push_back(text[pos]);
      start = pos + 1;
    }
    pos += c.length;
  }
  lower(text.substr(start));
  return out;
}

std::vector<std::string> split_sentences(std::string_view text) {
  const U32 t = decode(text);
  std::vector<std::string> out;
  auto add = [&](size_t begin, size_t end) {
    while (begin < end && py_space(t[begin])) ++begin;
    while (end > begin && py_space(t[end - 1])) --end;
    if (end > begin) out.push_back(encode(std::u32string_view(t).substr(begin, end - begin)));
  };
  size_t start = 0;
  for (size_t i = 0; i < t.size();) {
    if (one_of(t[i], U".!?")) {
      size_t j = i + 1;
      while (j < t.size() && one_of(t[j], U"\"')]}»”’")) ++j;
      if (j < t.size() && py_space(t[j])) {
        add(start, j);
        start = i = j;
        continue;
      }
    }
    ++i;
  }
  add(start, t.size());
  return out;
}

}  // namespace seva::text
