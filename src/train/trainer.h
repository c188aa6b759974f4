// `seva train`: DPO with LoRA on preference pairs — reference log-probabilities once, packed
// steps, AdamW with cosine warm-up, gradient accumulation, checkpoints that resume exactly.
#pragma once
#include "generate/vlm.h"
#include "model/lora.h"
#include "train/dpo_loss.h"
#include "train/loop.h"

#include <string>

namespace seva::train {

struct TrainOptions {
  generate::ModelOptions model;
  std::string pairs;          // pairs file (seva JSONL or official JSON)
  std::string images;         // directory the pairs' image names are relative to
  model::LoraConfig lora;     // paper: r 1024, alpha 2048, dropout 0.05
  DpoOptions loss;            // paper: sigmoid, beta 0.1
  double weight_decay = 0.0;  // AdamW
  // The paper's schedule: lr 2e-6, 3% warm-up, global batch 128, one epoch over the pair list
  // repeated twice (the official run's choice), clip 1.0.
  LoopOptions loop = [] {
    LoopOptions l;
    l.lr = 2e-6;
    l.repeat = 2;
    return l;
  }();
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

// The model options a training run loads with: --bf16 means a bfloat16 base (an explicit other
// --dtype is an error).
generate::ModelOptions training_model_options(const generate::ModelOptions& model, bool bf16);

}  // namespace seva::train
