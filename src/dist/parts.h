// Output files written in parts, one per rank, and merged by rank 0 into the file one process
// would have written: a part per rank keeps each rank's work resumable on its own.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace seva::dist {

// "DIR/answers.jsonl" -> "DIR/answers.part-R.jsonl".
std::string part_path(const std::string& path, int rank);
// The part files of `path` that exist (any rank, any earlier world size), sorted by name.
std::vector<std::string> existing_parts(const std::string& path);

// One JSONL line: the parsed row, its bytes as written (newline excluded) and its line number.
struct Line {
  nlohmann::json row;
  std::string text;
  size_t number = 0;  // 1-based, in the file it was read from
};
// The lines of a JSONL file, a torn last line (a write cut short) dropped; none if it is absent.
std::vector<Line> read_lines(const std::string& path);
// The rows of `path` and of its parts, `path` first.
std::vector<Line> read_with_parts(const std::string& path);

// Rewrites `path` atomically from its own lines and its parts' lines: one line per key(row) (the
// first seen), ordered by position(row) (rows of equal position, e.g. unknown ones given
// INT64_MAX, keep their order), bytes unchanged; then removes the parts.
void merge_parts(const std::string& path, const std::function<std::string(const nlohmann::json&)>& key,
                 const std::function<int64_t(const nlohmann::json&)>& position);

}  // namespace seva::dist
