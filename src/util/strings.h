// Small string helpers shared by every folder: prefix/suffix tests, Python-style strip, replace_all,
// ASCII lower-casing and the FNV-1a hash. Byte-wise throughout: no locale, no Unicode.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace seva::util {

// The six ASCII whitespace bytes space, \t, \n, \r, \v, \f: Python's bytes.strip() set (its
// str.strip() also strips \x1c-\x1f and non-ASCII spaces; these helpers do not).
inline constexpr std::string_view kAsciiSpace = " \t\n\r\v\f";

// FNV-1a 64-bit offset basis (= 14695981039346656037) and prime (= 1099511628211).
inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnv1aPrime = 0x100000001b3ULL;
// The standard basis without its last decimal digit: `seva eval`'s per-answer sampling seeds and
// the reference cache's keys and file names hash from it; another basis would change sampled
// answers and orphan every cache. Pass it as fnv1a's `h` there; kFnv1aOffsetBasis elsewhere.
inline constexpr uint64_t kFnv1aShortBasis = 1469598103934665603ULL;

// True when s begins with prefix byte for byte (an empty prefix always matches).
bool starts_with(std::string_view s, std::string_view prefix);
// True when s ends with suffix byte for byte (an empty suffix always matches).
bool ends_with(std::string_view s, std::string_view suffix);

// s without its leading and trailing bytes that are in `chars` (default kAsciiSpace); "" when s
// has only such bytes.
std::string strip(std::string_view s, std::string_view chars = kAsciiSpace);
// s without its leading bytes in `chars` (Python's lstrip).
std::string lstrip(std::string_view s, std::string_view chars = kAsciiSpace);
// s without its trailing bytes in `chars` (Python's rstrip).
std::string rstrip(std::string_view s, std::string_view chars = kAsciiSpace);

// Every occurrence of `from` (non-empty) replaced by `to`, scanning left to right and never
// rescanning the replacement text (Python's str.replace).
std::string replace_all(std::string s, std::string_view from, std::string_view to);

// s with the ASCII letters A-Z lower-cased, every other byte kept (std::tolower in the C locale).
std::string ascii_lower(std::string_view s);

// FNV-1a over the bytes of s, continuing from state h: for each byte, h = (h ^ byte) * kFnv1aPrime.
uint64_t fnv1a(std::string_view s, uint64_t h = kFnv1aOffsetBasis);

}  // namespace seva::util
