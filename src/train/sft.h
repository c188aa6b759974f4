// `seva sft`: supervised fine-tuning on LLaVA-665k-form conversations (loss on the assistant
// turns only, multi-turn dialogues included), training any subset of vision tower, projector and
// language model (full, or LoRA on the language model), in the DPO trainer's loop style.
#pragma once
#include "generate/vlm.h"
#include "model/lora.h"
#include "text/tokenizer.h"

#include <string>
#include <utility>
#include <vector>

namespace seva::train {

// One LLaVA-665k entry: {"id", "image", "conversations": [{"from": "human", "value": "<image>\nQ"},
// {"from": "gpt", "value": "A"}, ...]}.
struct SftExample {
  std::string id;
  std::string image;                                    // relative to --images
  std::vector<std::pair<std::string, std::string>> turns;  // (question, answer) rounds
  std::string source;                                   // "FILE: entry N", for messages
};

// Reads the JSON array (or JSONL) of entries. Entries without an image are skipped (counted in
// *skipped when given). A malformed entry throws naming the file and the entry.
std::vector<SftExample> read_sft_data(const std::string& path, int64_t* skipped = nullptr);

// The llava_v1 conversation as training text:
// "<system> USER: <image>\nQ1 ASSISTANT: A1</s>USER: Q2 ASSISTANT: A2</s>".
std::string sft_conversation_text(const SftExample& ex);

// The tokenised dialogue: ids (BOS first, one <image> token) and labels[j] = true where ids[j]
// is trained (each answer's tokens and its EOS). Spans are found TRL-style: the ids of the text
// up to each "ASSISTANT:" and up to the end of its answer must be prefixes of the whole.
struct SftTokens {
  std::vector<int64_t> ids;
  std::vector<bool> labels;
  int64_t label_count() const;
};
SftTokens tokenize_dialogue(const text::Tokenizer& tok, const SftExample& ex);

// Summed log-probability of the labelled tokens of each example and their count, with one causal
// forward per micro-batch (lm_head and log-softmax only at labelled positions).
// image_features: (E, P, C), one per example.
torch::Tensor sft_logps(model::LlavaForConditionalGenerationImpl& model, const std::vector<SftTokens>& examples,
                        const torch::Tensor& image_features);

struct SftOptions {
  generate::ModelOptions model;
  std::vector<std::string> data;     // LLaVA-665k-form JSON files, concatenated (a data mixture)
  std::string images;                // directory the entries' image paths are relative to
  std::string out;                   // run directory
  std::vector<std::string> train = {"projector", "language"};  // any of vision, projector, language
  bool lora = false;                 // LoRA on the language model instead of full training
  model::LoraConfig lora_config;
  double lr = 2e-5;
  double weight_decay = 0.0;
  double warmup_ratio = 0.03;
  int64_t warmup_steps = -1;         // when >= 0, overrides warmup_ratio
  double min_lr_ratio = 0.0;         // the cosine decays to this share of lr
  double adam_beta2 = 0.999;
  // Weight decay applies to weight matrices only, never to biases, norms or embedding tables
  // (transformers' Trainer leaves biases and norms out; embeddings are lookup tables, not maps).
  double max_grad_norm = 1.0;
  int64_t batch_size = 128;          // examples per optimizer step
  int64_t micro_batch_size = 4;      // examples per forward/backward
  int64_t epochs = 1;
  int64_t max_steps = -1;
  int64_t save_every = 0;
  uint64_t seed = 42;
  bool quiet = false;
  bool resume = false;                 // continue the run in `out` from its last checkpoint
  bool gradient_checkpointing = false; // recompute each decoder layer in backward
  // Mixed precision: a bfloat16 base (model.dtype); LoRA adapters, and float32 master copies of
  // fully trained bfloat16/float16 parameters, are what AdamW updates (in float32); the loss is
  // float32. (Any bfloat16/float16 base trains this way, e.g. --dtype auto on CUDA.)
  bool bf16 = false;
};

// Runs SFT; returns the optimizer steps taken. Writes RUN_DIR/metrics.jsonl, RUN_DIR/checkpoint/
// (weights or adapter + optimizer + state, atomically) and RUN_DIR/model/ (a full llava-hf
// checkpoint with the tokenizer and preprocessor files) or RUN_DIR/adapter/ (PEFT) with --lora.
int64_t train_sft(const SftOptions& opts);

}  // namespace seva::train
