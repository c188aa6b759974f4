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

std::map<std::string, std::string> read_answers(const std::string& path, bool tolerate_torn_tail) {
  std::map<std::string, std::string> out;
  io::for_each_jsonl(
      path,
      [&](const nlohmann::json& row, size_t line) {
        std::string where = path + ":" + std::to_string(line);
        if (!row.is_object()) throw std::runtime_error(where + ": an answer row must be a JSON object");
        std::string key = question_key(row.contains("question_id") ? row["question_id"] : nlohmann::json(), where);
        if (!row.contains("text") || !row["text"].is_string())
          throw std::runtime_error(where + ": answer row needs a string \"text\"");
        int round = 0;
        if (row.contains("round_id") && !row["round_id"].is_null()) {
          if (!row["round_id"].is_number_integer() || row["round_id"].get<int64_t>() < 0)
            throw std::runtime_error(where + ": round_id must be a non-negative integer");
          round = row["round_id"].get<int>();
        }
        out[answer_key(key, round)] = row["text"].get<std::string>();
      },
      tolerate_torn_tail);
  return out;
}

}  // namespace seva::eval
