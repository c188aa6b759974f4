#include "eval/answers.h"

#include "io/jsonl.h"

#include <stdexcept>

namespace seva::eval {

std::string question_key(const nlohmann::json& id, const std::string& what) {
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return std::to_string(id.get<int64_t>());
  if (id.is_number_unsigned()) return std::to_string(id.get<uint64_t>());
  throw std::runtime_error(what + ": question_id must be a string or an integer, not " +
                           (id.is_null() ? std::string("missing") : id.dump()));
}

std::string required_string(const nlohmann::json& row, const char* field, const std::string& where, const char* kind) {
  if (!row.contains(field) || !row[field].is_string())
    throw std::runtime_error(where + ": " + kind + " row needs a string \"" + field + "\"");
  return row[field].get<std::string>();
}

std::string answer_key(const std::string& question_key, int round) {
  return round == 0 ? question_key : question_key + "#" + std::to_string(round);
}

AnswerRow parse_answer_row(const nlohmann::json& row, const std::string& where) {
  if (!row.is_object()) throw std::runtime_error(where + ": an answer row must be a JSON object");
  AnswerRow a;
  const std::string q = question_key(row.contains("question_id") ? row["question_id"] : nlohmann::json(), where);
  a.text = required_string(row, "text", where, "answer");
  // Optional non-negative integer fields; a bounded range so a crafted file cannot overflow them.
  auto optional_index = [&](const char* field, int64_t max) -> int64_t {
    if (!row.contains(field) || row[field].is_null()) return -1;
    const auto& v = row[field];
    if (!(v.is_number_integer() || v.is_number_unsigned()) || v.get<int64_t>() < 0 || v.get<int64_t>() > max)
      throw std::runtime_error(where + ": " + field + " must be an integer from 0 to " + std::to_string(max));
    return v.get<int64_t>();
  };
  const int64_t round = optional_index("round_id", 1 << 20);
  a.key = answer_key(q, round < 0 ? 0 : static_cast<int>(round));
  a.sample = static_cast<int>(optional_index("sample", 1 << 20));
  a.tokens = optional_index("tokens", INT64_C(1) << 40);
  return a;
}

void for_each_answer(const std::string& path, bool tolerate_torn_tail, const std::function<void(const AnswerRow&)>& fn) {
  io::for_each_jsonl(
      path, [&](const nlohmann::json& row, size_t line) { fn(parse_answer_row(row, path + ":" + std::to_string(line))); },
      tolerate_torn_tail);
}

std::map<std::string, std::string> read_answers(const std::string& path, bool tolerate_torn_tail) {
  std::map<std::string, std::string> out;
  for_each_answer(path, tolerate_torn_tail, [&](const AnswerRow& a) {
    if (a.sample < 0) out[a.key] = a.text;
  });
  return out;
}

std::vector<std::map<std::string, std::string>> read_sampled_answers(const std::string& path, bool tolerate_torn_tail) {
  std::vector<std::map<std::string, std::string>> out;
  for_each_answer(path, tolerate_torn_tail, [&](const AnswerRow& a) {
    if (a.sample < 0) return;
    if (static_cast<size_t>(a.sample) >= out.size()) out.resize(static_cast<size_t>(a.sample) + 1);
    out[static_cast<size_t>(a.sample)][a.key] = a.text;
  });
  return out;
}

}  // namespace seva::eval
