// Preference pairs on disk (seva's JSONL and the official SeVa JSON) and their tokenisation
// the way TRL does it.
#pragma once
#include "text/tokenizer.h"
#include "train/logps.h"

#include <optional>
#include <string>
#include <vector>

namespace seva::train {

struct PreferencePair {
  std::string id;
  std::string image;                 // relative to --images
  std::string question;              // the llava_v1 template is applied ...
  std::string prompt;                // ... unless a raw prompt (with <image>) is given
  std::string chosen;
  std::vector<std::string> rejected;  // one or more (multi-negative)
  std::optional<double> chosen_ref_logp;
  std::string source;                // "FILE:LINE", for messages
};

// Reads seva's pairs.jsonl ({"id", "image", "question" | "prompt", "chosen", "rejected": [..] or
// "..."}) or the official SeVa form ({"chosen", "reject", "question", "image_id"}), as JSONL or
// one JSON array. A malformed row throws naming file and line.
std::vector<PreferencePair> read_pairs(const std::string& path);

// TRL's convention: the prompt and the answer are tokenised together as one string, the prompt's
// ids must be a prefix of the result, the rest plus EOS are the answer's labels. With a question,
// prompt = llava_v1_prompt(question) and the answer follows "ASSISTANT:" after one space; a raw
// prompt takes the answer verbatim.
PackedExample tokenize_pair(const text::Tokenizer& tok, const PreferencePair& pair);

}  // namespace seva::train
