// The `seva` subcommands: each file in src/cli registers one on the app and runs it.
#pragma once
#include "generate/vlm.h"
#include "model/lora.h"
#include "train/loop.h"

#include <CLI/CLI.hpp>

#include <functional>

namespace seva::cli {

// A subcommand's action, run after parsing when that subcommand was chosen.
using Action = std::function<int()>;

// The options every model-loading command shares: --model, --image-aspect, --threads,
// --device, --dtype. Defined once here so they read the same everywhere.
void add_model_options(CLI::App& cmd, generate::ModelOptions& opts);
// --max-new-tokens, --temperature, --top-p, --seed.
void add_sampling_options(CLI::App& cmd, generate::SamplingOptions& opts);
// --lora-r, --lora-alpha, --lora-dropout, --lora-targets (seva train and seva sft --lora).
void add_lora_options(CLI::App& cmd, model::LoraConfig& cfg);
// The training loop's flags (seva train and seva sft): --out, --lr, the schedule, the batch,
// --epochs, --repeat, --max-steps, --save-every, --seed, --resume. `unit` names what a batch
// holds ("pairs", "entries").
void add_loop_options(CLI::App& cmd, train::LoopOptions& loop, const std::string& unit, const std::string& out_help);

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
