// Escaping text for SVG and HTML output (the charts and report.html are written by hand).
#pragma once
#include <string>

namespace seva::eval {

// &, <, > and " as entities: safe in element text and in double-quoted attribute values.
inline std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace seva::eval
