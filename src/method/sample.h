// SeVa step 1: image-question pairs sampled from an instruction file in LLaVA-665k JSON form.
#pragma once
#include "method/questions.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seva::method {

struct SampleOptions {
  std::string instructions;          // LLaVA-665k JSON: [{"id", "image", "conversations": [...]}, ...]
  std::vector<std::string> sources;  // keep entries whose image path starts with one of these; empty = all
  int per_image = 2;                 // up to this many random human questions per entry
  int64_t count = 0;                 // image entries to sample; 0 = every kept entry (shuffled)
  uint64_t seed = 0;
  std::string out;                   // JSONL: {"id", "image", "text"}
};

struct SampleStats {
  int64_t read = 0;      // entries in the file
  int64_t no_image = 0;  // skipped: text-only entries
  int64_t other_source = 0;
  int64_t no_question = 0;
  int64_t kept = 0;      // candidates
  int64_t sampled = 0;   // entries chosen
  int64_t written = 0;   // image-question lines
};

// "<image>\nQ" or "Q\n<image>" → "Q" (any other <image> too), surrounding whitespace stripped.
std::string remove_image_marker(const std::string& question);

// Reads the file (streamed: one entry in memory at a time), filters and samples.
// Errors name the file (and byte offset for malformed JSON).
std::vector<Question> sample_questions(const SampleOptions& opts, SampleStats* stats);
// sample_questions, then writes opts.out atomically; returns the stats.
SampleStats run_sample(const SampleOptions& opts);

}  // namespace seva::method
