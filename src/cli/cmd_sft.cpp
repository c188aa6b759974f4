// `seva sft`: supervised fine-tuning on LLaVA-665k-form data (assistant turns only), training
// any subset of vision tower, projector and language model (full, or LoRA on the language model).
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "train/flags.h"
#include "train/sft.h"

#include <iostream>

namespace seva::cli {

Action register_sft(CLI::App& app) {
  auto o = std::make_shared<train::SftOptions>();
  auto* cmd = app.add_subcommand("sft", "Supervised fine-tuning on LLaVA-665k-form conversations");
  add_flags(*cmd, train::sft_flags, *o);
  return [o] {
    auto steps = train::train_sft(*o);
    std::cerr << "seva sft: " << steps << " steps; " << (o->lora ? "adapter" : "model") << " in " << o->loop.out << "/"
              << (o->lora ? "adapter" : "model") << "\n";
    return 0;
  };
}

}  // namespace seva::cli
