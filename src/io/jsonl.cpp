#include "io/jsonl.h"

#include "io/files.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace seva::io {

nlohmann::json parse_json(const char* first, const char* last) {
  nlohmann::json::parser_callback_t bound = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if (depth >= kMaxJsonDepth && (event == nlohmann::json::parse_event_t::object_start ||
                                   event == nlohmann::json::parse_event_t::array_start))
      throw std::runtime_error("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    return true;
  };
  return nlohmann::json::parse(first, last, bound);
}

void for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn,
                    bool tolerate_torn_tail) {
  std::string text = read_file(path);
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    bool torn = end == std::string::npos;
    if (torn) end = text.size();
    ++line_no;
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // A last line without its newline is torn even when it parses: the writer drops it on
    // reopening (JsonlWriter), so a reader must not count it as done.
    if (torn && tolerate_torn_tail) return;
    nlohmann::json row;
    try {
      row = parse_json(line);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": malformed JSON: " + e.what());
    }
    fn(row, line_no);
  }
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  for_each_jsonl(path, [&](const nlohmann::json& r, size_t) { rows.push_back(r); });
  return rows;
}

JsonlWriter::JsonlWriter(const std::string& path, bool append) : path_(path) {
  if (append && file_exists(path)) {
    // Drop a torn last line (a kill mid-write) so appending continues on a clean line.
    std::string text = read_file(path);
    size_t keep = text.empty() || text.back() == '\n' ? text.size() : text.rfind('\n') + 1;
    if (text.rfind('\n') == std::string::npos && !text.empty() && text.back() != '\n') keep = 0;
    if (keep != text.size() && ::truncate(path.c_str(), static_cast<off_t>(keep)) != 0)
      throw std::runtime_error("cannot truncate " + path + ": " + std::strerror(errno));
  }
  f_ = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (!f_) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

JsonlWriter::~JsonlWriter() {
  if (f_) std::fclose(f_);
}

void JsonlWriter::write(const nlohmann::json& row) {
  // Invalid UTF-8 (a model can emit broken byte sequences) is replaced, never a crash mid-run.
  std::string line = row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    throw std::runtime_error("write failed for " + path_ + ": " + std::strerror(errno));
}

}  // namespace seva::io
