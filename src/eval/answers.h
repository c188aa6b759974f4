// Answer files as LLaVA's evaluation scripts write them (JSONL rows with `question_id`, `text`,
// and for MMBench `round_id`), read in any order, keyed by question id (and round).
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace seva::eval {

// The key a question id is matched by: a string as it is, an integer in decimal ("7" and 7 are the
// same question). Anything else (null, float, object) throws `what` + ": question_id must be ...".
std::string question_key(const nlohmann::json& id, const std::string& what);

// row[field] as a string; otherwise throws "<where>: <kind> row needs a string \"<field>\"".
std::string required_string(const nlohmann::json& row, const char* field, const std::string& where, const char* kind);

// (question, round) → key; round 0 gives the plain question key.
std::string answer_key(const std::string& question_key, int round);

// Answer texts by answer_key. Each row needs `question_id` and a string `text`; `round_id`
// (an integer, default 0) is read for MMBench-style files. A malformed row throws "FILE:LINE: ...".
// A repeated key keeps the last row (a resumed run never writes one twice). With
// `tolerate_torn_tail` an unterminated, unparsable last line (a killed writer) is skipped.
std::map<std::string, std::string> read_answers(const std::string& path, bool tolerate_torn_tail = false);

}  // namespace seva::eval
