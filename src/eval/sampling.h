// Robustness under sampling (the SeVa paper's Table 5, scored without a judge): a benchmark's
// questions answered K times at a temperature, each set of samples scored as the benchmark scores
// its answers, and each sampled answer compared with the greedy answer to the same question.
#pragma once
#include "eval/runner.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

// "samples_T0.5.jsonl": where a benchmark's samples at this temperature are written.
std::string samples_file(double temperature);
// "pope@T=0.5": the metrics.json entry of a benchmark's samples at this temperature.
std::string sampling_metrics_name(const std::string& bench, double temperature);

// What an answer says, as its benchmark reads it: POPE's yes/no, the MMBench option picked (its
// letter, "" for none), the normalised VQA answer, the set of objects a description mentions.
// Two answers that say the same thing agree.
class AnswerMeaning {
 public:
  explicit AnswerMeaning(const Benchmark& b);
  std::string operator()(const std::string& answer_key, const std::string& text) const;

 private:
  const Benchmark& b_;
  std::map<std::string, std::pair<const MmbenchQuestion*, int>> rounds_;  // MMBench answer key -> (question, round)
};

// {"overall": {...}} for the questions of `b` (already cut to the sampled ones): for each of the
// benchmark's headline metrics m (POPE accuracy and F1; MMBench and VQA accuracy; CHAIR_s,
// CHAIR_i, recall and the mean length) greedy_m on the greedy answers of these questions, m the
// mean over the K sets of samples, m_min and m_max over the sets; `agreement`, the share of
// sampled answers that say what the greedy answer says; `samples` (K) and the coverage counts.
ordered_json score_sampling(const Benchmark& b, const std::map<std::string, std::string>& greedy,
                            const std::vector<std::map<std::string, std::string>>& samples,
                            const std::set<std::string>& missing_images);

}  // namespace seva::eval
