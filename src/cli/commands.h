// The `seva` subcommands: each file in src/cli registers one on the app and runs it.
#pragma once
#include "generate/generate.h"
#include "generate/vlm.h"

#include <CLI/CLI.hpp>

#include <functional>

namespace seva::cli {

// A subcommand's action, run after parsing when that subcommand was chosen.
using Action = std::function<int()>;

// The options every model-loading command shares: --model, --image-aspect, --threads,
// --device, --dtype (generate::model_flags), for the commands that register their other flags on
// CLI11 directly (chat, info, logps).
void add_model_options(CLI::App& cmd, generate::ModelOptions& opts);
// --max-new-tokens, --temperature, --top-p, --seed (generate::sampling_flags).
void add_sampling_options(CLI::App& cmd, generate::SamplingOptions& opts);

Action register_chat(CLI::App& app);
Action register_info(CLI::App& app);
Action register_eval(CLI::App& app);
Action register_compare(CLI::App& app);
Action register_sample(CLI::App& app);
Action register_generate(CLI::App& app);
Action register_pair(CLI::App& app);
Action register_train(CLI::App& app);
Action register_logps(CLI::App& app);
Action register_merge(CLI::App& app);
Action register_sft(CLI::App& app);
Action register_world(CLI::App& app);
Action register_launch(CLI::App& app);
Action register_bench(CLI::App& app);
Action register_init(CLI::App& app);
Action register_demo(CLI::App& app);

}  // namespace seva::cli
