// Inside `seva demo`: the pieces of the recipe that run_demo puts together (the sizes of a run,
// the base curriculum, one SeVa run, the evaluation command), each building its phases' commands
// from the commands' own option structs.
#pragma once
#include "demo/phases.h"
#include "demo/pipeline.h"
#include "generate/vlm.h"
#include "train/loop.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seva::demo {

// Sizes of the world and of the runs on it.
struct Sizes {
  int64_t train_images, pool_images, bench_images;
  int64_t sft1_steps, sft2_steps;  // from scratch only; 0 = one epoch
  int64_t warmup_steps;             // of the first two stages
  int eval_batch = 64;              // seva eval --batch-size
  int64_t describe_images = 300;    // the description benchmark (seva world --describe)
  int64_t sample_questions = 300;   // per benchmark, answered kSamples times at each kTemperatures
};

// Most tokens a demo answer may take: a description of the world ("red circle none ... text 4 7
// 2") is about 20 tokens; the short answers end long before.
constexpr int kMaxAnswerTokens = 32;

// Robustness under sampling, as the demo measures it: each benchmark's first sample_questions
// questions answered kSamples times at each temperature.
constexpr int kSamples = 5;
constexpr double kTemperatures[] = {0.5, 1.0};
Sizes sizes_for(const DemoOptions& o);

// How the model phases load `model_dir` (with `adapter_dir` when given): the demo's threads and device.
generate::ModelOptions model_options(const DemoOptions& o, const std::string& model_dir,
                                     const std::string& adapter_dir = "");

// A demo training run checkpoints every kSaveEvery steps and is started with --resume: a demo
// killed mid-phase continues that phase from its last checkpoint when it is run again (and ends
// with the uninterrupted run's weights, byte for byte).
constexpr int64_t kSaveEvery = 10;
void resumable(train::LoopOptions& loop);

// The `seva eval` commands of a model (and adapter) into `out`: the world's four benchmarks (POPE,
// MMBench, VQA, the descriptions' CHAIR) answered greedily, then sampled at each temperature.
std::vector<std::vector<std::string>> eval_commands(const DemoOptions& o, const Sizes& sz, const std::string& world,
                                                   const std::string& model, const std::string& adapter,
                                                   const std::string& out);
// `seva eval` on the VQA file `vqa` alone (the grounding gate's swapped images).
std::vector<std::string> eval_vqa_command(const DemoOptions& o, const Sizes& sz, const std::string& world,
                                          const std::string& model, const std::string& vqa, const std::string& out);

// The base trained here (base_recipe.cpp): the tokenizer and a random model (seva init), then the
// SFT stages. Returns the final model's directory.
std::string train_base(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world);

// One SeVa (or control) run on a base (seva_run.cpp): sample → generate → pair → train → eval, in
// RUN_DIR/dir_rel. Returns its entry for the summary (paths relative to RUN_DIR).
nlohmann::ordered_json seva_run(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world,
                                const std::string& base, const SevaSettings& s, uint64_t seed, const std::string& dir_rel);

}  // namespace seva::demo
