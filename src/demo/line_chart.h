// A line chart as a standalone SVG file (training curves), written by hand like eval/bar_chart.
#pragma once
#include <string>
#include <vector>

namespace seva::demo {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; NaN y values are gaps
};

// Axes scaled to the data (y from its min to its max, padded), ticks at both ends and the middle,
// one colour per series, a legend.
std::string line_chart_svg(const std::string& title, const std::string& x_label, const std::vector<Series>& series);

}  // namespace seva::demo
