// `seva generate`: SeVa step 2, answers on the original image and on augmented views.
#include "cli/commands.h"

#include "dist/dist.h"
#include "seva/augment.h"
#include "seva/generate_views.h"

#include <iostream>

namespace seva::cli {
namespace {

struct GenerateCmdOptions {
  generate::ModelOptions model;
  views::GenerateOptions gen;
};

int run_generate_cmd(GenerateCmdOptions o) {
  if (o.gen.augs.empty()) o.gen.augs = {"diffusion:500"};
  for (const auto& a : o.gen.augs) aug::parse_spec(a);  // refuse a bad spec before loading the model
  o.model.device = dist::local_device(o.model.device);  // torchrun / seva launch: one GPU per process
  dist::init(o.model.device);
  auto vlm = generate::Vlm::load(o.model);
  auto s = views::run_generate(vlm, o.gen, std::cerr);
  if (!dist::is_main()) return 0;  // rank 0 reports the totals
  std::cerr << "seva generate: " << s.items << " questions × " << (o.gen.augs.size() + 1) << " views; "
            << s.answered_items << " answered now, " << s.already_done << " done before, " << s.skipped
            << " skipped (missing or unreadable image";
  if (s.skipped) std::cerr << ", see " << o.gen.out_dir << "/skipped.jsonl";
  std::cerr << "); " << s.written << " answers written";
  if (s.seconds > 0)
    std::cerr << "; generation " << s.seconds << " s, " << (s.rows / s.seconds) << " answers/s, " << (s.tokens / s.seconds)
              << " tokens/s";
  std::cerr << "\n";
  return 0;
}

}  // namespace

Action register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateCmdOptions>();
  auto* cmd = app.add_subcommand("generate", "Answer each question on the original image and on augmented views");
  add_model_options(*cmd, o->model);
  add_sampling_options(*cmd, o->gen.sampling);
  cmd->add_option("--questions", o->gen.questions, "JSONL of {\"id\", \"image\", \"text\"} (seva sample's output)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--images", o->gen.images_dir, "directory the image paths are relative to")->check(CLI::ExistingDirectory);
  cmd->add_option("--aug", o->gen.augs,
                  "augmentation spec, one view each (repeatable; default diffusion:500), e.g. diffusion:800, moco, "
                  "rrcrop:0.36-0.64, flip+diffusion:300; a wrong one lists the valid specs");
  cmd->add_option("--out", o->gen.out_dir, "output directory: answers.jsonl, skipped.jsonl")->required();
  cmd->add_option("--batch-size", o->gen.batch_size, "questions per batch (each brings one row per view)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--strict", o->gen.strict, "stop at a missing or unreadable image instead of skipping it");
  cmd->add_flag("--sequential", o->gen.sequential,
                "one row per forward pass, as the official pipeline generates (for speed comparisons)");
  return [o] { return run_generate_cmd(*o); };
}

}  // namespace seva::cli
