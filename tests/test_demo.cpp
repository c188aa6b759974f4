// The embedded default: `seva demo --quick` end to end, and the report's pieces.
#include <gtest/gtest.h>

#include "demo/line_chart.h"
#include "demo/pipeline.h"
#include "demo/process.h"
#include "demo/report.h"
#include "demo/report_html.h"
#include "eval/base64.h"
#include "io/files.h"
#include "test_helpers.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace seva;

TEST(Demo, FamilyAccuracyReadsEvalMetrics) {
  nlohmann::ordered_json m = {
      {"pope", {{"overall", {{"accuracy", 0.8}, {"f1", 0.7}}}}},
      {"mmbench", {{"overall", {{"accuracy", 0.4}}}}},
      {"vqa", {{"color", {{"accuracy", 0.9}}}, {"count", {{"accuracy", 0.5}}}, {"overall", {{"accuracy", 0.7}}}}}};
  auto f = demo::family_accuracy(m);
  EXPECT_DOUBLE_EQ(f["color"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(f["count"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(f["exist"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(f["choice"].get<double>(), 0.4);
  EXPECT_NEAR(f["overall"].get<double>(), (0.9 + 0.5 + 0.8 + 0.4) / 4, 1e-12);
  EXPECT_FALSE(f.contains("vqa"));
}

TEST(Demo, LineChartPlotsEveryFinitePoint) {
  std::string svg = demo::line_chart_svg("loss", "step", {{"loss", {1, 2, 3, 4}, {0.69, 0.6, NAN, 0.4}}});
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
  // Two segments: the NaN breaks the line (M, L, then M again).
  const size_t from = svg.find("<path d=\"") + 9;
  const std::string d = svg.substr(from, svg.find('"', from) - from);
  size_t moves = std::count(d.begin(), d.end(), 'M');
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 1);
  EXPECT_EQ(moves, 2u);
}

TEST(Demo, ReportHtmlRendersTheMarkdownSubsetAndInlinesImages) {
  const std::string dir = test::temp_dir("demo_html");
  io::make_dir(dir + "/charts");
  const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
  io::write_file_atomic(dir + "/charts/a.svg", svg);
  const std::string md =
      "# Title <x>\n\nOne **bold** line\nand `code|x` here.\n\n"
      "| setting | value |\n|---|---:|\n| a \\| b | 1 |\n| ![c](charts/a.svg) | 2 |\n\n"
      "![gone](charts/none.png)\n\n```sh\nseva eval --out a<b\n```\n";
  const std::string html = demo::report_html(md, dir, "t & u");
  auto has = [&](const std::string& s) { return html.find(s) != std::string::npos; };
  EXPECT_TRUE(has("<title>t &amp; u</title>")) << html;
  EXPECT_TRUE(has("<h1>Title &lt;x&gt;</h1>")) << html;
  EXPECT_TRUE(has("<p>One <strong>bold</strong> line and <code>code|x</code> here.</p>")) << html;
  EXPECT_TRUE(has("<thead><tr><th>setting</th><th>value</th></tr></thead>")) << html;
  EXPECT_TRUE(has("<tr><td>a | b</td><td>1</td></tr>")) << html;  // an escaped pipe stays in its cell
  EXPECT_TRUE(has("<td><img alt=\"c\" src=\"data:image/svg+xml;base64," + eval::base64_encode(svg) + "\"></td>"))
      << html;
  EXPECT_TRUE(has("[gone: charts/none.png]")) << html;  // a missing image is named, not dropped
  EXPECT_TRUE(has("<pre><code>seva eval --out a&lt;b\n</code></pre>")) << html;
  EXPECT_FALSE(has("|---")) << html;
}

// Every study holds the defaults (diffusion:500 in aug, t=500 in noise, 1x in scale, ...): in one
// RUN_DIR they must name one run directory per seed, and every other setting one of its own.
TEST(Demo, StudiesShareTheRunsOfIdenticalSettings) {
  const demo::SevaSettings defaults;
  auto dir_of = [&](const std::string& study, const std::string& name, uint64_t seed) {
    for (const auto& [n, s] : demo::study_settings(study, defaults))
      if (n == name) return demo::study_run_dir(s, seed);
    ADD_FAILURE() << study << " has no setting " << name;
    return std::string();
  };
  EXPECT_EQ(dir_of("aug", "diffusion:500", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("noise", "t=500", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("scale", "1x", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("sft", "seva", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("multi", "1 negative", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("balance", "R=2", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("nll", "nll 1", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("lora", "decoder", 1), "study-runs/default-s1");
  EXPECT_EQ(dir_of("noise", "t=500", 2), "study-runs/default-s2");
  EXPECT_EQ(dir_of("lora", "decoder + projector", 0), "study-runs/lora_projector_1-s0");
  EXPECT_EQ(dir_of("aug", "flip", 0), "study-runs/aug_flip-s0");
  EXPECT_EQ(dir_of("noise", "t=300", 0), "study-runs/aug_diffusion_300-s0");
  EXPECT_EQ(dir_of("scale", "1/4", 0), "study-runs/pool_fraction_0.25-s0");
  EXPECT_EQ(dir_of("sft", "sft-labels", 0), "study-runs/mode_sft-labels-s0");
  EXPECT_EQ(dir_of("balance", "off", 0), "study-runs/balance_0-s0");
  EXPECT_EQ(dir_of("multi", "3 negatives", 0), "study-runs/aug_diffusion_500_diffusion_800_rrcrop-loss_multi-s0");
  // A study of a changed default (--lr 5e-5) names the change in every run, the shared one too.
  demo::SevaSettings slow;
  slow.lr = 5e-5;
  EXPECT_EQ(demo::study_run_dir(demo::study_settings("noise", slow)[2].second, 0), "study-runs/lr_5e-05-s0");
  EXPECT_THROW(demo::study_settings("nope", defaults), std::runtime_error);
}

TEST(Demo, CommandLineQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(demo::command_line({"seva", "eval", "--out", "a b", "it's"}), "seva eval --out 'a b' 'it'\\''s'");
}

TEST(Demo, FailingCommandIsReportedWithItsLog) {
  const std::string dir = test::temp_dir("demo_fail");
  try {
    demo::run_command({"/bin/sh", "-c", "echo oops >&2; exit 3"}, dir + "/log.txt", false);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("exited with status 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("oops"), std::string::npos) << msg;
  }
}

// `seva demo --quick` end to end on the shipped base: every phase runs, the report names each,
// summary.json holds base and SeVa metrics as `seva eval` writes them, and the base answers the
// families it has learnt above chance.
TEST(Demo, QuickRunsEndToEndAndReportsEveryPhase) {
  const std::string dir = test::temp_dir("demo_quick");
  auto r = test::run_seva("demo --quick --threads 2 --out " + test::shell_quote(dir + "/run"));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string report = io::read_file(dir + "/run/report.md");
  // The same report as one self-contained page: the charts inlined, no relative links left.
  const std::string html = io::read_file(dir + "/run/report.html");
  EXPECT_NE(html.find("data:image/svg+xml;base64,"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);  // the example pairs' images
  EXPECT_EQ(html.find("](charts/"), std::string::npos);
  EXPECT_EQ(html.find("class=\"missing\""), std::string::npos);
  for (const char* phase : {"synthetic world", "evaluate the base", "grounding gate", "sample questions",
                            "answer original and augmented views", "pair differing answers", "DPO with LoRA",
                            "evaluate the aligned model"})
    EXPECT_NE(report.find(phase), std::string::npos) << "report.md does not name phase: " << phase;
  auto summary = io::read_json(dir + "/run/summary.json");
  for (const char* side : {"base", "seva"}) {
    ASSERT_TRUE(summary.contains(side)) << side;
    const auto& m = summary[side];
    double f1 = m.at("pope").at("overall").at("f1").get<double>();
    double acc = m.at("mmbench").at("overall").at("accuracy").get<double>();
    EXPECT_GT(f1, 0.0) << side;
    EXPECT_LE(f1, 1.0) << side;
    EXPECT_GT(acc, 0.0) << side;
    EXPECT_LE(acc, 1.0) << side;
  }
  // The shipped base on the full benchmarks: colour 82%, count 84% (chance 1/4), position 66%
  // (chance 1/6), digits 100%, existence 78% (chance 1/2), multiple choice 33% (chance 1/4, after
  // the base's stages 6-8); on --quick's smaller ones (300 multiple-choice questions) existence is
  // 77%, position 70%, multiple choice 33.7%.
  const auto& fam = summary.at("base_families");
  for (const char* family : {"color", "count", "exist", "position", "text", "choice"})
    ASSERT_TRUE(fam.contains(family)) << family << " missing from base_families: " << fam.dump();
  EXPECT_GT(fam["color"].get<double>(), 0.25 + 0.3);
  EXPECT_GT(fam["count"].get<double>(), 0.25 + 0.3);
  EXPECT_GT(fam["exist"].get<double>(), 0.5 + 0.08);
  EXPECT_GT(fam["position"].get<double>(), 1.0 / 6 + 0.4);
  EXPECT_GT(fam["text"].get<double>(), 0.8);
  EXPECT_GT(fam["choice"].get<double>(), 0.25 + 0.04);
  EXPECT_GT(summary.at("pairs").at("pairs").get<int64_t>(), 0) << summary.at("pairs").dump();
}
