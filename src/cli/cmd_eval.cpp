// `seva eval`: answer POPE, MMBench and VQA benchmark files with a model (batched, resumable) and
// score them, or score an existing answers file without a model (--answers). The runner is
// eval/runner.h, its flags eval/flags.h.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "eval/flags.h"
#include "eval/runner.h"

namespace seva::cli {

Action register_eval(CLI::App& app) {
  auto opts = std::make_shared<eval::EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval", "Answer and score benchmark files (POPE, MMBench, VQA), or score an existing answers file");
  add_flags(*cmd, eval::eval_flags, *opts);
  return [opts] { return eval::run_eval(*opts); };
}

}  // namespace seva::cli
