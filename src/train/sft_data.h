// `seva sft`'s data file: LLaVA-665k-form conversations, read from a JSON array or JSONL.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace seva::train {

// One LLaVA-665k entry: {"id", "image", "conversations": [{"from": "human", "value": "<image>\nQ"},
// {"from": "gpt", "value": "A"}, ...]}.
struct SftExample {
  std::string id;
  std::string image;                                    // relative to --images
  std::vector<std::pair<std::string, std::string>> turns;  // (question, answer) rounds
  std::string source;                                   // "FILE: entry N", for messages
};

// Reads the JSON array (or JSONL) of entries. Entries without an image are skipped (counted in
// *skipped when given). A malformed entry throws naming the file and the entry.
std::vector<SftExample> read_sft_data(const std::string& path, int64_t* skipped = nullptr);

}  // namespace seva::train
