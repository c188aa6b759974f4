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
};

// Runs training; returns the number of optimizer steps taken. Writes RUN_DIR/metrics.jsonl,
// RUN_DIR/ref_logps.jsonl, RUN_DIR/checkpoint/ (adapter + optimizer + state) and RUN_DIR/adapter/.
int64_t train_dpo(const TrainOptions& opts);

// Cosine schedule with linear warm-up (transformers' get_cosine_schedule_with_warmup).
double cosine_lr(double base_lr, int64_t step, int64_t total_steps, int64_t warmup_steps);

}  // namespace seva::train
