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
  // NLL weight on the chosen answer (not in the paper, which is plain DPO), a pull towards the
  // chosen answers: better than plain DPO on the stage-5 base, the same on the shipped one
  // (the `nll` study, docs/studies.md).
  double nll = 1.0;
  // seva pair --min-chosen-prob: a pair teaches something only if its chosen answer is likely to
  // be right; with every differing pair kept most chosen answers were wrong, and DPO taught the
  // model to say "yes" and cost counting (docs/studies.md).
  double min_chosen_prob = 0.6;
  double max_chosen_prob = 1.0;       // seva pair --max-chosen-prob (1: keep all)
  // seva pair --balance (0: off): without it the rejected answers are mostly what noise makes the
  // model say ("4" to every count, "no" to every existence question) and DPO unlearns those
  // answers everywhere; 2 keeps the damage within the spread and keeps more pairs than 1 (the
  // `balance` study, docs/studies.md).
  double balance = 2;
  // One epoch: a second one on the balanced pairs moved POPE F1 a little more but cost more of
  // MMBench and VQA (docs/studies.md).
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
