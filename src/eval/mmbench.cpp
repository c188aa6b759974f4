#include "eval/mmbench.h"

#include "eval/answers.h"
#include "eval/choice.h"
#include "eval/tsv.h"
#include "io/files.h"

#include <stdexcept>

namespace seva::eval {

const char* const kMmbenchInstruction = "Answer with the option's letter from the given choices directly.";

namespace {

// pandas.read_csv's default na_values.
bool is_na(const std::string& s) {
  static const std::set<std::string> na = {"",     "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
                                           "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",     "NA",       "NULL",
                                           "NaN",  "None",  "n/a",      "nan",  "null"};
  return na.count(s) > 0;
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::vector<MmbenchQuestion> parse_mmbench(const std::string& text, const std::string& name) {
  TsvTable t = parse_tsv(text, name);
  auto col = [&](const char* c, bool required) {
    int i = t.column(c);
    if (i < 0 && required) throw std::runtime_error(name + ": MMBench TSV has no \"" + c + "\" column");
    return i;
  };
  const int c_index = col("index", true), c_question = col("question", true), c_image = col("image", true);
  const int c_hint = col("hint", false), c_answer = col("answer", false), c_category = col("category", false),
            c_l2 = col("l2-category", false);
  const int c_opts[4] = {col("A", true), col("B", true), col("C", false), col("D", false)};
  auto cell = [](const TsvRow& r, int c) { return c < 0 ? std::string() : r.cells[c]; };

  std::vector<MmbenchQuestion> out;
  std::map<std::string, size_t> by_index;
  for (const auto& r : t.rows) {
    std::string where = name + ":" + std::to_string(r.line);
    MmbenchQuestion q;
    q.line = r.line;
    q.key = cell(r, c_index);
    if (q.key.empty()) throw std::runtime_error(where + ": empty index");
    q.question_id = all_digits(q.key) ? nlohmann::json(std::stoll(q.key)) : nlohmann::json(q.key);
    q.question = cell(r, c_question);
    std::string hint = cell(r, c_hint);
    if (!is_na(hint)) q.hint = hint;
    for (int c : c_opts) {
      std::string o = cell(r, c);
      if (is_na(o)) break;  // LLaVA's get_options stops at the first absent option
      q.options.push_back(o);
    }
    if (q.options.size() < 2) throw std::runtime_error(where + ": MMBench question has fewer than two options");
    std::string answer = cell(r, c_answer);
    if (!is_na(answer)) {
      if (answer.size() != 1 || answer[0] < 'A' || answer[0] >= 'A' + static_cast<int>(q.options.size()))
        throw std::runtime_error(where + ": answer \"" + answer + "\" is not one of the letters of the " +
                                 std::to_string(q.options.size()) + " options");
      q.answer = answer[0] - 'A';
    }
    q.category = is_na(cell(r, c_category)) ? "" : cell(r, c_category);
    q.l2_category = is_na(cell(r, c_l2)) ? "" : cell(r, c_l2);
    q.image_base64 = cell(r, c_image);
    if (!by_index.emplace(q.key, out.size()).second) throw std::runtime_error(where + ": repeated index " + q.key);
    out.push_back(std::move(q));
  }
  // MMBench v1.1 stores some images once: a short cell (≤ 64 characters) holds the index of the row
  // that has the image (VLMEvalKit resolves it the same way).
  for (auto& q : out) {
    if (q.image_base64.size() > 64) continue;
    auto it = by_index.find(q.image_base64);
    if (it != by_index.end() && out[it->second].image_base64.size() > 64) q.image_base64 = out[it->second].image_base64;
  }
  return out;
}

std::vector<MmbenchQuestion> read_mmbench(const std::string& path) { return parse_mmbench(io::read_file(path), path); }

std::vector<std::string> mmbench_round_options(const MmbenchQuestion& q, int round) {
  const size_t n = q.options.size();
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(q.options[(i + static_cast<size_t>(round)) % n]);
  return out;
}

int mmbench_round_answer(const MmbenchQuestion& q, int round) {
  if (q.answer < 0) return -1;
  const int n = static_cast<int>(q.options.size());
  return ((q.answer - round) % n + n) % n;
}

std::string mmbench_prompt(const MmbenchQuestion& q, int round) {
  std::string text = q.hint.empty() ? q.question : q.hint + "\n" + q.question;
  auto options = mmbench_round_options(q, round);
  for (size_t i = 0; i < options.size(); ++i) text += "\n" + std::string(1, static_cast<char>('A' + i)) + ". " + options[i];
  return "<image>\n" + text + "\n" + kMmbenchInstruction;
}

int mmbench_rounds(const MmbenchQuestion& q, bool circular) { return circular ? static_cast<int>(q.options.size()) : 1; }

ordered_json score_mmbench(const std::vector<MmbenchQuestion>& questions,
                           const std::map<std::string, std::string>& answers,
                           const std::set<std::string>& missing_images) {
  struct Acc {
    int64_t correct = 0, circular_correct = 0, circular_scored = 0, unparsed = 0, unlabelled = 0;
    Coverage coverage;
  };
  PerCategory<Acc> acc;
  for (const auto& q : questions) {
    const bool missing = missing_images.count(q.key) > 0;
    const bool answered = answers.count(answer_key(q.key, 0)) > 0;
    // Every round of this question that has an answer: right or wrong, parsed or not.
    int rounds_answered = 0, rounds_right = 0, unparsed = 0;
    bool first_right = false;
    const int n = static_cast<int>(q.options.size());
    for (int r = 0; r < n && !missing && q.answer >= 0; ++r) {
      auto it = answers.find(answer_key(q.key, r));
      if (it == answers.end()) continue;
      ++rounds_answered;
      int pick = extract_choice(it->second, mmbench_round_options(q, r));
      if (pick < 0) ++unparsed;
      bool right = pick == mmbench_round_answer(q, r);
      rounds_right += right;
      if (r == 0) first_right = right;
    }
    acc.update(q.category, [&](Acc& a) {
      ++a.coverage.questions;
      if (missing) {
        ++a.coverage.missing_images;
      } else if (!answered) {
        ++a.coverage.unanswered;
      } else if (q.answer < 0) {
        ++a.unlabelled;
      } else {
        ++a.coverage.scored;
        a.correct += first_right;
        a.unparsed += unparsed;
        if (rounds_answered == n) {
          ++a.circular_scored;
          a.circular_correct += rounds_right == n;
        }
      }
    });
  }
  return acc.to_json([](const Acc& a) {
    auto ratio = [](int64_t x, int64_t y) { return y ? static_cast<double>(x) / static_cast<double>(y) : 0.0; };
    ordered_json j = {{"accuracy", ratio(a.correct, a.coverage.scored)},
                      {"circular_accuracy", ratio(a.circular_correct, a.circular_scored)},
                      {"circular_scored", a.circular_scored},
                      {"unparsed", a.unparsed},
                      {"unlabelled", a.unlabelled}};
    a.coverage.add_to(j);
    return j;
  });
}

}  // namespace seva::eval
