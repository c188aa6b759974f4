// `seva generate`: SeVa step 2, answers on the original image and on augmented views.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "dist/dist.h"
#include "aug/augment.h"
#include "method/flags.h"
#include "method/generate_views.h"

#include <iostream>

namespace seva::cli {
namespace {

int run_generate_cmd(method::GenerateCommandOptions o) {
  if (o.gen.augs.empty()) o.gen.augs = {"diffusion:500"};
  for (const auto& a : o.gen.augs) aug::parse_spec(a);  // refuse a bad spec before loading the model
  o.model.device = dist::local_device(o.model.device);  // torchrun / seva launch: one GPU per process
  dist::init(o.model.device);
  auto vlm = generate::Vlm::load(o.model);
  auto s = method::run_generate(vlm, o.gen, std::cerr);
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
  auto o = std::make_shared<method::GenerateCommandOptions>();
  auto* cmd = app.add_subcommand("generate", "Answer each question on the original image and on augmented views");
  add_flags(*cmd, method::generate_flags, *o);
  return [o] { return run_generate_cmd(*o); };
}

}  // namespace seva::cli
