#include "eval/sampling.h"

#include "eval/answers.h"
#include "eval/choice.h"
#include "eval/vqa_normalize.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace seva::eval {

namespace {

// %g keeps 0.5 as "0.5" and 1 as "1": the names read as the flag was given.
std::string temperature_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", t);
  return buf;
}

// The metrics each benchmark's sampling entry reports, from its overall scores.
std::vector<std::string> headline_metrics(const std::string& bench) {
  if (bench == "pope") return {"accuracy", "f1"};
  if (bench == "chair") return {"chair_s", "chair_i", "recall", "mean_words"};
  return {"accuracy"};
}

double overall_value(const ordered_json& scores, const std::string& metric) {
  const auto& o = scores["overall"];
  return o.contains(metric) && o[metric].is_number() ? o[metric].get<double>() : 0.0;
}

}  // namespace

std::string samples_file(double temperature) { return "samples_T" + temperature_text(temperature) + ".jsonl"; }

std::string sampling_metrics_name(const std::string& bench, double temperature) {
  return bench + "@T=" + temperature_text(temperature);
}

AnswerMeaning::AnswerMeaning(const Benchmark& b) : b_(b) {
  for (const auto& q : b.mmbench)
    for (int r = 0; r < static_cast<int>(q.options.size()); ++r) rounds_[answer_key(q.key, r)] = {&q, r};
}

std::string AnswerMeaning::operator()(const std::string& key, const std::string& text) const {
  if (b_.name == "pope") return pope_answer_is_yes(text) ? "yes" : "no";
  if (b_.name == "vqa") return vqa_normalize(text);
  if (b_.name == "mmbench") {
    auto it = rounds_.find(key);
    if (it == rounds_.end()) return text;
    const int pick = extract_choice(text, mmbench_round_options(*it->second.first, it->second.second));
    return pick < 0 ? "" : std::string(1, static_cast<char>('A' + pick));
  }
  // CHAIR: the objects mentioned, as a sorted set.
  auto nodes = chair_mentions(text, b_.chair->vocabulary, *b_.chair->lemmatizer).nodes;
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  std::string out;
  for (const auto& n : nodes) out += n + "|";
  return out;
}

ordered_json score_sampling(const Benchmark& b, const std::map<std::string, std::string>& greedy,
                            const std::vector<std::map<std::string, std::string>>& samples,
                            const std::set<std::string>& missing_images) {
  const auto keys = b.answer_keys(true);
  std::map<std::string, std::string> greedy_here;
  for (const auto& [k, v] : greedy)
    if (keys.count(k)) greedy_here.emplace(k, v);
  const ordered_json greedy_scores = b.score(greedy_here, missing_images);
  const AnswerMeaning meaning(b);
  std::map<std::string, std::string> greedy_meaning;  // once per question, not once per sample
  for (const auto& [k, text] : greedy_here) greedy_meaning.emplace(k, meaning(k, text));
  ordered_json o = ordered_json::object();
  const auto metrics = headline_metrics(b.name);
  std::vector<std::vector<double>> per_set(metrics.size());
  int64_t compared = 0, agreed = 0, sampled = 0;
  for (const auto& set : samples) {
    const ordered_json scores = b.score(set, missing_images);
    for (size_t m = 0; m < metrics.size(); ++m) per_set[m].push_back(overall_value(scores, metrics[m]));
    for (const auto& [k, text] : set) {
      if (!keys.count(k)) continue;
      ++sampled;
      auto g = greedy_meaning.find(k);
      if (g == greedy_meaning.end()) continue;
      ++compared;
      agreed += meaning(k, text) == g->second;
    }
  }
  for (size_t m = 0; m < metrics.size(); ++m) {
    const auto& v = per_set[m];
    const double mean = v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    o["greedy_" + metrics[m]] = overall_value(greedy_scores, metrics[m]);
    o[metrics[m]] = mean;
    o[metrics[m] + "_min"] = v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
    o[metrics[m] + "_max"] = v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  }
  o["agreement"] = compared ? static_cast<double>(agreed) / static_cast<double>(compared) : 0.0;
  o["samples"] = static_cast<int64_t>(samples.size());
  o["sampled_answers"] = sampled;
  for (const char* c : {"questions", "scored", "missing_images", "unanswered"}) o[c] = greedy_scores["overall"][c];
  ordered_json out;
  out["overall"] = o;
  return out;
}

}  // namespace seva::eval
