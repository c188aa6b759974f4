// `seva init`: a new, randomly initialised llava-hf checkpoint with a tokenizer trained on a corpus.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "io/files.h"
#include "train/flags.h"
#include "train/new_model.h"

#include <iostream>

namespace seva::cli {
namespace {

int run_init(train::InitOptions& o) {
  o.model.config = o.config.empty() ? train::tiny_world_config()
                                    : model::LlavaConfig::from_json(io::read_json(o.config), o.config);
  const int64_t n = train::create_model(o.model);
  std::cerr << "seva init: wrote " << o.model.out << " (" << n << " parameters)\n";
  return 0;
}

}  // namespace

Action register_init(CLI::App& app) {
  auto o = std::make_shared<train::InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create a randomly initialised llava-hf checkpoint and train its tokenizer");
  add_flags(*cmd, train::init_flags, *o);
  return [o] { return run_init(*o); };
}

}  // namespace seva::cli
