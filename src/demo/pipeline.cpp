// run_demo: the world, the base, its evaluation and grounding gate, the SeVa run (or a study's
// runs) and the report, in that order; and the pieces of the recipe every part shares.
#include "demo/pipeline.h"

#include "demo/data_transforms.h"
#include "demo/recipe.h"
#include "demo/report.h"
#include "eval/flags.h"
#include "io/files.h"
#include "seva_build_paths.h"
#include "synth/flags.h"
#include "synth/questions.h"
#include "synth/world.h"

#include <chrono>
#include <iostream>
#include <stdexcept>

namespace seva::demo {

std::string shipped_base_dir() { return io::join_path(SEVA_SOURCE_DIR, "assets/tiny-world-base"); }

Sizes sizes_for(const DemoOptions& o) {
  if (o.quick) return {3000, 400, 300, 40, 60, 10, 64, 100, 60};
  return {30000, 3000, 3000, 0, 0, 100, 64, 300, 300};
}

generate::ModelOptions model_options(const DemoOptions& o, const std::string& model_dir, const std::string& adapter_dir) {
  generate::ModelOptions m;
  m.model_dir = model_dir;
  m.adapter_dir = adapter_dir;
  m.threads = o.threads;
  m.device = o.device.empty() ? m.device : o.device;
  return m;
}

void resumable(train::LoopOptions& loop) {
  loop.save_every = kSaveEvery;
  loop.resume = true;
}

std::vector<std::vector<std::string>> eval_commands(const DemoOptions& o, const Sizes& sz, const std::string& world,
                                                   const std::string& model, const std::string& adapter,
                                                   const std::string& out) {
  eval::EvalOptions e;
  e.model = model_options(o, model, adapter);
  e.sampling.max_new_tokens = kMaxAnswerTokens;
  e.pope = io::join_path(world, synth::kPopeFile);
  e.mmbench = io::join_path(world, synth::kMmbenchFile);
  e.vqa = io::join_path(world, synth::kVqaFile);
  const std::string chair = io::join_path(world, synth::kChairDir);
  e.chair = chair;
  e.chair_split = synth::kChairSplit;
  e.chair_vocabulary = io::join_path(chair, synth::kChairObjects);
  e.chair_images = 0;
  e.describe_prompt = synth::kDescribeQuestion;
  e.images = io::join_path(world, synth::kImagesDir);
  e.out = out;
  e.batch_size = sz.eval_batch;
  std::vector<std::vector<std::string>> commands = {command("eval", eval::eval_flags, e)};
  for (double t : kTemperatures) {
    eval::EvalOptions s = e;
    s.samples = kSamples;
    s.sample_questions = sz.sample_questions;
    s.sampling.temperature = t;
    commands.push_back(command("eval", eval::eval_flags, s));
  }
  return commands;
}

std::vector<std::string> eval_vqa_command(const DemoOptions& o, const Sizes& sz, const std::string& world,
                                          const std::string& model, const std::string& vqa, const std::string& out) {
  eval::EvalOptions e;
  e.model = model_options(o, model);
  e.sampling.max_new_tokens = kMaxAnswerTokens;
  e.vqa = vqa;
  e.images = io::join_path(world, synth::kImagesDir);
  e.out = out;
  e.batch_size = sz.eval_batch;
  return command("eval", eval::eval_flags, e);
}

namespace {

using json = nlohmann::ordered_json;

// The world (its training split only when the base is trained here).
void make_world(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world) {
  synth::WorldCommandOptions w;
  w.world.out = world;
  w.world.seed = o.seed;
  w.world.train = o.from_scratch ? sz.train_images : 0;
  w.world.pool = sz.pool_images;
  w.world.bench = sz.bench_images;
  w.world.pool_questions_per_image = 2;
  w.world.describe = sz.describe_images;
  r.phase("world", "synthetic world", {command("world", synth::world_flags, w)});
}

// The base: trained here, given, or the shipped one. Returns its directory.
std::string base_model(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world) {
  if (o.from_scratch) return train_base(r, o, sz, world);
  if (!o.base.empty()) return o.base;
  const std::string base = shipped_base_dir();
  if (!io::file_exists(io::join_path(base, "config.json")))
    throw std::runtime_error("the shipped base checkpoint is missing (" + base +
                             "); give --base DIR or train one with --from-scratch");
  return base;
}

// The base on the benchmarks, and the grounding gate: the same VQA questions with every image
// swapped for another question's. A grounded model changes its answers and loses its accuracy;
// one that reads only the question does not.
void evaluate_base(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world, const std::string& base) {
  r.phase("eval-base", "evaluate the base", eval_commands(o, sz, world, base, "", io::join_path(o.out, "eval-base")));
  const std::string swapped_vqa = io::join_path(o.out, "vqa_swapped.jsonl");
  r.step("swap-data", "grounding gate: swap the images",
         [&] { write_swapped_vqa(io::join_path(world, synth::kVqaFile), swapped_vqa); });
  r.phase("eval-swapped", "grounding gate: evaluate the base on swapped images",
          {eval_vqa_command(o, sz, world, base, swapped_vqa, io::join_path(o.out, "eval-base-swapped"))});
}

// SeVa itself, once or as a study (each setting with `seeds` seeds). Returns the runs' entries.
json seva_runs(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world, const std::string& base) {
  json runs = json::array();
  if (o.base_only) return runs;
  if (o.study.empty()) {
    runs.push_back(seva_run(r, o, sz, world, base, o.seva_settings, o.seed, "seva"));
    runs.back()["setting"] = "seva";
    return runs;
  }
  for (const auto& [name, s] : study_settings(o.study, o.seva_settings))
    for (int64_t k = 0; k < o.seeds; ++k) {
      const uint64_t seed = o.seed + static_cast<uint64_t>(k);
      json run = seva_run(r, o, sz, world, base, s, seed, study_run_dir(s, seed));
      run["setting"] = name;
      runs.push_back(run);
    }
  return runs;
}

}  // namespace

void run_demo(const DemoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const Sizes sz = sizes_for(o);
  io::make_dir(o.out);
  const io::DirLock lock(o.out, "seva demo");
  Runner r(o.out, o.seva, o.echo);
  const std::string world = io::join_path(o.out, "world");
  make_world(r, o, sz, world);
  const std::string base = base_model(r, o, sz, world);
  evaluate_base(r, o, sz, world, base);
  const json runs = seva_runs(r, o, sz, world, base);

  ReportInput in;
  in.run_dir = o.out;
  in.world = world;
  in.base_model = base;
  in.study = o.study;
  in.runs = runs;
  in.phases = r.phases();
  in.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  in.quick = o.quick;
  in.seed = o.seed;
  write_report(in);
  std::cerr << "seva demo: wrote " << io::join_path(o.out, "report.md") << " (one page with its images: "
            << io::join_path(o.out, "report.html") << ") and " << io::join_path(o.out, "summary.json") << " ("
            << static_cast<int64_t>(in.seconds) << " s)\n";
}

}  // namespace seva::demo
