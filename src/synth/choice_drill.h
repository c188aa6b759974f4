// The multiple-choice curriculum: data for the SFT stages after the base's five (stages 6-8 of
// `seva demo --from-scratch`).
//
// Trained on the world's MMBench-form questions alone, the tiny LLaVA stays at chance on them: it
// can answer "What color is the circle?" but not pick the option that holds its answer and write
// that option's letter. That is an in-context pointer circuit (find the option whose text matches,
// copy the letter two tokens before it, map the option's letter piece "B" to the answer's "▁B"),
// the "symbol binding" Robinson and Wingate (2022) find weak in small language models. It needs no
// vision, so it is drilled on questions that state the answer ("The answer is blue." then options
// under random letters). Its loss sits at chance for hundreds of steps and then falls within ~100
// (an induction circuit's phase change), which happens with two options but not reliably with two
// to four from the start; so the drill comes first with two options, then with two to four, and
// the last stage moves the circuit onto the world's own questions, half of them right after the
// same question asked openly. The runs behind this: docs/tiny-world-base.md.
#pragma once
#include <vector>

#include "synth/questions.h"
#include "synth/scene.h"
#include "util/rng.h"

namespace seva::synth {

// "The answer is X.\nB. y\nD. X\nAnswer with the option's letter from the given choices directly."
// → "D": 2 to 4 options (4 half the time) drawn from one of the world's answer sets (colours,
// counts, cells, kinds), under that many of the letters A–D (a random subset, in order, so the
// letter must be read, not counted). Family::choice, category "binding". `options` 2..4 fixes the
// number of options (0: drawn as above).
Qa binding_question(util::Rng& rng, int options = 0);

// `n` of the world's multiple-choice questions about `s` (distinct asked families, random order,
// exactly as the benchmark asks them); each but the exist form ("Which of these objects …", which
// has no open twin) comes after its open question and answer with probability `open_share`.
std::vector<Qa> choice_turns(const Scene& s, util::Rng& rng, const WorldStats& stats, int n, double open_share);

}  // namespace seva::synth
