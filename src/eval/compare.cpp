#include "eval/compare.h"

#include "io/files.h"
#include "io/jsonl.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <sys/stat.h>

namespace seva::eval {
namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string last_component(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void append_unique(std::vector<std::string>& list, const std::string& s) {
  if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
}

const ordered_json* find_value(const ordered_json& metrics, const std::string& bench, const std::string& cat,
                               const std::string& metric) {
  if (!metrics.contains(bench) || !metrics[bench].is_object()) return nullptr;
  const auto& b = metrics[bench];
  if (!b.contains(cat) || !b[cat].is_object() || !b[cat].contains(metric)) return nullptr;
  const auto& v = b[cat][metric];
  return v.is_number() ? &v : nullptr;
}

std::string format_delta(const ordered_json& a, const ordered_json& b, const std::string& metric) {
  char buf[32];
  if (a.is_number_float() || b.is_number_float())
    std::snprintf(buf, sizeof buf, "%+.2f", (is_plain_metric(metric) ? 1.0 : 100.0) * (b.get<double>() - a.get<double>()));
  else
    std::snprintf(buf, sizeof buf, "%+lld", static_cast<long long>(b.get<int64_t>() - a.get<int64_t>()));
  return buf;
}

}  // namespace

EvalRun load_eval_run(const std::string& path, const std::string& name) {
  bool dir = is_directory(path);
  std::string file = dir ? io::join_path(path, "metrics.json") : path;
  if (!io::file_exists(file))
    throw std::runtime_error(file + ": no metrics.json (is " + path + " a `seva eval --out` directory?)");
  EvalRun run;
  const std::string text = io::read_file(file);
  try {
    io::parse_json(text);  // refuses nesting deeper than any metrics.json has, before the ordered parse
  } catch (const std::exception& e) {
    throw std::runtime_error(file + ": not a metrics.json object (" + e.what() + ")");
  }
  run.metrics = ordered_json::parse(text, nullptr, false);
  if (run.metrics.is_discarded() || !run.metrics.is_object())
    throw std::runtime_error(file + ": not a metrics.json object");
  if (!name.empty()) {
    run.name = name;
  } else if (dir) {
    run.name = last_component(path);
  } else {
    auto slash = path.rfind('/');  // RUN_DIR/metrics.json → RUN_DIR's name
    run.name = slash == std::string::npos || slash == 0 ? path : last_component(path.substr(0, slash));
  }
  return run;
}

std::string compare_markdown(const std::vector<EvalRun>& runs) {
  static const std::set<std::string> hidden = {"questions", "missing_images", "unanswered"};
  std::vector<std::string> benches;
  for (const auto& r : runs)
    for (const auto& [b, v] : r.metrics.items())
      if (v.is_object()) append_unique(benches, b);
  std::string md = "# Comparison\n\nRates in percent; Δ against " + markdown_cell(runs.empty() ? "" : runs[0].name) +
                   " (rates in percentage points; mean lengths in words or tokens).\n";
  for (const auto& bench : benches) {
    std::vector<std::string> cats;
    for (const auto& r : runs)
      if (r.metrics.contains(bench))
        for (const auto& [c, v] : r.metrics[bench].items())
          if (c != "overall") append_unique(cats, c);
    std::sort(cats.begin(), cats.end());
    cats.push_back("overall");
    md += "\n## " + markdown_cell(bench) + "\n\n| category | metric |";
    for (const auto& r : runs) md += " " + markdown_cell(r.name) + " |";
    for (size_t i = 1; i < runs.size(); ++i) md += " Δ " + markdown_cell(runs[i].name) + " |";
    md += "\n|---|---|";
    for (size_t i = 0; i < 2 * runs.size() - (runs.empty() ? 0 : 1); ++i) md += "---:|";
    md += "\n";
    for (const auto& cat : cats) {
      std::vector<std::string> metrics;
      for (const auto& r : runs)
        if (r.metrics.contains(bench) && r.metrics[bench].contains(cat) && r.metrics[bench][cat].is_object())
          for (const auto& [m, v] : r.metrics[bench][cat].items())
            if (!hidden.count(m)) append_unique(metrics, m);
      for (const auto& m : metrics) {
        std::string label = cat == "overall" ? "**overall**" : markdown_cell(cat);
        md += "| " + label + " | " + markdown_cell(m) + " |";
        const ordered_json* first = runs.empty() ? nullptr : find_value(runs[0].metrics, bench, cat, m);
        for (const auto& r : runs) {
          const auto* v = find_value(r.metrics, bench, cat, m);
          md += " " + (v ? format_metric(*v, m) : std::string("–")) + " |";
        }
        for (size_t i = 1; i < runs.size(); ++i) {
          const auto* v = find_value(runs[i].metrics, bench, cat, m);
          md += " " + (v && first ? format_delta(*first, *v, m) : std::string("–")) + " |";
        }
        md += "\n";
      }
    }
  }
  return md;
}

}  // namespace seva::eval
