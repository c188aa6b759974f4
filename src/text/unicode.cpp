// ICU-backed character classes and NFC; a strict UTF-8 decoder of our own so that invalid bytes
// are reported one by one instead of being replaced.
#include "text/unicode.h"

#include <stdexcept>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

namespace seva::text::unicode {
namespace {

// The second byte's allowed range after a lead byte (Unicode Table 3-7): this excludes overlong
// forms, surrogates and code points above U+10FFFF. The further bytes are 80..BF.
bool second_byte_ok(unsigned char lead, unsigned char b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

// Length of the sequence a lead byte announces; 0 for a byte that cannot start one.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// How many bytes from `pos` form the longest well-formed prefix of a sequence (at least 1): a
// "maximal subpart", which from_utf8_lossy replaces by one U+FFFD when the sequence is incomplete.
size_t valid_prefix(std::string_view text, size_t pos, size_t need) {
  size_t k = 1;
  const auto lead = static_cast<unsigned char>(text[pos]);
  while (k < need && pos + k < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos + k]);
    const bool ok = k == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++k;
  }
  return k;
}

int8_t category(const Char& c) { return c.valid ? u_charType(static_cast<UChar32>(c.cp)) : -1; }

}  // namespace

Char decode_at(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t need = sequence_length(lead);
  if (need == 1) return {lead, 1, true};
  if (need == 0 || valid_prefix(text, pos, need) != need) return {lead, 1, false};
  char32_t cp = lead & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < need; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[pos + k]) & 0x3F);
  return {cp, need, true};
}

bool is_letter(const Char& c) {
  if (c.valid && c.cp < 0x80) return (c.cp | 0x20) >= 'a' && (c.cp | 0x20) <= 'z';
  switch (category(c)) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER:
      return true;
    default:
      return false;
  }
}

bool is_number(const Char& c) {
  if (c.valid && c.cp < 0x80) return c.cp >= '0' && c.cp <= '9';
  const int8_t t = category(c);
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool is_whitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

bool is_whitespace(const Char& c) { return c.valid && is_whitespace(c.cp); }

bool is_word_char(const Char& c) {
  if (!c.valid) return false;
  const auto cp = static_cast<UChar32>(c.cp);
  if (u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL)) return true;
  const int32_t mask = U_MASK(u_charType(cp));
  return (mask & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

std::string nfc(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* norm = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU NFC unavailable: ") + u_errorName(status));
  std::string out;
  out.reserve(text.size());
  size_t start = 0, pos = 0;
  auto flush = [&](size_t end) {
    if (end == start) return;
    const icu::StringPiece piece(text.data() + start, static_cast<int32_t>(end - start));
    icu::StringByteSink<std::string> sink(&out);
    UErrorCode st = U_ZERO_ERROR;
    norm->normalizeUTF8(0, piece, sink, nullptr, st);
    if (U_FAILURE(st)) throw std::runtime_error(std::string("ICU NFC failed: ") + u_errorName(st));
  };
  while (pos < text.size()) {
    const Char c = decode_at(text, pos);
    if (!c.valid) {
      flush(pos);
      out += text[pos];
      start = pos + 1;
    }
    pos += c.length;
  }
  flush(pos);
  return out;
}

std::string utf8_lossy(std::string_view bytes) {
  static const std::string kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Char c = decode_at(bytes, pos);
    if (c.valid) {
      out.append(bytes.data() + pos, c.length);
      pos += c.length;
      continue;
    }
    const size_t need = sequence_length(static_cast<unsigned char>(bytes[pos]));
    out += kReplacement;
    pos += need == 0 ? 1 : valid_prefix(bytes, pos, need);
  }
  return out;
}

std::string encode_utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

}  // namespace seva::text::unicode
