#include "eval/vqa.h"

#include "eval/answers.h"
#include "eval/vqa_normalize.h"
#include "io/jsonl.h"

#include <algorithm>
#include <stdexcept>

namespace seva::eval {

std::vector<VqaQuestion> read_vqa_questions(const std::string& path) {
  std::vector<VqaQuestion> out;
  std::set<std::string> seen;
  io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) {
    std::string where = path + ":" + std::to_string(line);
    if (!row.is_object()) throw std::runtime_error(where + ": a VQA row must be a JSON object");
    VqaQuestion q;
    q.question_id = row.contains("question_id") ? row["question_id"] : nlohmann::json();
    q.key = question_key(q.question_id, where);
    q.image = required_string(row, "image", where, "VQA");
    q.text = required_string(row, "text", where, "VQA");
    if (!row.contains("answers") || !row["answers"].is_array() || row["answers"].empty())
      throw std::runtime_error(where + ": VQA row needs a non-empty \"answers\" list");
    for (const auto& a : row["answers"]) {
      if (a.is_string())
        q.answers.push_back(a.get<std::string>());
      else if (a.is_object() && a.contains("answer") && a["answer"].is_string())
        q.answers.push_back(a["answer"].get<std::string>());
      else
        throw std::runtime_error(where + ": each answer must be a string or {\"answer\": string}, not " + a.dump());
    }
    if (row.contains("category") && !row["category"].is_null()) q.category = required_string(row, "category", where, "VQA");
    if (!seen.insert(q.key).second) throw std::runtime_error(where + ": repeated question_id " + q.key);
    out.push_back(std::move(q));
  });
  return out;
}

double vqa_accuracy(const std::string& prediction, const std::vector<std::string>& references) {
  if (references.empty()) return 0.0;
  const std::string pred = vqa_normalize(prediction);
  std::vector<std::string> refs;
  for (const auto& r : references) refs.push_back(vqa_normalize(r));
  if (refs.size() == 1) return pred == refs[0] ? 1.0 : 0.0;
  const auto matches = std::count(refs.begin(), refs.end(), pred);
  double sum = 0;
  for (const auto& left_out : refs) {
    auto others = matches - (left_out == pred ? 1 : 0);
    sum += std::min(1.0, static_cast<double>(others) / 3.0);
  }
  return sum / static_cast<double>(refs.size());
}

ordered_json score_vqa(const std::vector<VqaQuestion>& questions, const std::map<std::string, std::string>& answers,
                       const std::set<std::string>& missing_images) {
  struct Acc {
    double sum = 0;
    Coverage coverage;
  };
  PerCategory<Acc> acc;
  for (const auto& q : questions) {
    auto it = answers.find(q.key);
    bool missing = missing_images.count(q.key) > 0;
    double score = !missing && it != answers.end() ? vqa_accuracy(it->second, q.answers) : 0.0;
    acc.update(q.category, [&](Acc& a) {
      ++a.coverage.questions;
      if (missing)
        ++a.coverage.missing_images;
      else if (it == answers.end())
        ++a.coverage.unanswered;
      else {
        ++a.coverage.scored;
        a.sum += score;
      }
    });
  }
  return acc.to_json([](const Acc& a) {
    ordered_json j = {{"accuracy", a.coverage.scored ? a.sum / static_cast<double>(a.coverage.scored) : 0.0}};
    a.coverage.add_to(j);
    return j;
  });
}

}  // namespace seva::eval
