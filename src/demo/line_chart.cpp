#include "demo/line_chart.h"

#include "eval/xml_escape.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace seva::demo {
namespace {

using eval::xml_escape;

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string num(double v) {
  char buf[32];
  if (std::fabs(v) >= 100 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

std::string line_chart_svg(const std::string& title, const std::string& x_label, const std::vector<Series>& series) {
  const double W = 480, H = 260, left = 56, right = 16, top = 34, bottom = 44;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - (y - y0) / (y1 - y0) * (H - top - bottom); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">" << xml_escape(title) << "</text>\n"
      << "<line x1=\"" << left << "\" y1=\"" << H - bottom << "\" x2=\"" << W - right << "\" y2=\"" << H - bottom
      << "\" stroke=\"black\"/>\n"
      << "<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\"" << H - bottom
      << "\" stroke=\"black\"/>\n";
  for (double f : {0.0, 0.5, 1.0}) {
    double yv = y0 + f * (y1 - y0), xv = x0 + f * (x1 - x0);
    svg << "<text x=\"" << left - 4 << "\" y=\"" << py(yv) + 4 << "\" text-anchor=\"end\">" << num(yv) << "</text>\n"
        << "<line x1=\"" << left << "\" y1=\"" << py(yv) << "\" x2=\"" << W - right << "\" y2=\"" << py(yv)
        << "\" stroke=\"#ddd\"/>\n"
        << "<text x=\"" << px(xv) << "\" y=\"" << H - bottom + 14 << "\" text-anchor=\"middle\">" << num(xv) << "</text>\n";
  }
  svg << "<text x=\"" << (left + W - right) / 2 << "\" y=\"" << H - 8 << "\" text-anchor=\"middle\">" << xml_escape(x_label)
      << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* colour = kColours[k % (sizeof(kColours) / sizeof(kColours[0]))];
    std::string path;
    bool pen = false;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) {
        pen = false;
        continue;
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "%c%.1f %.1f ", pen ? 'L' : 'M', px(s.x[i]), py(s.y[i]));
      path += buf;
      pen = true;
    }
    svg << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.5\"/>\n"
        << "<rect x=\"" << left + 8 + 120 * k << "\" y=\"" << top - 8 << "\" width=\"10\" height=\"3\" fill=\"" << colour
        << "\"/>\n<text x=\"" << left + 22 + 120 * k << "\" y=\"" << top - 4 << "\">" << xml_escape(s.name) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace seva::demo
