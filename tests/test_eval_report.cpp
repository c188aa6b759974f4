// metrics.json shape, the Markdown table, run comparison with deltas and the SVG chart.
#include "eval/bar_chart.h"
#include "eval/compare.h"
#include "eval/pope.h"
#include "eval/report.h"
#include "io/files.h"
#include "test_helpers.h"

#include <sys/stat.h>

using seva::eval::ordered_json;

namespace {

ordered_json pope_metrics_for(int tp, int fp, int tn, int fn) {
  std::vector<seva::eval::PopeQuestion> qs;
  std::map<std::string, std::string> answers;
  auto add = [&](bool label, bool pred, int n, const std::string& cat) {
    for (int i = 0; i < n; ++i) {
      seva::eval::PopeQuestion q;
      q.key = std::to_string(qs.size());
      q.category = cat;
      q.label_yes = label;
      qs.push_back(q);
      answers[q.key] = pred ? "Yes" : "No";
    }
  };
  add(true, true, tp, "random");
  add(false, true, fp, "popular");
  add(false, false, tn, "random");
  add(true, false, fn, "popular");
  return seva::eval::score_pope(qs, answers);
}

}  // namespace

TEST(EvalReport, MetricsJsonShape) {
  ordered_json metrics;
  metrics["pope"] = pope_metrics_for(3, 1, 4, 2);
  const auto& pope = metrics["pope"];
  std::vector<std::string> cats;
  for (const auto& [k, v] : pope.items()) cats.push_back(k);
  EXPECT_EQ(cats, (std::vector<std::string>{"popular", "random", "overall"}));
  std::vector<std::string> names;
  for (const auto& [k, v] : pope["overall"].items()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"accuracy", "precision", "recall", "f1", "yes_ratio", "tp", "fp", "tn",
                                             "fn", "questions", "scored", "missing_images", "unanswered"}));
  // Rates are floats, counts integers: the Markdown and compare rely on it.
  EXPECT_TRUE(pope["overall"]["accuracy"].is_number_float());
  EXPECT_TRUE(pope["overall"]["tp"].is_number_integer());
  EXPECT_EQ(pope["overall"]["tp"], 3);
  auto reparsed = ordered_json::parse(metrics.dump(2));
  EXPECT_EQ(reparsed, metrics);
}

TEST(EvalReport, MarkdownTable) {
  ordered_json metrics;
  metrics["pope"] = pope_metrics_for(3, 1, 4, 2);
  std::string md = seva::eval::markdown_report(metrics);
  EXPECT_NE(md.find("## pope"), std::string::npos) << md;
  EXPECT_NE(md.find("| category | accuracy | precision | recall | f1 | yes_ratio | tp |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **overall** | 70.00 | 75.00 | 60.00 | 66.67 | 40.00 | 3 | 1 | 4 | 2 | 10 | 10 | 0 | 0 |"),
            std::string::npos)
      << md;
  EXPECT_EQ(seva::eval::format_metric(ordered_json(0.123456)), "12.35");
  EXPECT_EQ(seva::eval::format_metric(ordered_json(7)), "7");
  EXPECT_EQ(seva::eval::markdown_cell("a|b\nc"), "a\\|b c");
}

TEST(EvalReport, CompareShowsDeltasAgainstTheFirstRun) {
  std::string dir = seva::test::temp_dir("compare");
  ordered_json base, seva_run;
  base["pope"] = pope_metrics_for(3, 1, 4, 2);      // accuracy 0.70
  seva_run["pope"] = pope_metrics_for(4, 0, 5, 1);  // accuracy 0.90
  ::mkdir((dir + "/base").c_str(), 0755);
  ::mkdir((dir + "/seva").c_str(), 0755);
  seva::io::write_file_atomic(dir + "/base/metrics.json", base.dump(2));
  seva::io::write_file_atomic(dir + "/seva/metrics.json", seva_run.dump(2));
  std::vector<seva::eval::EvalRun> runs = {seva::eval::load_eval_run(dir + "/base"),
                                           seva::eval::load_eval_run(dir + "/seva/metrics.json")};
  EXPECT_EQ(runs[0].name, "base");
  EXPECT_EQ(runs[1].name, "seva");
  std::string md = seva::eval::compare_markdown(runs);
  EXPECT_NE(md.find("| category | metric | base | seva | Δ seva |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **overall** | accuracy | 70.00 | 90.00 | +20.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **overall** | fp | 1 | 0 | -1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **overall** | scored | 10 | 10 | +0 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("missing_images"), std::string::npos) << md;  // coverage detail left out
  EXPECT_THROW(seva::eval::load_eval_run(dir + "/nothing"), std::runtime_error);

  std::string svg = seva::eval::compare_svg(runs);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(">pope accuracy<"), std::string::npos);
  EXPECT_NE(svg.find("<title>seva: 90.0</title>"), std::string::npos);
  // 5 POPE rates × 2 runs = 10 bars, plus the background and 2 legend swatches.
  size_t rects = 0;
  for (size_t p = svg.find("<rect"); p != std::string::npos; p = svg.find("<rect", p + 1)) ++rects;
  EXPECT_EQ(rects, 13u);
}

TEST(EvalReport, SvgEscapesNames) {
  std::string svg = seva::eval::bar_chart_svg("a<b", {"x&y"}, {{"g\"1", {0.5}}});
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
  EXPECT_NE(svg.find("x&amp;y"), std::string::npos);
  EXPECT_NE(svg.find("g&quot;1"), std::string::npos);
}

TEST(EvalReport, CompareRefusesADeeplyNestedMetricsFile) {
  const std::string dir = seva::test::temp_dir("compare_deep");
  seva::io::write_file_atomic(dir + "/metrics.json", "{\"pope\": " + std::string(100000, '[') +
                                                         std::string(100000, ']') + "}");
  try {
    seva::eval::load_eval_run(dir);
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.json: not a metrics.json object"), std::string::npos) << e.what();
  }
}

TEST(EvalReport, MeanLengthsArePlainNumbersBesideRates) {
  seva::eval::ordered_json m;
  m["chair"]["overall"] = {{"chair_i", 0.125}, {"mean_words", 9.5}, {"greedy_mean_words", 9.25}, {"mentions", 8}};
  const std::string md = seva::eval::markdown_report(m);
  EXPECT_NE(md.find("| **overall** | 12.50 | 9.50 | 9.25 | 8 |"), std::string::npos) << md;
}
