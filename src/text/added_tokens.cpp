// AddedVocabulary::find_matches: a match that fails single_word is passed over (the search goes
// on after it, as aho-corasick's find_iter does); lstrip/rstrip widen a match over whitespace.
#include "text/added_tokens.h"

#include <algorithm>

#include "text/unicode.h"

namespace seva::text {
namespace {

// The last character of s, or an invalid one when s is empty.
unicode::Char last_char(std::string_view s) {
  if (s.empty()) return {0, 0, false};
  size_t pos = s.size() - 1;
  while (pos > 0 && s.size() - pos < 4 && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  const unicode::Char c = unicode::decode_at(s, pos);
  return pos + c.length == s.size() ? c : unicode::decode_at(s, s.size() - 1);
}

// Where the whitespace at the end of s begins (s.size() when it has none).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    const unicode::Char c = last_char(s.substr(0, end));
    if (!unicode::is_whitespace(c)) break;
    end -= c.length;
  }
  return end;
}

// How many bytes of whitespace s starts with.
size_t leading_space_length(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const unicode::Char c = unicode::decode_at(s, pos);
    if (!unicode::is_whitespace(c)) break;
    pos += c.length;
  }
  return pos;
}

}  // namespace

void AddedTokenMatcher::add(int64_t id, const AddedToken& token, std::string pattern) {
  if (pattern.empty()) return;
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
  Entry e{std::move(pattern), id, token};
  auto at = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& x) { return x.pattern.size() < e.pattern.size(); });
  entries_.insert(at, std::move(e));
}

AddedTokenMatcher::Match AddedTokenMatcher::find(std::string_view s, size_t from) const {
  for (size_t i = from; i < s.size(); ++i) {
    if (!first_byte_[static_cast<unsigned char>(s[i])]) continue;
    for (const Entry& e : entries_)
      if (s.compare(i, e.pattern.size(), e.pattern) == 0) return {i, i + e.pattern.size(), &e};
  }
  return {s.size(), s.size(), nullptr};
}

void AddedTokenMatcher::split(std::string_view s, bool skip_special, std::vector<TextPiece>& out) const {
  size_t done = 0;  // text before this is already in `out`
  for (Match m = find(s, 0); m.entry; m = find(s, m.end)) {
    const AddedToken& tok = m.entry->token;
    if (skip_special && tok.special) continue;
    if (m.end <= done) continue;  // inside whitespace an rstrip already took
    if (tok.single_word) {
      const bool word_before = m.start > 0 && unicode::is_word_char(last_char(s.substr(0, m.start)));
      const bool word_after = m.end < s.size() && unicode::is_word_char(unicode::decode_at(s, m.end));
      if (word_before || word_after) continue;
    }
    // A whitespace run an earlier match already took (its rstrip) is not taken twice; tokenizers
    // would emit overlapping pieces there, which only a token starting with a space can cause.
    const size_t start = std::max(tok.lstrip ? trailing_space_start(s.substr(0, m.start)) : m.start, done);
    const size_t end = tok.rstrip ? m.end + leading_space_length(s.substr(m.end)) : m.end;
    if (done < start) out.push_back({std::string(s.substr(done, start - done)), -1});
    out.push_back({std::string(s.substr(start, end - start)), m.entry->id});
    done = end;
  }
  if (done < s.size()) out.push_back({std::string(s.substr(done)), -1});
}

}  // namespace seva::text
