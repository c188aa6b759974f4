#include "demo/report.h"

#include "demo/line_chart.h"
#include "demo/report_html.h"
#include "eval/answers.h"
#include "eval/bar_chart.h"
#include "eval/report.h"
#include "eval/vqa_normalize.h"
#include "io/files.h"
#include "io/jsonl.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace seva::demo {
namespace {

using json = nlohmann::ordered_json;

std::string pct(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100 * v);
  return buf;
}
std::string signed_pct(double v) {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", 100 * v);
  return buf;
}
std::string seconds_text(double s) {
  char buf[32];
  if (s >= 60) std::snprintf(buf, sizeof buf, "%dm %02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

double get(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return NAN;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : NAN;
}

json load_metrics(const std::string& run_dir, const std::string& rel) {
  const std::string path = io::join_path(io::join_path(run_dir, rel), "metrics.json");
  return io::file_exists(path) ? json(io::read_json(path)) : json::object();
}

// Answers compared as the VQA evaluator compares them.
bool same_answer(const std::string& a, const std::string& b) { return eval::vqa_normalize(a) == eval::vqa_normalize(b); }

struct PairStats {
  int64_t pairs = 0, chosen_right = 0, rejected_right = 0, labelled = 0;
  std::map<std::string, int64_t> per_family, questions_per_family;
  std::vector<json> examples;
};

PairStats pair_stats(const std::string& run_dir, const std::string& world, const std::string& rel) {
  PairStats st;
  std::map<std::string, std::pair<std::string, std::string>> labels;  // id -> (answer, family)
  const std::string labels_path = io::join_path(world, "pool_labels.jsonl");
  if (io::file_exists(labels_path))
    io::for_each_jsonl(labels_path, [&](const nlohmann::json& j, int64_t) {
      labels[j.value("id", "")] = {j.value("answer", ""), j.value("family", "")};
    });
  const std::string dir = io::join_path(run_dir, rel);
  const std::string questions = io::join_path(dir, "questions.jsonl");
  if (io::file_exists(questions))
    io::for_each_jsonl(questions, [&](const nlohmann::json& q, int64_t) {
      auto it = labels.find(q.value("id", ""));
      st.questions_per_family[it == labels.end() ? "?" : it->second.second]++;
    });
  const std::string pairs = io::join_path(dir, "pairs.jsonl");
  if (!io::file_exists(pairs)) return st;
  io::for_each_jsonl(pairs, [&](const nlohmann::json& p, int64_t) {
    ++st.pairs;
    auto it = labels.find(p.value("id", ""));
    std::string family = it == labels.end() ? "?" : it->second.second;
    st.per_family[family]++;
    if (it == labels.end()) return;
    ++st.labelled;
    const std::string chosen = p.value("chosen", "");
    const std::string rejected = p.contains("rejected") && !p["rejected"].empty() ? p["rejected"][0].get<std::string>() : "";
    st.chosen_right += same_answer(chosen, it->second.first);
    st.rejected_right += same_answer(rejected, it->second.first);
    if (st.examples.size() < 6 && (st.examples.empty() || st.examples.back().value("family", "") != family))
      st.examples.push_back({{"image", p.value("image", "")}, {"question", p.value("question", "")}, {"chosen", chosen},
                             {"rejected", rejected}, {"truth", it->second.first}, {"family", family}});
  });
  return st;
}

std::vector<json> read_rows(const std::string& path) {
  std::vector<json> rows;
  if (io::file_exists(path)) io::for_each_jsonl(path, [&](const nlohmann::json& j, int64_t) { rows.push_back(j); });
  return rows;
}

struct MeanStd {
  double mean = NAN, std = NAN;
  int n = 0;
};
MeanStd mean_std(const std::vector<double>& v) {
  MeanStd m;
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  m.n = static_cast<int>(f.size());
  if (f.empty()) return m;
  double s = 0;
  for (double x : f) s += x;
  m.mean = s / f.size();
  double ss = 0;
  for (double x : f) ss += (x - m.mean) * (x - m.mean);
  m.std = f.size() > 1 ? std::sqrt(ss / (f.size() - 1)) : 0.0;
  return m;
}
std::string pm(const MeanStd& m) {
  if (m.n == 0) return "–";
  char buf[64];
  if (m.n == 1)  // one seed: no spread to show
    std::snprintf(buf, sizeof buf, "%+.1f", 100 * m.mean);
  else
    std::snprintf(buf, sizeof buf, "%+.1f ± %.1f", 100 * m.mean, 100 * m.std);
  return buf;
}

// The headline metrics: (label, path in metrics.json).
const std::vector<std::pair<std::string, std::vector<const char*>>>& headline() {
  static const std::vector<std::pair<std::string, std::vector<const char*>>> h = {
      {"POPE F1", {"pope", "overall", "f1"}},
      {"POPE accuracy", {"pope", "overall", "accuracy"}},
      {"POPE yes-ratio", {"pope", "overall", "yes_ratio"}},
      {"POPE F1 (random)", {"pope", "random", "f1"}},
      {"POPE F1 (popular)", {"pope", "popular", "f1"}},
      {"POPE F1 (adversarial)", {"pope", "adversarial", "f1"}},
      {"MMBench accuracy", {"mmbench", "overall", "accuracy"}},
      {"MMBench circular accuracy", {"mmbench", "overall", "circular_accuracy"}},
      {"VQA accuracy", {"vqa", "overall", "accuracy"}},
      {"Descriptions CHAIR_s (lower is better)", {"chair", "overall", "chair_s"}},
      {"Descriptions CHAIR_i (lower is better)", {"chair", "overall", "chair_i"}},
      {"Descriptions object recall", {"chair", "overall", "recall"}},
  };
  return h;
}

// The short-answer benchmarks and their headline metric, as robustness under sampling reads them.
const std::vector<std::pair<std::string, std::string>>& sampled_benchmarks() {
  static const std::vector<std::pair<std::string, std::string>> b = {
      {"pope", "accuracy"}, {"mmbench", "accuracy"}, {"vqa", "accuracy"}, {"chair", "chair_i"}};
  return b;
}

// The temperatures a run's metrics hold sampled entries for ("pope@T=0.5" → "0.5"), in order.
std::vector<std::string> sampled_temperatures(const json& metrics) {
  std::vector<std::string> out;
  for (const auto& [name, v] : metrics.items()) {
    auto at = name.find("@T=");
    if (at == std::string::npos) continue;
    std::string t = name.substr(at + 3);
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

// The mean sampled accuracy over POPE, MMBench and VQA at temperature t.
double mean_sampled_accuracy(const json& metrics, const std::string& t) {
  double s = 0;
  int n = 0;
  for (const char* b : {"pope", "mmbench", "vqa"}) {
    const std::string name = std::string(b) + "@T=" + t;
    double v = metrics.contains(name) ? get(metrics[name], {"overall", "accuracy"}) : NAN;
    if (std::isfinite(v)) s += v, ++n;
  }
  return n ? s / n : NAN;
}

// Descriptions and robustness under sampling, base against SeVa: the mean length of the
// descriptions, and per benchmark and temperature the greedy score, the mean sampled score and
// how often a sampled answer says what the greedy one says.
void long_answers_section(const json& base, const json& seva, std::ostringstream& md) {
  if (!base.contains("chair")) return;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.1f words (base) and %.1f words (SeVa)", get(base, {"chair", "overall", "mean_words"}),
                get(seva, {"chair", "overall", "mean_words"}));
  md << "Descriptions are " << buf << " long on average; a hallucinated object is a colour-and-shape the image "
     << "does not hold (`world/chair/objects.txt`).\n\n";
  const auto temps = sampled_temperatures(base);
  if (temps.empty()) return;
  md << "## Robustness under sampling\n\nEach benchmark's first questions answered " << "several times at each "
     << "temperature: the greedy score on them, the mean score of the sampled answers, and the share of sampled "
     << "answers that say what the greedy answer says (for descriptions: name the same objects).\n\n"
     << "| benchmark | T | metric | base greedy | base sampled | base agreement | SeVa greedy | SeVa sampled | "
        "SeVa agreement |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& t : temps)
    for (const auto& [b, m] : sampled_benchmarks()) {
      const std::string name = b + "@T=" + t;
      if (!base.contains(name)) continue;
      auto cell = [&](const json& j, const std::string& key) {
        return pct(j.contains(name) ? get(j[name], {"overall", key.c_str()}) : NAN);
      };
      md << "| " << b << " | " << t << " | " << m << " | " << cell(base, "greedy_" + m) << " | " << cell(base, m)
         << " | " << cell(base, "agreement") << " | " << cell(seva, "greedy_" + m) << " | " << cell(seva, m) << " | "
         << cell(seva, "agreement") << " |\n";
    }
  md << "\n";
}

double get_path(const json& j, const std::vector<const char*>& path) {
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return NAN;
    cur = &(*cur)[k];
  }
  return cur->is_number() ? cur->get<double>() : NAN;
}

void write_charts_for_run(const std::string& run_dir, const std::string& rel, std::ostringstream& md) {
  auto rows = read_rows(io::join_path(io::join_path(io::join_path(run_dir, rel), "train"), "metrics.jsonl"));
  if (rows.empty()) return;
  auto series = [&](const std::string& key, const std::string& name) {
    Series s{name, {}, {}};
    for (const auto& r : rows)
      if (r.contains(key) && r[key].is_number()) {
        s.x.push_back(r.value("step", 0.0));
        s.y.push_back(r[key].get<double>());
      }
    return s;
  };
  io::make_dir(io::join_path(run_dir, "charts"));
  struct Chart {
    std::string file, title;
    std::vector<Series> s;
  };
  std::vector<Chart> charts = {
      {"dpo_loss.svg", "DPO loss", {series("loss", "loss")}},
      {"dpo_margin.svg", "reward margin (chosen − rejected)", {series("rewards/margins", "margin")}},
      {"dpo_accuracy.svg", "reward accuracy", {series("rewards/accuracies", "accuracy")}},
  };
  md << "### Training curves\n\n";
  for (const auto& c : charts) {
    if (c.s[0].x.empty()) continue;
    io::write_file_atomic(io::join_path(io::join_path(run_dir, "charts"), c.file), line_chart_svg(c.title, "step", c.s));
    md << "![" << c.title << "](charts/" << c.file << ") ";
  }
  md << "\n\n";
}

// The grounding gate's paragraph: how much the base's VQA answers and accuracy change when every
// image is swapped for another (summary["grounding"]).
void grounding_section(const ReportInput& in, const json& base, json& summary, std::ostringstream& md) {
  const json swapped = load_metrics(in.run_dir, "eval-base-swapped");
  const std::string a_true = io::join_path(in.run_dir, "eval-base/vqa/answers.jsonl");
  const std::string a_swap = io::join_path(in.run_dir, "eval-base-swapped/vqa/answers.jsonl");
  if (!io::file_exists(a_true) || !io::file_exists(a_swap)) return;
  auto t = eval::read_answers(a_true, true), w = eval::read_answers(a_swap, true);
  int64_t both = 0, changed = 0;
  for (const auto& [k, v] : t) {
    auto it = w.find(k);
    if (it == w.end()) continue;
    ++both;
    changed += eval::vqa_normalize(v) != eval::vqa_normalize(it->second);
  }
  const double acc = get(base, {"vqa", "overall", "accuracy"}), acc_sw = get(swapped, {"vqa", "overall", "accuracy"});
  const double frac = both > 0 ? static_cast<double>(changed) / both : NAN;
  summary["grounding"] = {{"vqa_accuracy", acc}, {"vqa_accuracy_swapped_images", acc_sw}, {"answers_changed", frac},
                          {"questions", both}};
  md << "**Grounding gate.** With every VQA image swapped for another, the base's VQA accuracy goes from " << pct(acc)
     << "% to " << pct(acc_sw) << "% and " << pct(frac) << "% of its answers change"
     << (frac > 0.3 && acc - acc_sw > 0.1 ? " (it looks at the image)." : " — **it barely looks at the image.**")
     << "\n\n";
}

// The base alone (--base-only): its headline metrics and families.
void base_section(const json& base, const json& base_fam, std::ostringstream& md) {
  md << "## The base\n\n| metric | base |\n|---|---|\n";
  for (const auto& [label, path] : headline()) md << "| " << label << " | " << pct(get_path(base, path)) << " |\n";
  md << "\n| family | accuracy |\n|---|---|\n";
  for (const auto& [fam, v] : base_fam.items()) md << "| " << fam << " | " << pct(v.get<double>()) << " |\n";
  md << "\n";
}

// One run's pairs: how many questions kept a pair, how often the chosen and the rejected answer
// were right, per family, with a few examples (summary["pairs"]).
void pairs_section(const ReportInput& in, const json& run, json& summary, std::ostringstream& md) {
  const std::string rel = run.value("dir", "seva");
  PairStats st = pair_stats(in.run_dir, in.world, rel);
  const int64_t questions = run.value("questions", int64_t{0});
  json pairs = {{"questions", questions},
                {"pairs", st.pairs},
                {"kept_fraction", questions > 0 ? static_cast<double>(st.pairs) / questions : 0.0},
                {"chosen_right", st.labelled > 0 ? static_cast<double>(st.chosen_right) / st.labelled : 0.0},
                {"rejected_right", st.labelled > 0 ? static_cast<double>(st.rejected_right) / st.labelled : 0.0}};
  json per_family = json::object();
  for (const auto& [fam, n] : st.questions_per_family)
    per_family[fam] = {{"questions", n}, {"pairs", st.per_family.count(fam) ? st.per_family.at(fam) : 0}};
  pairs["per_family"] = per_family;
  summary["pairs"] = pairs;
  md << "## Pairs\n\n" << st.pairs << " of " << questions << " questions kept (" << pct(pairs["kept_fraction"].get<double>())
     << "%): the answers on the original and the augmented image (`" << run["settings"].value("aug", "")
     << "`) differed. Against the world's true answers, the chosen (original-image) answer was right in "
     << pct(pairs["chosen_right"].get<double>()) << "% of kept pairs, the rejected one in "
     << pct(pairs["rejected_right"].get<double>()) << "%.\n\n| family | questions | kept | kept % |\n|---|---|---|---|\n";
  for (const auto& [fam, v] : per_family.items()) {
    int64_t q = v["questions"].get<int64_t>(), p = v["pairs"].get<int64_t>();
    md << "| " << fam << " | " << q << " | " << p << " | " << pct(q > 0 ? static_cast<double>(p) / q : NAN) << " |\n";
  }
  md << "\n### Example pairs\n\n| image | question | chosen | rejected | truth |\n|---|---|---|---|---|\n";
  for (const auto& e : st.examples) {
    std::string img = "world/images/" + e.value("image", "");
    md << "| ![](" << img << ") | " << eval::markdown_cell(e.value("question", "")) << " | "
       << eval::markdown_cell(e.value("chosen", "")) << " | " << eval::markdown_cell(e.value("rejected", "")) << " | "
       << eval::markdown_cell(e.value("truth", "")) << " |\n";
  }
  md << "\n";
}

// One SeVa run against the base: the headline metrics, the families (with their chart), the
// pairs and the training curves.
void seva_section(const ReportInput& in, const json& base, const json& base_fam, json& summary, std::ostringstream& md) {
  const json& run = in.runs[0];
  const std::string rel = run.value("dir", "seva");
  const json seva = load_metrics(in.run_dir, rel + "/eval");
  const json seva_fam = family_accuracy(seva);
  summary["seva"] = seva;
  summary["seva_families"] = seva_fam;

  md << "## Base vs SeVa\n\n| metric | base | SeVa | Δ |\n|---|---|---|---|\n";
  for (const auto& [label, path] : headline()) {
    double b = get_path(base, path), s = get_path(seva, path);
    if (!std::isfinite(b) && !std::isfinite(s)) continue;
    md << "| " << label << " | " << pct(b) << " | " << pct(s) << " | " << signed_pct(s - b) << " |\n";
  }
  md << "\nRates in percent, Δ in points. Full tables: `eval-base/report.md`, `" << rel << "/eval/report.md`.\n\n";
  long_answers_section(base, seva, md);

  md << "## Per question family (accuracy)\n\n| family | base | SeVa | Δ |\n|---|---|---|---|\n";
  std::vector<eval::BarGroup> groups;
  for (const auto& [fam, v] : base_fam.items()) {
    double b = v.get<double>(), s = seva_fam.contains(fam) ? seva_fam[fam].get<double>() : NAN;
    md << "| " << fam << " | " << pct(b) << " | " << pct(s) << " | " << signed_pct(s - b) << " |\n";
    groups.push_back({fam, {b, s}});
  }
  io::make_dir(io::join_path(in.run_dir, "charts"));
  io::write_file_atomic(io::join_path(in.run_dir, "charts/families.svg"),
                        eval::bar_chart_svg("accuracy per question family", {"base", "SeVa"}, groups));
  md << "\n`exist` is POPE accuracy, `choice` MMBench (first round) accuracy, `overall` the mean of the families.\n\n"
     << "![families](charts/families.svg)\n\n";
  pairs_section(in, run, summary, md);
  write_charts_for_run(in.run_dir, rel, md);
}

// A study run's numbers for the table: its metrics, families, pairs and final reward margin.
json study_row(const ReportInput& in, const json& run) {
  json m = load_metrics(in.run_dir, run.value("dir", "") + "/eval");
  PairStats st = pair_stats(in.run_dir, in.world, run.value("dir", ""));
  json row = {{"metrics", m}, {"families", family_accuracy(m)}, {"pairs", st.pairs},
              {"questions", run.value("questions", int64_t{0})},
              {"chosen_right", st.labelled ? static_cast<double>(st.chosen_right) / st.labelled : NAN},
              {"margin", NAN}};
  auto rows = read_rows(io::join_path(io::join_path(io::join_path(in.run_dir, run.value("dir", "")), "train"), "metrics.jsonl"));
  if (!rows.empty() && rows.back().contains("rewards/margins")) row["margin"] = rows.back()["rewards/margins"];
  return row;
}

// One setting's line of the study table, over its seeds' rows; returns its summary entry and adds
// its bars to `groups`.
json study_setting_line(const std::string& s, const std::vector<json>& rows, const json& base, const json& base_fam,
                        const std::vector<std::string>& fams, std::vector<eval::BarGroup>& groups, std::ostringstream& md) {
  std::vector<double> kept, right, margin, f1, mmb, chair_i, recall, sampled;
  const auto temps = sampled_temperatures(base);
  const std::string hot = temps.empty() ? "" : temps.back();  // the highest temperature
  std::map<std::string, std::vector<double>> fam_d;
  for (const auto& r : rows) {
    kept.push_back(r["questions"].get<double>() > 0 ? r["pairs"].get<double>() / r["questions"].get<double>() : NAN);
    right.push_back(r["chosen_right"].is_number() ? r["chosen_right"].get<double>() : NAN);
    margin.push_back(r["margin"].is_number() ? r["margin"].get<double>() : NAN);
    f1.push_back(get(r["metrics"], {"pope", "overall", "f1"}) - get(base, {"pope", "overall", "f1"}));
    mmb.push_back(get(r["metrics"], {"mmbench", "overall", "accuracy"}) - get(base, {"mmbench", "overall", "accuracy"}));
    chair_i.push_back(get(r["metrics"], {"chair", "overall", "chair_i"}) - get(base, {"chair", "overall", "chair_i"}));
    recall.push_back(get(r["metrics"], {"chair", "overall", "recall"}) - get(base, {"chair", "overall", "recall"}));
    sampled.push_back(mean_sampled_accuracy(r["metrics"], hot) - mean_sampled_accuracy(base, hot));
    for (const auto& f : fams)
      fam_d[f].push_back(r["families"].contains(f) ? r["families"][f].get<double>() - base_fam[f].get<double>() : NAN);
  }
  MeanStd k = mean_std(kept), cr = mean_std(right), mg = mean_std(margin), df1 = mean_std(f1), dm = mean_std(mmb);
  MeanStd dci = mean_std(chair_i), drc = mean_std(recall), dsa = mean_std(sampled);
  char mbuf[64];
  if (mg.n == 1)
    std::snprintf(mbuf, sizeof mbuf, "%.3f", mg.mean);
  else
    std::snprintf(mbuf, sizeof mbuf, "%.3f ± %.3f", mg.mean, mg.std);
  md << "| " << s << " | " << rows.size() << " | " << pct(k.mean) << " | " << pct(cr.mean) << " | "
     << (mg.n ? mbuf : "–") << " | " << pm(df1) << " | " << pm(dm) << " | " << pm(dci) << " | " << pm(drc) << " | "
     << pm(dsa) << " |";
  json entry = {{"seeds", rows.size()}, {"kept_fraction", k.mean}, {"chosen_right", cr.mean},
                {"final_reward_margin", {{"mean", mg.mean}, {"std", mg.std}}},
                {"pope_f1_delta", {{"mean", df1.mean}, {"std", df1.std}}},
                {"mmbench_accuracy_delta", {{"mean", dm.mean}, {"std", dm.std}}},
                {"chair_i_delta", {{"mean", dci.mean}, {"std", dci.std}}},
                {"chair_recall_delta", {{"mean", drc.mean}, {"std", drc.std}}},
                {"sampled_accuracy_delta", {{"temperature", hot}, {"mean", dsa.mean}, {"std", dsa.std}}}};
  for (const auto& f : fams) {
    MeanStd d = mean_std(fam_d[f]);
    md << " " << pm(d) << " |";
    entry["family_delta"][f] = {{"mean", d.mean}, {"std", d.std}};
  }
  md << "\n";
  groups.push_back({s, {0.5 + df1.mean, 0.5 + dm.mean, 0.5 + mean_std(fam_d["overall"]).mean}});
  return entry;
}

// A study: per setting, the mean ± std over seeds of each run's change against the base, as a
// table and a chart (summary["study"]).
void study_section(const ReportInput& in, const json& base, const json& base_fam, json& summary, std::ostringstream& md) {
  std::vector<std::string> settings;
  std::map<std::string, std::vector<json>> by_setting;
  for (const auto& run : in.runs) {
    std::string s = run.value("setting", "");
    if (!by_setting.count(s)) settings.push_back(s);
    by_setting[s].push_back(study_row(in, run));
  }
  std::vector<std::string> fams;
  for (const auto& [fam, v] : base_fam.items()) fams.push_back(fam);
  md << "## Change against the base, mean ± std over seeds (points)\n\n| setting | seeds | kept % | chosen right % | "
        "final reward margin | POPE F1 | MMBench acc | CHAIR_i | object recall | sampled acc |";
  for (const auto& f : fams) md << " " << f << " |";
  md << "\n|---|---|---|---|---|---|---|---|---|---|";
  for (size_t i = 0; i < fams.size(); ++i) md << "---|";
  md << "\n";
  json study = json::object();
  std::vector<eval::BarGroup> groups;
  for (const auto& s : settings) study[s] = study_setting_line(s, by_setting[s], base, base_fam, fams, groups, md);
  summary["study"] = {{"name", in.study}, {"settings", study}};
  const auto temps = sampled_temperatures(base);
  md << "\nCHAIR_i: hallucinated objects per object mentioned in the descriptions (lower is better); sampled acc: "
     << "the mean accuracy of POPE, MMBench and VQA answers sampled at T = " << (temps.empty() ? "–" : temps.back())
     << ".\n";
  io::make_dir(io::join_path(in.run_dir, "charts"));
  io::write_file_atomic(io::join_path(in.run_dir, "charts/study-" + in.study + ".svg"),
                        eval::bar_chart_svg("change against the base (50 = no change, in points + 50)",
                                            {"POPE F1", "MMBench acc", "overall"}, groups));
  md << "\n![study](charts/study-" << in.study << ".svg)\n\n";
  summary["seva"] = load_metrics(in.run_dir, in.runs[0].value("dir", "") + "/eval");
}

// The phases with their times, then every command they ran.
void phases_section(const ReportInput& in, std::ostringstream& md) {
  md << "## Phases\n\n| phase | time |\n|---|---|\n";
  for (const auto& p : in.phases)
    md << "| " << eval::markdown_cell(p.value("phase", "")) << " | "
       << (p.value("resumed", false) ? "done earlier (" + seconds_text(p.value("seconds", 0.0)) + ")"
                                     : seconds_text(p.value("seconds", 0.0)))
       << " |\n";
  md << "\n";
  md << "## Commands\n\n```sh\n";
  for (const auto& p : in.phases)
    if (p.contains("commands"))
      for (const auto& c : p["commands"]) md << c.get<std::string>() << "\n";
  md << "```\n";
}

}  // namespace

json family_accuracy(const json& metrics) {
  json out = json::object();
  std::vector<double> all;
  if (metrics.contains("vqa"))
    for (const auto& [cat, v] : metrics["vqa"].items()) {
      if (cat == "overall" || !v.contains("accuracy")) continue;
      out[cat] = v["accuracy"];
      all.push_back(v["accuracy"].get<double>());
    }
  double exist = get(metrics, {"pope", "overall", "accuracy"});
  if (std::isfinite(exist) && !out.contains("exist")) {
    out["exist"] = exist;
    all.push_back(exist);
  }
  double choice = get(metrics, {"mmbench", "overall", "accuracy"});
  if (std::isfinite(choice)) {
    out["choice"] = choice;
    all.push_back(choice);
  }
  if (!all.empty()) {
    double s = 0;
    for (double x : all) s += x;
    out["overall"] = s / all.size();
  }
  return out;
}

void write_report(const ReportInput& in) {
  const json base = load_metrics(in.run_dir, "eval-base");
  const json base_fam = family_accuracy(base);
  std::ostringstream md;
  json summary = json::object();
  summary["base"] = base;
  summary["base_families"] = base_fam;

  md << "# SeVa on the synthetic world" << (in.study.empty() ? "" : " — study `" + in.study + "`") << "\n\n"
     << "Base model `" << in.base_model << "`, world seed " << in.seed << (in.quick ? ", **quick** (small) run" : "")
     << ", " << seconds_text(in.seconds) << " in all. Every phase below ran a `seva` command; the commands are listed at"
     << " the end and their logs are in `logs/`.\n\n";
  grounding_section(in, base, summary, md);
  if (in.runs.empty())
    base_section(base, base_fam, md);
  else if (in.study.empty())
    seva_section(in, base, base_fam, summary, md);
  else
    study_section(in, base, base_fam, summary, md);
  phases_section(in, md);

  summary["phases"] = in.phases;
  summary["runs"] = in.runs;
  summary["seconds"] = in.seconds;
  summary["base_model"] = in.base_model;
  const std::string html = report_html(md.str(), in.run_dir, in.study.empty() ? "seva demo" : "seva demo: study " + in.study);
  // Several studies may share one RUN_DIR (and their common runs): report.md is the latest one,
  // report-STUDY.md keeps each.
  std::vector<std::string> names = {""};
  if (!in.study.empty()) names.push_back("-" + in.study);
  for (const auto& n : names) {
    io::write_file_atomic(io::join_path(in.run_dir, "report" + n + ".md"), md.str());
    io::write_file_atomic(io::join_path(in.run_dir, "report" + n + ".html"), html);
    io::write_file_atomic(io::join_path(in.run_dir, "summary" + n + ".json"), summary.dump(2) + "\n");
  }
}

}  // namespace seva::demo
