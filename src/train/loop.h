// The optimisation loop every trainer shares: the visit order, the cosine schedule, micro-batches
// dealt to ranks, the all-reduce, the non-finite guard, clipping, the AdamW step, metrics.jsonl,
// and checkpoints that resume exactly. A trainer supplies only what is its own: what a micro-batch
// computes and what its checkpoint holds.
#pragma once
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace seva::train {

// The schedule and the step, as `seva train` and `seva sft` take them.
struct LoopOptions {
  std::string out;                // run directory: metrics.jsonl, checkpoint/, the final weights
  double lr = 2e-6;               // peak learning rate
  double warmup_ratio = 0.03;     // linear warm-up share of the cosine schedule
  int64_t warmup_steps = -1;      // when >= 0, overrides warmup_ratio
  double min_lr_ratio = 0.0;      // the cosine decays to this share of lr
  double max_grad_norm = 1.0;     // gradient-norm clip
  int64_t batch_size = 128;       // examples per optimizer step (over every rank)
  int64_t micro_batch_size = 4;   // examples per forward/backward; larger than the batch means the batch
  int64_t epochs = 1;
  int64_t repeat = 1;             // copies of the data per epoch
  int64_t max_steps = -1;         // stop early (the schedule still spans the full run)
  int64_t save_every = 0;         // checkpoint every N steps (0: only at the end)
  uint64_t seed = 42;             // data order and the per-micro-batch random draws
  bool resume = false;            // continue the run in `out` from its last checkpoint
  bool quiet = false;
};

// One micro-batch's result: the loss to differentiate (already scaled to its share of the batch)
// and the sums the trainer logs, added over micro-batches and ranks.
struct MicroResult {
  torch::Tensor loss;
  std::vector<double> sums;
};

// What the loop hands a trainer's logger after each optimizer step.
struct StepReport {
  int64_t step = 0;                   // steps done (1-based)
  int64_t total_steps = 0;
  double lr = 0;
  double grad_norm = 0;               // before clipping
  double seconds = 0;                 // wall time of the step
  const std::vector<size_t>* batch;   // the step's examples (indices into the data)
  std::vector<double> sums;           // MicroResult::sums over the whole batch
};

// What a trainer is: its micro-step, its checkpoint contents and its metrics row.
struct TrainerParts {
  // Computes micro-batch `items` of a step whose whole batch is `batch` (indices into the data).
  std::function<MicroResult(const std::vector<size_t>& items, const std::vector<size_t>& batch)> micro_step;
  // Names a micro-batch in an error message (e.g. its first example's file and line).
  std::function<std::string(const std::vector<size_t>& items)> describe;
  std::function<void(const std::string& dir)> save_weights;  // the trained weights, into dir
  std::function<void(const std::string& dir)> load_weights;  // the inverse, from a checkpoint
  size_t sum_count = 0;                                       // MicroResult::sums' length
  // Around the optimizer step (either may be empty): once this rank's gradients are complete,
  // before they are all-reduced (e.g. float32 masters take them), and after the step.
  std::function<void()> before_reduce, after_step;
  // The metrics.jsonl row and the progress line of a step.
  std::function<nlohmann::json(const StepReport&)> row;
  std::function<std::string(const StepReport&)> line;
  // The settings the meaning of a checkpoint depends on (data and model identity, loss, LoRA...):
  // a resumed run must have the same, and the loop adds its own (batch size, lr, schedule, seed).
  nlohmann::json identity;
  std::string final_dir = "adapter";  // where the final weights go, in `out`
};

// Runs the loop over `n` examples; returns the optimizer steps taken. `params` are the tensors the
// gradients are all-reduced and clipped over (AdamW's own, e.g. float32 masters).
int64_t run_training(const LoopOptions& o, size_t n, const TrainerParts& t, torch::optim::AdamW& opt,
                     std::vector<torch::Tensor>& params);

// The order examples are visited in: per epoch, `repeat` copies of 0..n-1 in a random order drawn
// from the seed with the project's portable RNG (the same order with any standard library).
std::vector<size_t> visit_order(size_t n, int64_t epochs, int64_t repeat, uint64_t seed);

// The micro-batch size a run uses: the batch when the given one is larger; throws when the batch
// is not a multiple of it.
int64_t effective_micro_batch(int64_t batch_size, int64_t micro_batch_size);

// The seed of the random draws (LoRA dropout) of one micro-batch: a function of the run's seed,
// the step and the micro-batch's index in it only, so resuming, or splitting the micro-batches
// over processes, draws the same masks as one uninterrupted process.
uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t micro_batch);

// Keeps the rows of a metrics.jsonl with "step" <= `step` (none for 0), rewriting it atomically:
// a resumed run drops what the killed one logged after its last checkpoint.
void keep_metrics_until(const std::string& path, int64_t step);

// Cosine schedule with linear warm-up (transformers' get_cosine_schedule_with_warmup), decaying
// to min_ratio × base_lr instead of 0 when min_ratio > 0 (get_cosine_with_min_lr_schedule_with_warmup).
double cosine_lr(double base_lr, int64_t step, int64_t total_steps, int64_t warmup_steps, double min_ratio = 0.0);

// Writes dir atomically: fill(dir + ".tmp"), then the old dir is replaced by it (moved to
// dir + ".old" until the new one is in place, then removed).
void write_dir_atomic(const std::string& dir, const std::function<void(const std::string&)>& fill);
// After a kill inside write_dir_atomic's two renames dir is missing: puts back dir + ".tmp" if it
// holds last_file (the file fill writes last: it is whole), else dir + ".old".
void recover_dir(const std::string& dir, const std::string& last_file);

}  // namespace seva::train
