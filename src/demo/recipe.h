// Inside `seva demo`: the pieces of the recipe that run_demo puts together (the sizes of a run,
// the base curriculum, one SeVa run, the evaluation command), each building its phases' commands
// from the commands' own option structs.
#pragma once
#include "demo/phases.h"
#include "demo/pipeline.h"
#include "generate/vlm.h"

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
};
Sizes sizes_for(const DemoOptions& o);

// How the model phases load `model_dir` (with `adapter_dir` when given): the demo's threads and device.
generate::ModelOptions model_options(const DemoOptions& o, const std::string& model_dir,
                                     const std::string& adapter_dir = "");

// `seva eval` of a model (and adapter) on the world's three benchmarks into `out`.
std::vector<std::string> eval_command(const DemoOptions& o, const Sizes& sz, const std::string& world,
                                      const std::string& model, const std::string& adapter, const std::string& out);
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
