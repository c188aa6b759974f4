#include "eval/pope.h"

#include "eval/answers.h"
#include "io/jsonl.h"

#include <stdexcept>

namespace seva::eval {

std::vector<PopeQuestion> read_pope_questions(const std::string& path) {
  std::vector<PopeQuestion> out;
  std::set<std::string> seen;
  io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) {
    std::string where = path + ":" + std::to_string(line);
    if (!row.is_object()) throw std::runtime_error(where + ": a POPE row must be a JSON object");
    PopeQuestion q;
    q.question_id = row.contains("question_id") ? row["question_id"] : nlohmann::json();
    q.key = question_key(q.question_id, where);
    q.image = required_string(row, "image", where, "POPE");
    q.text = required_string(row, "text", where, "POPE");
    std::string label = required_string(row, "label", where, "POPE");
    if (label != "yes" && label != "no")
      throw std::runtime_error(where + ": POPE label must be \"yes\" or \"no\", not \"" + label + "\"");
    q.label_yes = label == "yes";
    if (row.contains("category") && !row["category"].is_null()) q.category = required_string(row, "category", where, "POPE");
    if (!seen.insert(q.key).second) throw std::runtime_error(where + ": repeated question_id " + q.key);
    out.push_back(std::move(q));
  });
  return out;
}

bool pope_answer_is_yes(const std::string& answer) {
  // text.split('.')[0]; text.replace(',', ''); text.split(' ')
  std::string text = answer.substr(0, answer.find('.'));
  std::string no_commas;
  for (char c : text)
    if (c != ',') no_commas += c;
  size_t pos = 0;
  while (true) {
    size_t end = no_commas.find(' ', pos);
    std::string word = no_commas.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (word == "No" || word == "not" || word == "no") return false;
    if (end == std::string::npos) return true;
    pos = end + 1;
  }
}

void PopeCounts::add(bool label_yes, bool pred_yes) {
  if (pred_yes)
    ++(label_yes ? tp : fp);
  else
    ++(label_yes ? fn : tn);
}

PopeMetrics pope_metrics(const PopeCounts& c) {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  PopeMetrics m;
  m.accuracy = ratio(c.tp + c.tn, c.total());
  m.precision = ratio(c.tp, c.tp + c.fp);
  m.recall = ratio(c.tp, c.tp + c.fn);
  m.f1 = ratio(2 * m.precision * m.recall, m.precision + m.recall);
  m.yes_ratio = ratio(c.tp + c.fp, c.total());
  return m;
}

ordered_json score_pope(const std::vector<PopeQuestion>& questions, const std::map<std::string, std::string>& answers,
                        const std::set<std::string>& missing_images) {
  struct Acc {
    PopeCounts counts;
    Coverage coverage;
  };
  PerCategory<Acc> acc;
  for (const auto& q : questions) {
    auto it = answers.find(q.key);
    bool missing = missing_images.count(q.key) > 0;
    acc.update(q.category, [&](Acc& a) {
      ++a.coverage.questions;
      if (missing)
        ++a.coverage.missing_images;
      else if (it == answers.end())
        ++a.coverage.unanswered;
      else {
        ++a.coverage.scored;
        a.counts.add(q.label_yes, pope_answer_is_yes(it->second));
      }
    });
  }
  return acc.to_json([](const Acc& a) {
    PopeMetrics m = pope_metrics(a.counts);
    ordered_json j = {{"accuracy", m.accuracy}, {"precision", m.precision}, {"recall", m.recall},
                      {"f1", m.f1},           {"yes_ratio", m.yes_ratio}, {"tp", a.counts.tp},
                      {"fp", a.counts.fp},     {"tn", a.counts.tn},        {"fn", a.counts.fn}};
    a.coverage.add_to(j);
    return j;
  });
}

}  // namespace seva::eval
