// The multiple-choice curriculum: data for the SFT stages after the base's five (stages 6-8 of
// `seva demo --from-scratch`).
//
// Trained on the world's MMBench-form questions alone, the tiny LLaVA stays at chance on them: it
// can answer "What color is the circle?" but not pick the option that holds its answer and write
// that option's letter. That is an in-context pointer circuit (find the option whose text matches,
// copy the letter two tokens before it, map the option's letter piece "B" to the answer's "▁B"),
// the "symbol binding" Robinson and Wingate (2022) find weak in small language models. Session-8
// probes from the shipped base: on questions that state the answer ("The answer is blue." then
// two options under random letters) the loss sat at chance for ~800 steps of batch 32 and then
// fell within ~100 steps, the phase change of an induction circuit; the real questions alone never
// got there. With 2-4 options from the start it had not come after 1875 steps (session 9). So the
// drill comes first with two options, then with two to four; the last stage moves the circuit
// onto the world's own questions, half of them right after the same question asked openly.
#pragma once
#include <vector>

#include "seva/rng.h"
#include "synth/questions.h"
#include "synth/scene.h"

namespace seva::synth {

// "The answer is X.\nB. y\nD. X\nAnswer with the option's letter from the given choices directly."
// → "D": 2 to 4 options (4 half the time) drawn from one of the world's answer sets (colours,
// counts, cells, kinds), under that many of the letters A–D (a random subset, in order, so the
// letter must be read, not counted). Family::choice, category "binding". `options` 2..4 fixes the
// number of options (0: drawn as above).
Qa binding_question(Rng& rng, int options = 0);

// `n` of the world's multiple-choice questions about `s` (distinct asked families, random order,
// exactly as the benchmark asks them); each but the exist form ("Which of these objects …", which
// has no open twin) comes after its open question and answer with probability `open_share`.
std::vector<Qa> choice_turns(const Scene& s, Rng& rng, const WorldStats& stats, int n, double open_share);

}  // namespace seva::synth
