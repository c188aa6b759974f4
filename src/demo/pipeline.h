// `seva demo`: the whole SeVa method on the embedded synthetic world, as a chain of the real
// commands, into one run directory, ending with a report.
//
//   world ─► (tokenizer ─► base SFT, with --from-scratch) ─► eval base
//         ─► sample pool ─► generate (original + diffusion views) ─► pair ─► DPO+LoRA ─► eval seva
//         ─► report.md, summary.json, charts
//
// Each phase leaves its files in RUN_DIR in their real formats and is skipped when they are
// already there, so a demo stopped half-way continues where it was.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace seva::demo {

// The SeVa part of a run: what `seva generate`, `pair` and `train` are given.
struct SevaSettings {
  std::string aug = "diffusion:500";  // augmentation(s) of the rejected view(s), '|'-separated for several
  std::string loss = "sigmoid";
  double lr = 1e-4;
  double beta = 0.1;
  // NLL weight on the chosen answer (not in the paper, which is plain DPO). On the stage-5 base,
  // 3 seeds: POPE F1 +1.6 +- 0.2 and overall +0.1 with it, +0.8 and -0.3 without (study `nll`).
  double nll = 1.0;
  // seva pair --min-chosen-prob: on an earlier base, keeping every differing pair taught the
  // model to say "yes" (POPE yes-ratio 41% -> 93%) and cost 22 points of counting; at 0.6 the
  // kept chosen answers are 91% right instead of 38%.
  double min_chosen_prob = 0.6;
  double max_chosen_prob = 1.0;       // seva pair --max-chosen-prob (1: keep all)
  // seva pair --balance (0: off). On the shipped base (stages 1-8), seed 0: without it the pairs'
  // rejected answers are mostly what noise makes the model say ("4" in 300 of 1379 pairs, "no" in
  // 229, "top left" in 109) and DPO unlearns those answers: counting -4.2, POPE yes-ratio +10; at
  // 2 (498 pairs, 59% of them digits) counting -1.2, yes-ratio +2.
  double balance = 2;
  // 1 epoch at lr 1e-4 with balance 2, seed 0: POPE F1 +0.5, MMBench -0.1, VQA -0.1; 2 epochs:
  // +0.9, -0.4, -0.4 (2 epochs at lr 5e-5: +0.5, -0.1, -0.2).
  int64_t epochs = 1;
  int64_t batch_size = 16;
  int64_t lora_r = 8;
  double lora_alpha = 16;
  double pool_fraction = 1.0;         // share of the pool's questions used (the `scale` study)
  std::string mode = "seva";          // seva | sft-labels (continued SFT on true labels) | sft-chosen
  // LoRA on the projector too (linear_1, linear_2 beside the decoder's seven): the paper's
  // adapters sit on the decoder only, which can change what the model says about an image but
  // not how it reads one (the `lora` study).
  bool lora_projector = false;
};

struct DemoOptions {
  std::string seva;           // the seva executable the phases run
  std::string out = "runs/demo";
  std::string base;           // base checkpoint; empty = the shipped one (or trained, --from-scratch)
  bool from_scratch = false;  // train the tokenizer and the base with seva init + eight seva sft stages (two with --quick)
  bool quick = false;         // a ~10x smaller world and run, for smoke tests
  uint64_t seed = 0;
  int threads = 0;            // 0 = every core
  std::string device = "cpu"; // cpu, cuda or cuda:N: where the model phases run (bfloat16 on CUDA)
  std::string study;          // aug | noise | scale | sft | multi | balance | nll | lora; empty = one SeVa run
  int64_t seeds = 3;          // seeds per study setting
  SevaSettings seva_settings;
  bool echo = true;           // pass the commands' progress through to stderr
  bool base_only = false;     // stop after evaluating the base (how the shipped base was made)
};

// The settings a study compares, (name, settings) in display order, each a change of `base`;
// throws on an unknown study.
std::vector<std::pair<std::string, SevaSettings>> study_settings(const std::string& study, const SevaSettings& base);
// A study run's directory in RUN_DIR, named by its settings and seed alone, so that studies
// holding the same setting share one run.
std::string study_run_dir(const SevaSettings& s, uint64_t seed);

// Where the shipped base checkpoint is looked for (the source tree's assets/tiny-world-base).
std::string shipped_base_dir();

// Runs the demo (or the study) and writes RUN_DIR/report.md and RUN_DIR/summary.json.
// Throws naming the phase and command that failed; finished phases stay on disk.
void run_demo(const DemoOptions& opts);

}  // namespace seva::demo
