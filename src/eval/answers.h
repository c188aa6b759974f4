// Answer files as LLaVA's evaluation scripts write them (JSONL rows with `question_id`, `text`,
// and for MMBench `round_id`), read in any order, keyed by question id (and round).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace seva::eval {

// The key a question id is matched by: a string as it is, an integer in decimal ("7" and 7 are the
// same question). Anything else (null, float, object) throws `what` + ": question_id must be ...".
std::string question_key(const nlohmann::json& id, const std::string& what);

// row[field] as a string; otherwise throws "<where>: <kind> row needs a string \"<field>\"".
std::string required_string(const nlohmann::json& row, const char* field, const std::string& where, const char* kind);

// (question, round) → key; round 0 gives the plain question key.
std::string answer_key(const std::string& question_key, int round);

// One answers.jsonl row as read: `question_id`, a string `text`, and the optional `round_id`
// (MMBench), `sample` (the index of a sampled answer) and `tokens` (how many the model generated).
struct AnswerRow {
  std::string key;     // answer_key(question_id, round_id)
  int sample = -1;     // -1: not a sampled answer
  std::string text;
  int64_t tokens = -1; // -1: not recorded
  // key, or key + "@" + sample for a sampled answer: what identifies the row in its file.
  std::string row_key() const { return sample < 0 ? key : key + "@" + std::to_string(sample); }
};
// Parses one row; a malformed one throws "<where>: ...".
AnswerRow parse_answer_row(const nlohmann::json& row, const std::string& where);
// Calls fn for each row of an answers file (errors "FILE:LINE: ...").
void for_each_answer(const std::string& path, bool tolerate_torn_tail, const std::function<void(const AnswerRow&)>& fn);

// Answer texts by answer_key. Each row needs `question_id` and a string `text`; `round_id`
// (an integer, default 0) is read for MMBench-style files. A malformed row throws "FILE:LINE: ...".
// A repeated key keeps the last row (a resumed run never writes one twice). With
// `tolerate_torn_tail` an unterminated, unparsable last line (a killed writer) is skipped.
std::map<std::string, std::string> read_answers(const std::string& path, bool tolerate_torn_tail = false);
// The sampled answers of a samples file: element k holds sample k's texts by answer_key.
std::vector<std::map<std::string, std::string>> read_sampled_answers(const std::string& path,
                                                                     bool tolerate_torn_tail = false);


}  // namespace seva::eval
