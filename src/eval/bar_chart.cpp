#include "eval/bar_chart.h"

#include "eval/xml_escape.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace seva::eval {
namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

// Tableau-like palette: distinguishable, readable on white.
const char* const kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace

std::string bar_chart_svg(const std::string& title, const std::vector<std::string>& series,
                          const std::vector<BarGroup>& groups) {
  const double bar_w = 18, group_gap = 24, left = 56, right = 16, top = 48, plot_h = 240, bottom = 110;
  const double group_w = std::max<double>(1, series.size()) * bar_w;
  const double plot_w = std::max(200.0, groups.size() * (group_w + group_gap) + group_gap);
  const double legend_h = 18.0 * series.size();
  const double width = left + plot_w + right, height = top + plot_h + bottom + legend_h;
  auto y_of = [&](double v) { return top + plot_h * (1.0 - v); };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" +
                    num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + num(width / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + xml_escape(title) +
         "</text>\n";
  for (int tick = 0; tick <= 100; tick += 25) {  // grid and y axis labels
    double y = y_of(tick / 100.0);
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" + num(y) +
           "\" stroke=\"#ddd\"/>\n";
    svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + std::to_string(tick) +
           "</text>\n";
  }
  svg += "<text transform=\"translate(14," + num(top + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">percent</text>\n";
  for (size_t g = 0; g < groups.size(); ++g) {
    double x0 = left + group_gap + g * (group_w + group_gap);
    for (size_t s = 0; s < groups[g].values.size() && s < series.size(); ++s) {
      double v = groups[g].values[s];
      if (std::isnan(v)) continue;
      v = std::clamp(v, 0.0, 1.0);
      double x = x0 + s * bar_w, y = y_of(v);
      svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(bar_w - 2) + "\" height=\"" +
             num(top + plot_h - y) + "\" fill=\"" + kColours[s % 10] + "\"><title>" + xml_escape(series[s]) + ": " +
             num(100 * groups[g].values[s]) + "</title></rect>\n";
    }
    double cx = x0 + group_w / 2, ly = top + plot_h + 12;
    svg += "<text transform=\"translate(" + num(cx) + "," + num(ly) + ") rotate(-40)\" text-anchor=\"end\">" +
           xml_escape(groups[g].label) + "</text>\n";
  }
  svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(top + plot_h) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" +
         num(top + plot_h) + "\" stroke=\"#333\"/>\n";
  for (size_t s = 0; s < series.size(); ++s) {  // legend
    double y = top + plot_h + bottom + 18.0 * s;
    svg += "<rect x=\"" + num(left) + "\" y=\"" + num(y) + "\" width=\"12\" height=\"12\" fill=\"" + kColours[s % 10] +
           "\"/>\n";
    svg += "<text x=\"" + num(left + 18) + "\" y=\"" + num(y + 10) + "\">" + xml_escape(series[s]) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string compare_svg(const std::vector<EvalRun>& runs) {
  std::vector<std::string> series;
  for (const auto& r : runs) series.push_back(r.name);
  std::vector<BarGroup> groups;
  auto find_group = [&](const std::string& label) -> BarGroup& {
    for (auto& g : groups)
      if (g.label == label) return g;
    groups.push_back({label, std::vector<double>(runs.size(), NAN)});
    return groups.back();
  };
  for (size_t i = 0; i < runs.size(); ++i)
    for (const auto& [bench, cats] : runs[i].metrics.items()) {
      if (!cats.is_object() || !cats.contains("overall") || !cats["overall"].is_object()) continue;
      for (const auto& [metric, v] : cats["overall"].items()) {
        // Rates only; of a sampled entry's ranges the means stand for them.
        auto ends_with = [&metric](const char* end) {
          const std::string e(end);
          return metric.size() >= e.size() && metric.compare(metric.size() - e.size(), e.size(), e) == 0;
        };
        if (v.is_number_float() && !is_plain_metric(metric) && !ends_with("_min") && !ends_with("_max"))
          find_group(bench + " " + metric).values[i] = v.get<double>();
      }
    }
  return bar_chart_svg("seva eval: overall", series, groups);
}

}  // namespace seva::eval
