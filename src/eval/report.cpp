#include "eval/report.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace seva::eval {

void Coverage::add_to(ordered_json& metrics) const {
  metrics["questions"] = questions;
  metrics["scored"] = scored;
  metrics["missing_images"] = missing_images;
  metrics["unanswered"] = unanswered;
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

bool is_plain_metric(const std::string& name) {
  return name.rfind("mean_", 0) == 0 || name.rfind("greedy_mean_", 0) == 0;
}

std::string format_metric(const ordered_json& value, const std::string& name) {
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", (is_plain_metric(name) ? 1.0 : 100.0) * value.get<double>());
    return buf;
  }
  if (value.is_null()) return "";
  return value.dump();
}

std::string markdown_report(const ordered_json& metrics, const std::string& title) {
  std::string md = "# " + title + "\n\nRates in percent; counts as numbers.\n";
  for (const auto& [bench, cats] : metrics.items()) {
    if (!cats.is_object()) continue;
    std::vector<std::string> columns;
    for (const auto& [cat, values] : cats.items())
      for (const auto& [name, v] : values.items())
        if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    md += "\n## " + markdown_cell(bench) + "\n\n| category |";
    for (const auto& c : columns) md += " " + markdown_cell(c) + " |";
    md += "\n|---|";
    for (size_t i = 0; i < columns.size(); ++i) md += "---:|";
    md += "\n";
    for (const auto& [cat, values] : cats.items()) {
      md += cat == "overall" ? "| **overall** |" : "| " + markdown_cell(cat) + " |";
      for (const auto& c : columns) md += " " + (values.contains(c) ? format_metric(values[c], c) : std::string()) + " |";
      md += "\n";
    }
  }
  return md;
}

}  // namespace seva::eval
