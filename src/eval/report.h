// The shape of evaluation results: metrics.json (benchmark → category → metric, "overall" last)
// and its Markdown rendering. Rates are JSON floats in [0, 1]; counts are JSON integers; a mean
// length (a metric named mean_* or greedy_mean_*) is a plain number.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace seva::eval {

using ordered_json = nlohmann::ordered_json;

// How many questions of a category were scored and why the others were not. Every category
// object carries these four counts next to its metrics.
struct Coverage {
  int64_t questions = 0;       // in the benchmark file
  int64_t scored = 0;          // answered and scored
  int64_t missing_images = 0;  // image absent or unreadable: never answered, never scored
  int64_t unanswered = 0;      // image fine but no answer (an unfinished run, a partial answers file)
  void add_to(ordered_json& metrics) const;
};

// Accumulates category → value, and writes {category…, "overall"} with categories sorted and
// "overall" last.
template <class T>
struct PerCategory {
  std::map<std::string, T> categories;
  T overall;
  // Calls fn(T&) on the category's entry (when `category` is not empty) and on overall.
  template <class Fn>
  void update(const std::string& category, Fn&& fn) {
    if (!category.empty()) fn(categories[category]);
    fn(overall);
  }
  template <class Fn>
  ordered_json to_json(Fn&& fn) const {
    ordered_json out = ordered_json::object();
    for (const auto& [name, v] : categories)
      if (name != "overall") out[name] = fn(v);
    out["overall"] = fn(overall);
    return out;
  }
};

// metrics.json: {"pope": {...}, "mmbench": {...}, "vqa": {...}} in the order given.
// Markdown: one section per benchmark, one table row per category, one column per metric
// (rates as percentages with two decimals, counts as integers).
std::string markdown_report(const ordered_json& metrics, const std::string& title = "Evaluation");
// Whether a metric is a plain number rather than a rate (its name starts "mean_" or "greedy_mean_").
bool is_plain_metric(const std::string& name);
// Formats one value the way the tables do: a rate as 100·x with 2 decimals, a plain number with
// 2 decimals, an integer as is.
std::string format_metric(const ordered_json& value, const std::string& name = "");
// Text made safe for a Markdown table cell ('|' escaped, newlines as spaces).
std::string markdown_cell(const std::string& text);

}  // namespace seva::eval
