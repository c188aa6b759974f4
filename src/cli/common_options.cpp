// The flag groups the model-loading commands share, listed once in generate/flags.h.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "generate/flags.h"

namespace seva::cli {

void add_model_options(CLI::App& cmd, generate::ModelOptions& opts) {
  CliFlags f(cmd);
  generate::model_flags(f, opts);
}

void add_sampling_options(CLI::App& cmd, generate::SamplingOptions& opts) {
  CliFlags f(cmd);
  generate::sampling_flags(f, opts);
}

}  // namespace seva::cli
