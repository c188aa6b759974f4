// `seva merge`: fold a LoRA adapter into the base weights and write a full llava-hf checkpoint.
#include "cli/commands.h"

#include "io/files.h"
#include "model/checkpoint.h"
#include "model/lora.h"

#include <iostream>

namespace seva::cli {
namespace {

struct MergeOptions {
  std::string model, adapter, out;
};

int run_merge(const MergeOptions& o) {
  auto m = model::load_model(o.model);
  model::load_adapter(*m, o.adapter);
  model::merge_lora(*m);
  model::save_model(*m, o.out);
  model::copy_processor_files(o.model, o.out);  // the tokenizer and image processor are the base model's
  std::cerr << "seva merge: wrote " << o.out << "\n";
  return 0;
}

}  // namespace

Action register_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand("merge", "Merge a LoRA adapter into its base model (a full Hugging Face checkpoint)");
  cmd->add_option("--model", o->model, "base checkpoint (LLaVA, Qwen2-VL, Qwen2.5-VL)")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--adapter", o->adapter, "PEFT adapter directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", o->out, "output checkpoint directory")->required();
  return [o] { return run_merge(*o); };
}

}  // namespace seva::cli
