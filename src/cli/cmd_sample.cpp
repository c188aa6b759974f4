// `seva sample`: SeVa step 1, image-question pairs from a LLaVA-665k-style instruction file.
#include "cli/commands.h"

#include "seva/sample.h"

#include <iostream>

namespace seva::cli {

Action register_sample(CLI::App& app) {
  auto o = std::make_shared<sample::SampleOptions>();
  auto* cmd = app.add_subcommand("sample", "Sample image-question pairs from an instruction file (LLaVA-665k JSON)");
  cmd->add_option("--instructions", o->instructions, "instruction file: a JSON array of {id, image, conversations}")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--source", o->sources, "keep entries whose image path starts with this (repeatable; default: all)");
  cmd->add_option("--per-image", o->per_image, "random human questions per entry, at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--count", o->count, "image entries to sample (0 = all); up to per-image lines each")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("--out", o->out, "output JSONL: {\"id\", \"image\", \"text\"} per line")->required();
  return [o] {
    auto st = sample::run_sample(*o);
    std::cerr << "seva sample: read " << st.read << " entries; skipped " << st.no_image << " without an image, "
              << st.other_source << " from other sources, " << st.no_question << " without a question; kept " << st.kept
              << "; sampled " << st.sampled << "; wrote " << st.written << " image-question pairs to " << o->out << "\n";
    if (o->count > st.kept)
      std::cerr << "seva sample: warning: --count " << o->count << " is more than the " << st.kept << " entries kept\n";
    return 0;
  };
}

}  // namespace seva::cli
