// Open-ended VQA (TextVQA/VQAv2 style): question files and the soft accuracy of the official
// evaluator LLaVA uses (m4c's TextVQAAccuracyEvaluator), exact match with a single reference.
#pragma once
#include "eval/report.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

struct VqaQuestion {
  nlohmann::json question_id;
  std::string key;
  std::string image;
  std::string text;
  std::vector<std::string> answers;  // the reference answers (usually 10, or 1)
  std::string category;              // "" when the file has none
};

// Reads JSONL rows with `question_id`, `image`, `text`, `answers` (strings, or VQAv2-style
// objects {"answer": ...}) and an optional `category`. Errors name file and line.
std::vector<VqaQuestion> read_vqa_questions(const std::string& path);

// The score of one prediction. Prediction and references normalised (vqa_normalize); with one
// reference: 1 if equal else 0; with n ≥ 2: the mean over the n ways of leaving one reference
// out of min(1, matches among the other n−1 / 3). With 10 references: 0, 0.3, 0.6, 0.9 or 1 for
// 0, 1, 2, 3 or ≥ 4 matches.
double vqa_accuracy(const std::string& prediction, const std::vector<std::string>& references);

// Per category and overall: accuracy and the coverage counts.
ordered_json score_vqa(const std::vector<VqaQuestion>& questions, const std::map<std::string, std::string>& answers,
                       const std::set<std::string>& missing_images = {});

}  // namespace seva::eval
