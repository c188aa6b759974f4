// The byte <-> character tables of GPT-2's bytes_to_unicode, built once.
#include "text/byte_level.h"

#include <array>
#include <unordered_map>

#include "text/unicode.h"

namespace seva::text {
namespace {

struct Tables {
  std::array<std::string, 256> to_char;      // byte -> UTF-8 of its character
  std::unordered_map<char32_t, char> to_byte;  // character -> byte
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    // The printable ranges "!".."~", "¡".."¬", "®".."ÿ" keep their own code point; the other 68
    // bytes take U+0100, U+0101, ... in byte order.
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      t.to_char[b] = unicode::encode_utf8(cp);
      t.to_byte[cp] = static_cast<char>(b);
    }
    return t;
  }();
  return t;
}

}  // namespace

std::string to_byte_level(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.to_char[b];
  return out;
}

void append_byte_level_decoded(std::string_view token, std::string& out) {
  const Tables& t = tables();
  std::string bytes;
  for (size_t pos = 0; pos < token.size();) {
    const unicode::Char c = unicode::decode_at(token, pos);
    auto it = c.valid ? t.to_byte.find(c.cp) : t.to_byte.end();
    if (it == t.to_byte.end()) {
      out.append(token);
      return;
    }
    bytes += it->second;
    pos += c.length;
  }
  out += bytes;
}

}  // namespace seva::text
