// `seva world`: write the synthetic visual world (images, SFT sets, pool, benchmarks) to a directory.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "synth/flags.h"

#include <iostream>

namespace seva::cli {

Action register_world(CLI::App& app) {
  auto c = std::make_shared<synth::WorldCommandOptions>();
  auto* cmd = app.add_subcommand("world", "Write the synthetic visual world: images, SFT data, pool, POPE/MMBench/VQA, descriptions (CHAIR)");
  add_flags(*cmd, synth::world_flags, *c);
  return [c] {
    synth::WorldOptions& o = c->world;
    if (c->quick) {
      o.train = (o.train + 9) / 10;
      o.pool = (o.pool + 9) / 10;
      o.bench = (o.bench + 9) / 10;
      o.describe = (o.describe + 9) / 10;
    }
    auto m = synth::write_world(o);
    if (!o.quiet)
      std::cerr << "seva world: wrote " << o.out << " (seed " << o.seed << "): " << m["splits"]["train"] << " train, "
                << m["splits"]["pool"] << " pool, " << m["splits"]["bench"] << " bench images; "
                << m["counts"]["pool_questions"] << " pool questions; " << m["counts"]["pope"] << " POPE, "
                << m["counts"]["mmbench"] << " MMBench, " << m["counts"]["vqa"] << " VQA questions, "
                << (m.contains("chair") ? m["chair"]["images"].get<int64_t>() : 0) << " images to describe in "
                << m["seconds"]["total"].get<double>() << " s\n";
    return 0;
  };
}

}  // namespace seva::cli
