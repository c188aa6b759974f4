// `seva world`: write the synthetic visual world (images, SFT sets, pool, benchmarks) to a directory.
#include "cli/commands.h"

#include "synth/world.h"

#include <iostream>

namespace seva::cli {

Action register_world(CLI::App& app) {
  auto o = std::make_shared<synth::WorldOptions>();
  auto quick = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("world", "Write the synthetic visual world: images, SFT data, pool, POPE/MMBench/VQA");
  cmd->add_option("--out", o->out, "world directory (created; a previous world there is replaced)")->required();
  cmd->add_option("--seed", o->seed, "random seed: the same seed gives the same bytes")->capture_default_str();
  cmd->add_option("--train", o->train, "training images (SFT stage 1 and 2)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--pool", o->pool, "unlabeled pool images")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--bench", o->bench, "benchmark images: one POPE, one MMBench and one VQA question each")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--pool-questions-per-image", o->pool_questions_per_image, "questions per pool image (distinct families)")
      ->check(CLI::Range(1, 6))
      ->capture_default_str();
  cmd->add_option("--pool-family", o->pool_families,
                  "families asked in the pool (repeatable: color, count, position, exist, text, choice; default all)");
  cmd->add_option("--threads", o->threads, "writer threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--quick", *quick, "every count divided by 10 (for CI)");
  cmd->add_flag("--quiet", o->quiet, "no progress lines");
  return [o, quick] {
    if (*quick) {
      o->train = (o->train + 9) / 10;
      o->pool = (o->pool + 9) / 10;
      o->bench = (o->bench + 9) / 10;
    }
    auto m = synth::write_world(*o);
    if (!o->quiet)
      std::cerr << "seva world: wrote " << o->out << " (seed " << o->seed << "): " << m["splits"]["train"] << " train, "
                << m["splits"]["pool"] << " pool, " << m["splits"]["bench"] << " bench images; "
                << m["counts"]["pool_questions"] << " pool questions; " << m["counts"]["pope"] << " POPE, "
                << m["counts"]["mmbench"] << " MMBench, " << m["counts"]["vqa"] << " VQA questions in "
                << m["seconds"]["total"].get<double>() << " s\n";
    return 0;
  };
}

}  // namespace seva::cli
