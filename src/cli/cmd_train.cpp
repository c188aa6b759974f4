// `seva train`: DPO with LoRA on preference pairs (the paper's defaults; every one a flag).
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "train/flags.h"
#include "train/trainer.h"

#include <iostream>

namespace seva::cli {

Action register_train(CLI::App& app) {
  auto o = std::make_shared<train::TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a LoRA adapter with DPO on preference pairs");
  add_flags(*cmd, train::train_flags, *o);
  return [o] {
    auto steps = train::train_dpo(*o);
    std::cerr << "seva train: " << steps << " steps; adapter in " << o->loop.out << "/adapter\n";
    return 0;
  };
}

}  // namespace seva::cli
