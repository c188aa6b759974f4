#include "dist/parts.h"

#include "io/files.h"
#include "io/jsonl.h"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <set>

namespace seva::dist {
namespace {

// (directory, stem, extension) of "DIR/stem.ext".
void split(const std::string& path, std::string& dir, std::string& stem, std::string& ext) {
  auto slash = path.rfind('/');
  dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  stem = dot == std::string::npos ? name : name.substr(0, dot);
  ext = dot == std::string::npos ? "" : name.substr(dot);
}

}  // namespace

std::string part_path(const std::string& path, int rank) {
  std::string dir, stem, ext;
  split(path, dir, stem, ext);
  return io::join_path(dir, stem + ".part-" + std::to_string(rank) + ext);
}

std::vector<std::string> existing_parts(const std::string& path) {
  std::string dir, stem, ext;
  split(path, dir, stem, ext);
  const std::string prefix = stem + ".part-";
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() <= prefix.size() + ext.size() || n.compare(0, prefix.size(), prefix) != 0 ||
          n.compare(n.size() - ext.size(), ext.size(), ext) != 0)
        continue;
      auto middle = n.substr(prefix.size(), n.size() - prefix.size() - ext.size());
      if (!middle.empty() && std::all_of(middle.begin(), middle.end(), ::isdigit)) out.push_back(io::join_path(dir, n));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Line> read_lines(const std::string& path) {
  std::vector<Line> out;
  if (!io::file_exists(path)) return out;
  std::string text = io::read_file(path);
  size_t at = 0, line_no = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    bool torn = nl == std::string::npos;
    std::string line = text.substr(at, torn ? std::string::npos : nl - at);
    at = torn ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    // A write cut short by a kill, even one that happens to parse: the writer drops it on
    // reopening (io::JsonlWriter), so it is not a finished row.
    if (torn) break;
    try {
      out.push_back({io::parse_json(line), line, line_no});
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": malformed JSON: " + e.what());
    }
  }
  return out;
}

std::vector<Line> read_with_parts(const std::string& path) {
  auto all = read_lines(path);
  for (const auto& p : existing_parts(path)) {
    auto more = read_lines(p);
    all.insert(all.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return all;
}

void merge_parts(const std::string& path, const std::function<std::string(const nlohmann::json&)>& key,
                 const std::function<int64_t(const nlohmann::json&)>& position) {
  auto parts = existing_parts(path);
  auto all = read_with_parts(path);
  std::set<std::string> seen;
  std::vector<std::pair<int64_t, const Line*>> kept;
  for (const auto& l : all)
    if (seen.insert(key(l.row)).second) kept.emplace_back(position(l.row), &l);
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string text;
  for (const auto& [pos, l] : kept) text += l->text + "\n";
  io::write_file_atomic(path, text);
  for (const auto& p : parts) std::remove(p.c_str());
}

}  // namespace seva::dist
