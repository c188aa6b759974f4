// A new llava-hf checkpoint from nothing: a SentencePiece tokenizer trained on a corpus, a config,
// weights initialised as transformers does, and the tokenizer and image-processor files — a real
// checkpoint every other command (and transformers) loads. It is the embedded default's base
// before `seva sft` trains it.
#pragma once
#include "model/config.h"

#include <cstdint>
#include <string>

namespace seva::train {

struct NewModelOptions {
  std::string corpus;           // text, one sentence per line, for the tokenizer
  std::string out;              // checkpoint directory to write
  int64_t vocab_size = 256;     // sentencepiece pieces at most (BPE; fewer when the corpus is small)
  model::LlavaConfig config;    // architecture; vocab, image and pad ids are filled in here
  double image_mean = 0.5;      // the processor's normalisation (pixels x/127.5 - 1 by default)
  double image_std = 0.5;
  uint64_t seed = 0;            // weight initialisation
  // Written to seva.json: the text before the first "USER:" in every prompt. Empty by default
  // (llava-hf's chat format): on the tiny world, llava_v1's 53-token system text made steps 2×
  // slower and the model learnt to read digits 2× more slowly.
  std::string system_prompt;
};

// The architecture of the embedded default (the tiny-world recipe): CLIP ViT on 48×48 images,
// patch 8, width 64, 4 layers, 4 heads, MLP 256; projector 64→128→128; LLaMA width 128, 4 layers,
// 4 heads, SwiGLU 344, untied head. About 1M parameters.
model::LlavaConfig tiny_world_config();

// Trains the tokenizer, writes config.json, model.safetensors, tokenizer.model,
// tokenizer_config.json, special_tokens_map.json, preprocessor_config.json and seva.json into opts.out
// (created). The tokenizer splits digits and keeps whitespace as LLaMA's does.
// Returns the parameter count.
int64_t create_model(const NewModelOptions& opts);

}  // namespace seva::train
