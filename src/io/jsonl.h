// JSON Lines: reading with file:line errors, and an appending writer for resumable outputs.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace seva::io {

// JSON from a file seva did not write nests at most this deep (seva's own files: under 10).
constexpr int kMaxJsonDepth = 256;

// nlohmann::json::parse, refusing input nested deeper than kMaxJsonDepth with std::runtime_error.
// nlohmann parses without recursion, but dumping (error messages) and copying a value recurse:
// a file of a million '[' would overflow the stack. Parse errors are nlohmann's parse_error.
nlohmann::json parse_json(const char* first, const char* last);
inline nlohmann::json parse_json(const std::string& text) { return parse_json(text.data(), text.data() + text.size()); }

// Calls `fn(row, line_number)` for each non-blank line. A malformed line throws
// "FILE:LINE: malformed JSON: ...". With `tolerate_torn_tail`, a last line without a newline (a
// write cut short by a kill, even one that happens to parse) is ignored instead, as JsonlWriter
// drops it: how resumable outputs are read.
void for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn,
                    bool tolerate_torn_tail = false);
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// Appends one JSON object per line, flushed per line so a killed run keeps every finished row.
// Opening an existing file whose last line is torn (no trailing newline) truncates that line.
class JsonlWriter {
 public:
  JsonlWriter(const std::string& path, bool append);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;
  void write(const nlohmann::json& row);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  FILE* f_ = nullptr;
};

}  // namespace seva::io
