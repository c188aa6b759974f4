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
  auto m = model::load_llava(o.model);
  model::load_adapter(*m, o.adapter);
  model::merge_lora(*m);
  model::save_llava(*m, o.out);
  // The tokenizer and image processor are the base model's.
  for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                        "preprocessor_config.json", "generation_config.json", "seva.json"}) {
    auto src = io::join_path(o.model, f);
    if (io::file_exists(src)) io::write_file_atomic(io::join_path(o.out, f), io::read_file(src));
  }
  std::cerr << "seva merge: wrote " << o.out << "\n";
  return 0;
}

}  // namespace

Action register_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  auto* cmd = app.add_subcommand("merge", "Merge a LoRA adapter into its base model (a full llava-hf checkpoint)");
  cmd->add_option("--model", o->model, "base llava-hf checkpoint")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--adapter", o->adapter, "PEFT adapter directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", o->out, "output checkpoint directory")->required();
  return [o] { return run_merge(*o); };
}

}  // namespace seva::cli
