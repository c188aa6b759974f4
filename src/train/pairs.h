// Preference pairs: the one type `seva pair` writes and `seva train` reads, the pairs file in
// both forms (seva's JSONL and the official SeVa JSON), and tokenisation the way TRL does it.
#pragma once
#include "text/conversation.h"
#include "text/tokenizer.h"
#include "train/logps.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace seva::train {

struct PreferencePair {
  std::string id;
  std::string image;                  // relative to --images
  std::string question;               // the llava_v1 template is applied ...
  std::string prompt;                 // ... unless a raw prompt (with <image>) is given
  std::string chosen;
  std::vector<std::string> rejected;  // one or more (multi-negative)
  std::vector<std::string> augs;      // the view each rejected answer came from (as written by seva pair)
  // The chosen answer's summed log-probability under the model that generated it (seva pair
  // writes it; when present it is the DPO reference for the chosen answer).
  std::optional<double> chosen_ref_logp;
  std::string source;                 // "FILE:LINE", for messages
};

// Reads seva's pairs.jsonl ({"id", "image", "question" | "prompt", "chosen", "rejected": [..] or
// "..."}) or the official SeVa form ({"chosen", "reject", "question", "image_id"}), as JSONL or
// one JSON array. A malformed row throws naming file and line.
std::vector<PreferencePair> read_pairs(const std::string& path);

// {"id", "image", "question", "chosen", "rejected": [...], "augs": [...], "chosen_ref_logp"}
nlohmann::json pair_json(const PreferencePair& p);
// The official SeVa form: {"chosen", "reject", "question", "image_id"}, the first negative.
nlohmann::json official_json(const PreferencePair& p);
// Writes pairs.jsonl (format "seva") or the official JSON array (format "official") atomically.
void write_pairs(const std::vector<PreferencePair>& pairs, const std::string& path, const std::string& format);

// TRL's convention: the prompt and the answer are tokenised together as one string, the prompt's
// ids must be a prefix of the result, the rest plus the end-of-turn token (EOS, or ChatML's
// <|im_end|>) are the answer's labels. With a question, prompt = chat.prompt(question) and the
// answer follows chat.answer_lead() (one space after llava_v1's "ASSISTANT:"); a raw prompt takes
// the answer verbatim.
PackedExample tokenize_pair(const text::Tokenizer& tok, const text::ChatTemplate& chat, const PreferencePair& pair);

}  // namespace seva::train
