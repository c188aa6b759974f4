#include "synth/choice_drill.h"

#include "eval/mmbench.h"

#include <algorithm>
#include <stdexcept>

namespace seva::synth {

namespace {

// The world's short answers, one set per family that has a fixed set (the digits have none).
std::vector<std::vector<std::string>> answer_sets() {
  std::vector<std::vector<std::string>> sets(4);
  for (const char* c : kColorNames) sets[0].push_back(c);
  for (int n = 0; n <= 4; ++n) sets[1].push_back(std::to_string(n));
  for (int c = 0; c < kCells; ++c) sets[2].push_back(cell_name(c));
  for (int k = 0; k < kKinds; ++k) sets[3].push_back(kind_name(k));
  return sets;
}

}  // namespace

Qa binding_question(util::Rng& rng, int options) {
  if (options != 0 && (options < 2 || options > 4)) throw std::invalid_argument("binding_question: options must be 0 or 2..4");
  static const std::vector<std::vector<std::string>> sets = answer_sets();
  const auto& set = sets[static_cast<size_t>(rng.randint(0, static_cast<int64_t>(sets.size())))];
  static const int kOptionCounts[] = {2, 3, 4, 4};
  const size_t k = static_cast<size_t>(options != 0 ? options : kOptionCounts[rng.randint(0, 4)]);
  std::vector<size_t> letters = rng.sample(4, k);
  std::sort(letters.begin(), letters.end());

  Qa q;
  q.family = Family::choice;
  q.category = "binding";
  for (size_t i : rng.sample(set.size(), k)) q.options.push_back(set[i]);
  q.answer_index = static_cast<int>(rng.randint(0, static_cast<int64_t>(k)));
  q.stem = "The answer is " + q.options[static_cast<size_t>(q.answer_index)] + ".";
  // eval::mmbench_prompt's form, but under the drawn letters (it numbers options A, B, … in order).
  q.question = q.stem;
  for (size_t i = 0; i < k; ++i) q.question += "\n" + std::string(1, static_cast<char>('A' + letters[i])) + ". " + q.options[i];
  q.question += "\n" + std::string(eval::kMmbenchInstruction);
  q.answer = std::string(1, static_cast<char>('A' + letters[static_cast<size_t>(q.answer_index)]));
  return q;
}

std::vector<Qa> choice_turns(const Scene& s, util::Rng& rng, const WorldStats& stats, int n, double open_share) {
  static const Family kAsked[] = {Family::color, Family::count, Family::position, Family::exist, Family::text};
  if (n < 0 || n > 5) throw std::invalid_argument("choice_turns: n must be 0..5");
  std::vector<Qa> turns;
  const std::vector<size_t> order = rng.permutation(5);
  for (int i = 0; i < n; ++i) {
    const Family asked = kAsked[order[static_cast<size_t>(i)]];
    Qa mc = choice_question(s, rng, asked, stats);
    if (asked != Family::exist && rng.bernoulli(open_share)) {
      Qa open;
      open.family = asked;
      open.question = mc.stem;
      open.stem = mc.stem;
      open.answer = mc.options[static_cast<size_t>(mc.answer_index)];
      open.hard = mc.hard;
      turns.push_back(open);
    }
    turns.push_back(mc);
  }
  return turns;
}

}  // namespace seva::synth
