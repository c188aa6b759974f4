// The world's questions and answers: fixed, few templates per family so a tiny model can learn
// them, short lower-case answers (one word, two position words, a number, a letter, yes/no).
#pragma once
#include <string>
#include <vector>

#include "synth/scene.h"
#include "util/rng.h"

namespace seva::synth {

// Question families. `choice` is the multiple-choice one (MMBench form, answer a letter).
enum class Family { color, count, position, exist, text, choice, caption };
const char* family_name(Family f);  // "color", "count", "position", "exist", "text", "choice", "caption"
Family family_from_name(const std::string& name);  // throws listing the names on an unknown one
// The six question families (every one but caption), in the order above.
const std::vector<Family>& question_families();

// POPE's three ways to pick an absent object.
enum class NegativeKind { random, popular, adversarial };
const char* negative_name(NegativeKind k);  // "random", "popular", "adversarial"

struct Qa {
  Family family = Family::color;
  std::string question;  // no <image> marker; for choice the whole MMBench prompt (options, instruction)
  std::string answer;
  // exist: the POPE category of a "no" (empty for "yes"); choice: the family asked (color, count, ...).
  std::string category;
  // The hard case of the object the question is about ("small", "low_contrast", "occluded"), or
  // "" (an easy object, an absent one, or a question about no single object).
  std::string hard;
  // choice only: the question stem and options (answer = letter of options[answer_index]).
  std::string stem;
  std::vector<std::string> options;
  int answer_index = -1;
};

// The caption family's question ("Describe the image."): SFT stage 1, the pool, the description benchmark.
extern const char* const kDescribeQuestion;

// "red circle none blue square none none green triangle text 4 7 2": the six cells in reading
// order (top left … bottom right), then the digits one by one.
std::string caption(const Scene& s);

Qa color_question(const Scene& s, util::Rng& rng);
Qa count_question(const Scene& s, util::Rng& rng);
Qa position_question(const Scene& s, util::Rng& rng);
// "Is there a {colour} {shape} in the image?": a present object when `yes`, else an absent one
// chosen the `neg` way (random; among the 3 most frequent absent kinds; among the 3 absent kinds
// that co-occur most with the present ones).
Qa exist_question(const Scene& s, util::Rng& rng, bool yes, NegativeKind neg, const WorldStats& stats);
Qa text_question(const Scene& s, util::Rng& rng);
// Multiple choice with 4 options in random order about `asked` (color, count, position, exist, text).
Qa choice_question(const Scene& s, util::Rng& rng, Family asked, const WorldStats& stats);
// Any family: exist picks yes/no and the negative kind at random, choice picks the asked family.
Qa make_question(Family f, const Scene& s, util::Rng& rng, const WorldStats& stats);

// An absent kind chosen the `neg` way (see exist_question).
int absent_kind(const Scene& s, util::Rng& rng, NegativeKind neg, const WorldStats& stats);

}  // namespace seva::synth
