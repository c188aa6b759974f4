// Tab-separated tables as pandas writes them (to_csv(sep="\t")): a header row, fields that hold a
// tab, newline or quote enclosed in double quotes with quotes doubled.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace seva::eval {

struct TsvRow {
  size_t line = 0;                 // 1-based line where the row starts
  std::vector<std::string> cells;  // one per header column
};

struct TsvTable {
  std::vector<std::string> header;
  std::vector<TsvRow> rows;
  // Column index by name, or -1.
  int column(const std::string& name) const;
};

// Parses `text`; `name` is what errors call it ("FILE:LINE: ..."). A row with a different number of
// cells than the header, or an unterminated quote, throws. A trailing newline is optional; "\r\n"
// line ends are accepted.
TsvTable parse_tsv(const std::string& text, const std::string& name);
TsvTable read_tsv(const std::string& path);

}  // namespace seva::eval
