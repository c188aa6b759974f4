// Unicode for the byte-level BPE tokenizer: UTF-8 decoding that never fails, the character
// classes its pre-tokenizer regexes use, NFC, and lossy UTF-8 repair (all through ICU).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace seva::text::unicode {

// One decoded character. Text handed to seva is bytes, not Python str: a byte that does not start
// a well-formed UTF-8 sequence (overlong forms, surrogates, > U+10FFFF, truncated sequences) is
// its own one-byte character with `valid` false, so tokenizing never fails and the byte-level
// encoding keeps every input byte.
struct Char {
  char32_t cp = 0;    // the code point; the byte's value when !valid
  size_t length = 1;  // bytes it occupies
  bool valid = true;
};

// The character starting at byte `pos` (< text.size()).
Char decode_at(std::string_view text, size_t pos);

// The classes of the regex crates Hugging Face tokenizers uses (Oniguruma; fancy-regex agrees):
// \p{L} is General_Category L (Lu Ll Lt Lm Lo), \p{N} is N (Nd Nl No), and \s is the Unicode
// White_Space property (so U+0085, U+00A0, U+3000 are spaces; U+001C..U+001F, U+200B, U+FEFF are
// not). An invalid byte is none of them.
bool is_letter(const Char& c);
bool is_number(const Char& c);
bool is_whitespace(const Char& c);
// Rust's char::is_whitespace, which the added-token lstrip/rstrip use: also White_Space.
bool is_whitespace(char32_t cp);
// The regex word class \w (Alphabetic, marks, Nd, Pc, Join_Control) that decides an added token's
// single_word boundaries.
bool is_word_char(const Char& c);

// NFC of the well-formed stretches of `text`; invalid bytes are kept in place and break the text
// into stretches normalized apart (they are not characters that could compose).
std::string nfc(std::string_view text);

// Bytes as UTF-8 text with each maximal ill-formed subsequence replaced by U+FFFD: Rust's
// String::from_utf8_lossy and Python's errors="replace", which tokenizers' decoders use.
std::string utf8_lossy(std::string_view bytes);

// The UTF-8 encoding of a code point (< 0x110000).
std::string encode_utf8(char32_t cp);

}  // namespace seva::text::unicode
