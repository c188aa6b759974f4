// A grouped bar chart as a standalone SVG file, written by hand (no plotting library).
#pragma once
#include "eval/compare.h"

#include <string>
#include <vector>

namespace seva::eval {

struct BarGroup {
  std::string label;           // under the group, e.g. "pope accuracy"
  std::vector<double> values;  // one per series, in [0, 1]; NaN = absent (no bar)
};

// Bars in percent on a 0–100 axis, one colour per series, a legend with the series names.
std::string bar_chart_svg(const std::string& title, const std::vector<std::string>& series,
                          const std::vector<BarGroup>& groups);

// The chart `seva compare` draws: one group per (benchmark, rate metric) of the "overall"
// category (mean lengths and the _min/_max ranges of sampled entries left out), one bar per run.
std::string compare_svg(const std::vector<EvalRun>& runs);

}  // namespace seva::eval
