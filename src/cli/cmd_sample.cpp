// `seva sample`: SeVa step 1, image-question pairs from a LLaVA-665k-style instruction file.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "method/flags.h"

#include <iostream>

namespace seva::cli {

Action register_sample(CLI::App& app) {
  auto o = std::make_shared<method::SampleOptions>();
  auto* cmd = app.add_subcommand("sample", "Sample image-question pairs from an instruction file (LLaVA-665k JSON)");
  add_flags(*cmd, method::sample_flags, *o);
  return [o] {
    auto st = method::run_sample(*o);
    std::cerr << "seva sample: read " << st.read << " entries; skipped " << st.no_image << " without an image, "
              << st.other_source << " from other sources, " << st.no_question << " without a question; kept " << st.kept
              << "; sampled " << st.sampled << "; wrote " << st.written << " image-question pairs to " << o->out << "\n";
    if (o->count > st.kept)
      std::cerr << "seva sample: warning: --count " << o->count << " is more than the " << st.kept << " entries kept\n";
    return 0;
  };
}

}  // namespace seva::cli
