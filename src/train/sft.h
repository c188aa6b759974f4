// `seva sft`: supervised fine-tuning on LLaVA-665k-form conversations (loss on the assistant
// turns only, multi-turn dialogues included), training any subset of vision tower, projector and
// language model (full, or LoRA on the language model), in the DPO trainer's loop style.
#pragma once
#include "generate/vlm.h"
#include "model/lora.h"
#include "text/conversation.h"
#include "text/tokenizer.h"
#include "train/loop.h"
#include "train/sft_data.h"

#include <string>
#include <utility>
#include <vector>

namespace seva::train {

// The llava_v1 conversation as training text:
// "<system> USER: <image>\nQ1 ASSISTANT: A1</s>USER: Q2 ASSISTANT: A2</s>".
std::string sft_conversation_text(const text::ChatTemplate& chat, const SftExample& ex);

// The tokenised dialogue: ids (BOS first, one <image> token) and labels[j] = true where ids[j]
// is trained (each answer's tokens and its EOS). Spans are found TRL-style: the ids of the text
// up to each "ASSISTANT:" and up to the end of its answer must be prefixes of the whole.
struct SftTokens {
  std::vector<int64_t> ids;
  std::vector<bool> labels;
  int64_t label_count() const;
};
SftTokens tokenize_dialogue(const text::Tokenizer& tok, const text::ChatTemplate& chat, const SftExample& ex);

// Summed log-probability of the labelled tokens of each example and their count, with one causal
// forward per micro-batch (lm_head and log-softmax only at labelled positions).
// image_features: model.image_features' output, one per example.
torch::Tensor sft_logps(model::VisionLanguageModelImpl& model, const std::vector<SftTokens>& examples,
                        const std::vector<torch::Tensor>& image_features);

struct SftOptions {
  generate::ModelOptions model;
  std::vector<std::string> data;     // LLaVA-665k-form JSON files, concatenated (a data mixture)
  std::string images;                // directory the entries' image paths are relative to
  std::vector<std::string> train = {"projector", "language"};  // any of vision, projector, language
  bool lora = false;                 // LoRA on the language model instead of full training
  model::LoraConfig lora_config;
  // Weight decay applies to weight matrices only, never to biases, norms or embedding tables
  // (transformers' Trainer leaves biases and norms out; embeddings are lookup tables, not maps).
  double weight_decay = 0.0;
  double adam_beta2 = 0.999;
  LoopOptions loop = [] {            // LLaVA-1.5's fine-tuning lr, one pass over the data
    LoopOptions l;
    l.lr = 2e-5;
    return l;
  }();
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
