// The flags of the training commands (util/flags.h): `seva train`, `seva sft` and `seva init`,
// and the groups they share (the loop, LoRA).
#pragma once
#include "model/lora.h"
#include "train/loop.h"
#include "train/new_model.h"
#include "train/sft.h"
#include "train/trainer.h"
#include "util/flags.h"

#include <string>

namespace seva::train {

// --out, --lr, the schedule, the batch, --epochs, --repeat, --max-steps, --save-every, --seed,
// --resume. `unit` names what a batch holds ("pairs", "entries"); `out_help` what --out receives.
void loop_flags(util::Flags& f, LoopOptions& o, const std::string& unit, const std::string& out_help);
// --lora-r, --lora-alpha, --lora-dropout, --lora-targets.
void lora_flags(util::Flags& f, model::LoraConfig& o);

// `seva train`.
void train_flags(util::Flags& f, TrainOptions& o);
// `seva sft`.
void sft_flags(util::Flags& f, SftOptions& o);

// `seva init`: a new checkpoint, its architecture from a config.json or the tiny-world preset.
struct InitOptions {
  NewModelOptions model;  // its `config` is filled from `config` when the command runs
  std::string config;     // config.json to take the architecture from; empty = the tiny-world preset
};
void init_flags(util::Flags& f, InitOptions& o);

}  // namespace seva::train
