// SeVa step 3: preference pairs from the answers on the original and augmented views. A pair
// keeps the original answer as chosen and every augmented answer that differs from it (after
// removing "</s>" and newlines, as the official code does) as rejected (multi-negative).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/pairs.h"

namespace seva::method {

// Removes every "</s>" and newline.
std::string clean_answer(const std::string& answer);

struct AnswerRow {
  std::string id, image, question, view, answer;
  double logprob = 0;
};
// Reads answers.jsonl (the output of `seva generate`); a torn last line is ignored.
std::vector<AnswerRow> read_answers(const std::string& path);

struct ViewStats {
  std::string view;
  int64_t items = 0;    // ids answered on this view (and the original)
  int64_t differ = 0;   // of them, answers different from the original
};

struct PairOptions {
  std::vector<std::string> views;  // negatives to use (view names); empty = every view in the file
  int64_t max_pairs = 0;           // > 0: keep a random subset of this many pairs (order kept)
  // > 0: drop pairs whose chosen answer the model itself found unlikely (probability of the whole
  // greedy answer, exp(logprob), below this): a wrong chosen answer teaches the wrong thing.
  double min_chosen_prob = 0;
  // < 1: drop pairs whose chosen answer the model was already sure of (probability above this):
  // on the tiny world these were mostly questions the base never gets wrong (digits), whose pairs
  // only push the policy around.
  double max_chosen_prob = 1;
  // > 0: balance the answers. A rejected answer that recurs across many pairs is what the
  // augmentation makes the model say (diffusion noise hides objects: "no", "4", "top left"), not a
  // mistake about this image; DPO on those pairs shifts the model's prior ("never say 4") instead of
  // teaching it to look. So an answer may be rejected in at most `balance` times as many pairs as it
  // is chosen in (and never fewer than `balance_min`): the excess negatives are dropped at random,
  // and a pair left with none goes. Repeated until it holds, since dropping a pair lowers the count
  // of its chosen answer.
  double balance = 0;
  int64_t balance_min = 5;
  uint64_t seed = 0;
};

struct PairResult {
  std::vector<train::PreferencePair> pairs;
  std::vector<ViewStats> per_view;  // in view order
  int64_t items = 0;                // ids with an original answer
  int64_t no_original = 0;          // ids without one (skipped)
  int64_t low_confidence = 0;       // pairs dropped by min_chosen_prob
  int64_t high_confidence = 0;      // pairs dropped by max_chosen_prob
  int64_t unbalanced_negatives = 0; // negatives dropped by balance
  int64_t unbalanced = 0;           // pairs dropped by balance (no negative left)
  int64_t filtered = 0;             // pairs before --max-pairs
};

PairResult make_pairs(const std::vector<AnswerRow>& rows, const PairOptions& opts);

}  // namespace seva::method
