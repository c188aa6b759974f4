#include "eval/tsv.h"

#include "io/files.h"

#include <stdexcept>

namespace seva::eval {

int TsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

TsvTable parse_tsv(const std::string& text, const std::string& name) {
  std::vector<TsvRow> records;
  size_t pos = 0, line = 1;
  while (pos < text.size()) {
    TsvRow row;
    row.line = line;
    std::string cell;
    while (true) {
      if (pos < text.size() && text[pos] == '"') {  // quoted field
        size_t start_line = line;
        ++pos;
        while (true) {
          if (pos >= text.size())
            throw std::runtime_error(name + ":" + std::to_string(start_line) + ": unterminated quoted field");
          char c = text[pos++];
          if (c == '"') {
            if (pos < text.size() && text[pos] == '"') {
              cell += '"';
              ++pos;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          cell += c;
        }
      }
      // Unquoted part (or whatever follows a closing quote) up to a tab or a line end.
      while (pos < text.size() && text[pos] != '\t' && text[pos] != '\n') cell += text[pos++];
      if (!cell.empty() && cell.back() == '\r' && (pos >= text.size() || text[pos] == '\n')) cell.pop_back();
      row.cells.push_back(std::move(cell));
      cell.clear();
      if (pos < text.size() && text[pos] == '\t') {
        ++pos;
        continue;
      }
      if (pos < text.size()) ++pos, ++line;  // the '\n'
      break;
    }
    if (row.cells.size() == 1 && row.cells[0].empty()) continue;  // blank line
    records.push_back(std::move(row));
  }
  TsvTable t;
  if (records.empty()) throw std::runtime_error(name + ": empty table (no header row)");
  t.header = std::move(records.front().cells);
  for (size_t i = 1; i < records.size(); ++i) {
    if (records[i].cells.size() != t.header.size())
      throw std::runtime_error(name + ":" + std::to_string(records[i].line) + ": " +
                               std::to_string(records[i].cells.size()) + " cells, the header has " +
                               std::to_string(t.header.size()));
    t.rows.push_back(std::move(records[i]));
  }
  return t;
}

TsvTable read_tsv(const std::string& path) { return parse_tsv(io::read_file(path), path); }

}  // namespace seva::eval
