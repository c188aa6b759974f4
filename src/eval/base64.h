// Base64 (RFC 4648, standard alphabet), for the image column of MMBench TSVs.
#pragma once
#include <string>

namespace seva::eval {

// Whitespace is skipped, '=' padding optional; any other character outside the alphabet, or a
// length that leaves a single dangling character, throws naming `what`.
std::string base64_decode(const std::string& text, const std::string& what);

// Standard alphabet with '=' padding, no line breaks.
std::string base64_encode(const std::string& bytes);

}  // namespace seva::eval
