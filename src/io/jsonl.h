// JSON Lines: reading with file:line errors, and an appending writer for resumable outputs.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace seva::io {

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
