// Side-by-side comparison of eval runs (e.g. base vs SeVa): a Markdown table with deltas against
// the first run, per benchmark, category and metric.
#pragma once
#include "eval/report.h"

#include <string>
#include <vector>

namespace seva::eval {

struct EvalRun {
  std::string name;      // shown in headers and the chart legend
  ordered_json metrics;  // the run's metrics.json
};

// Reads RUN_DIR/metrics.json (or the file itself when `path` is one); the name defaults to the
// directory's last component.
EvalRun load_eval_run(const std::string& path, const std::string& name = "");

// For each benchmark (in order of first appearance across runs) a table: one row per
// (category, metric), one column per run, then one Δ column per later run (run − first run; rates
// in percentage points). Coverage counts other than `scored` are left out; a missing value is "–".
std::string compare_markdown(const std::vector<EvalRun>& runs);

}  // namespace seva::eval
