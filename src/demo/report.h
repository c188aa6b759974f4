// The demo's report: report.md (tables, charts as SVG files next to it, example pairs with their
// images) and summary.json (the metrics of base and SeVa as `seva eval` writes them, the pair
// statistics, the phases and their times).
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace seva::demo {

struct ReportInput {
  std::string run_dir;
  std::string world;        // the world directory (pool_labels.jsonl, images/)
  std::string base_model;
  std::string study;        // "" for one SeVa run
  nlohmann::ordered_json runs;    // [{dir, setting, seed, settings, questions, pairs}]
  nlohmann::ordered_json phases;  // [{phase, key, seconds, commands, resumed?}]
  double seconds = 0;
  bool quick = false;
  uint64_t seed = 0;
};

// Question families and their accuracy in one eval run's metrics.json: the VQA categories
// (colour, count, position, text, ...), `exist` = POPE accuracy, `choice` = MMBench accuracy, and
// `overall` = their mean.
nlohmann::ordered_json family_accuracy(const nlohmann::ordered_json& metrics);

// Writes RUN_DIR/report.md (and the same as one self-contained RUN_DIR/report.html),
// RUN_DIR/summary.json and RUN_DIR/charts/*.svg.
void write_report(const ReportInput& in);

}  // namespace seva::demo
