// `seva train`: DPO with LoRA on preference pairs — reference log-probabilities once, packed
// steps, AdamW with cosine warm-up, gradient accumulation, checkpoints that resume exactly.
#pragma once
#include "generate/vlm.h"
#include "model/lora.h"
#include "train/dpo_loss.h"

#include <string>

namespace seva::train {

struct TrainOptions {
  generate::ModelOptions model;
  std::string pairs;          // pairs file (seva JSONL or official JSON)
  std::string images;         // directory the pairs' image names are relative to
  std::string out;            // run directory
  model::LoraConfig lora;     // paper: r 1024, alpha 2048, dropout 0.05
  DpoOptions loss;            // paper: sigmoid, beta 0.1
  double lr = 2e-6;
  double weight_decay = 0.0;
  double warmup_ratio = 0.03;
  double max_grad_norm = 1.0;
  int64_t batch_size = 128;       // global batch (pairs per optimizer step)
  int64_t micro_batch_size = 4;   // pairs per forward/backward
  int64_t epochs = 1;
  int64_t repeat = 2;             // the official run repeats the pair list twice within its epoch
  int64_t max_steps = -1;         // stop early (the schedule still spans the full run)
  int64_t save_every = 0;         // checkpoint every N steps (0: only at the end)
  uint64_t seed = 42;
  bool resume = false;
  bool quiet = false;
  // Recompute each decoder layer in backward instead of storing its activations.
  bool gradient_checkpointing = false;
  // Mixed precision: the base model in bfloat16 (model.dtype), LoRA adapters, their gradients
  // and AdamW state in float32, log-probabilities and the loss in float32. (Any bfloat16/float16
  // base trains this way, e.g. --dtype auto on CUDA.)
  bool bf16 = false;
};

// Runs training; returns the number of optimizer steps taken. Writes RUN_DIR/metrics.jsonl,
// RUN_DIR/checkpoint/ (adapter + optimizer + state) and RUN_DIR/adapter/. Reference
// log-probabilities are cached next to the pairs file (train/ref_cache.h; in RUN_DIR when that
// directory is not writable) and reused by later runs on the same pairs and model.
int64_t train_dpo(const TrainOptions& opts);

// The seed of the random draws (LoRA dropout) of one micro-batch: a function of the run's seed,
// the step and the micro-batch's index in it only, so resuming, or splitting the micro-batches
// over processes, draws the same masks as one uninterrupted process.
uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t micro_batch);

// The model options a training run loads with: --bf16 means a bfloat16 base (an explicit other
// --dtype is an error).
generate::ModelOptions training_model_options(const generate::ModelOptions& model, bool bf16);

// Keeps the rows of a metrics.jsonl with "step" <= `step` (none for 0), rewriting it atomically:
// a resumed run drops what the killed one logged after its last checkpoint.
void keep_metrics_until(const std::string& path, int64_t step);

// Cosine schedule with linear warm-up (transformers' get_cosine_schedule_with_warmup), decaying
// to min_ratio × base_lr instead of 0 when min_ratio > 0 (get_cosine_with_min_lr_schedule_with_warmup).
double cosine_lr(double base_lr, int64_t step, int64_t total_steps, int64_t warmup_steps, double min_ratio = 0.0);

}  // namespace seva::train
