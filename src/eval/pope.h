// POPE (object hallucination): question files, the official yes/no word rule and its metrics.
#pragma once
#include "eval/report.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

struct PopeQuestion {
  nlohmann::json question_id;  // as the file has it (written back unchanged in answers)
  std::string key;             // question_key(question_id)
  std::string image;           // relative to the images directory
  std::string text;            // the prompt text, as given
  std::string category;        // random, popular, adversarial ("" when the file has none)
  bool label_yes = false;      // label "yes" / "no"
};

// Reads a POPE JSONL file (`question_id`, `image`, `text`, `label`, `category`). A missing field,
// a label other than yes/no or a repeated question_id throws "FILE:LINE: ...".
std::vector<PopeQuestion> read_pope_questions(const std::string& path);

// The official rule (LLaVA's eval_pope.py): keep the text before the first '.', drop commas,
// split on single spaces; "no" when a word is exactly `No`, `not` or `no`, else "yes".
// So "Not at all." is yes, "No, there is not." and "Yes, but not really." are no.
bool pope_answer_is_yes(const std::string& answer);

struct PopeCounts {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;  // positive = "yes"
  void add(bool label_yes, bool pred_yes);
  int64_t total() const { return tp + fp + tn + fn; }
};

struct PopeMetrics {
  double accuracy = 0, precision = 0, recall = 0, f1 = 0, yes_ratio = 0;  // 0 where undefined
};
PopeMetrics pope_metrics(const PopeCounts& c);

// Scores answers (answer_key → text) against the questions: per category and overall, the
// metrics, tp/fp/tn/fn and the coverage counts. Questions in `missing_images` are counted there.
ordered_json score_pope(const std::vector<PopeQuestion>& questions, const std::map<std::string, std::string>& answers,
                        const std::set<std::string>& missing_images = {});

}  // namespace seva::eval
