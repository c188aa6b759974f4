// `seva init`: a new, randomly initialised llava-hf checkpoint with a tokenizer trained on a corpus.
#include "cli/commands.h"

#include "io/files.h"
#include "train/new_model.h"

#include <iostream>

namespace seva::cli {
namespace {

struct InitOptions {
  train::NewModelOptions model;
  std::string config;  // config.json to take the architecture from; empty = the tiny-world preset
};

int run_init(InitOptions& o) {
  o.model.config = o.config.empty() ? train::tiny_world_config()
                                    : model::LlavaConfig::from_json(io::read_json(o.config), o.config);
  const int64_t n = train::create_model(o.model);
  std::cerr << "seva init: wrote " << o.model.out << " (" << n << " parameters)\n";
  return 0;
}

}  // namespace

Action register_init(CLI::App& app) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create a randomly initialised llava-hf checkpoint and train its tokenizer");
  cmd->add_option("--corpus", o->model.corpus, "text file (one sentence per line) to train the tokenizer on")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o->model.out, "checkpoint directory to write")->required();
  cmd->add_option("--config", o->config,
                  "a llava-hf config.json giving the architecture (default: the tiny-world preset, ~1M parameters)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--vocab-size", o->model.vocab_size, "sentencepiece pieces at most")->capture_default_str();
  cmd->add_option("--seed", o->model.seed, "seed of the weight initialisation")->capture_default_str();
  cmd->add_option("--system-prompt", o->model.system_prompt,
                  "text before the first USER: of every prompt, kept in seva.json (default none, as llava-hf's chat format)");
  return [o] { return run_init(*o); };
}

}  // namespace seva::cli
