// `seva`: self-supervised visual preference alignment for LLaVA-style models.
#include "cli/commands.h"
#include "io/omp_env.h"

#include <c10/util/Exception.h>

#include <iostream>
#include <malloc.h>
#include <map>

int main(int argc, char** argv) {
  seva::io::ensure_passive_openmp(argv);
  // Keep freed memory for reuse: glibc otherwise returns it to the kernel and faults in (and
  // zeroes) fresh pages for the next tensor of that size (profiled: ~12% of a DPO step on 2 cores).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  CLI::App app{"seva: align LLaVA-style vision-language models with their own preferences (SeVa)"};
  app.require_subcommand(1);
  std::map<std::string, seva::cli::Action> actions;
  auto add = [&](seva::cli::Action (*reg)(CLI::App&)) {
    auto before = app.get_subcommands({}).size();
    auto action = reg(app);
    actions[app.get_subcommands({})[before]->get_name()] = action;
  };
  add(seva::cli::register_chat);
  add(seva::cli::register_info);
  add(seva::cli::register_eval);
  add(seva::cli::register_compare);
  add(seva::cli::register_sample);
  add(seva::cli::register_generate);
  add(seva::cli::register_pair);
  add(seva::cli::register_train);
  add(seva::cli::register_logps);
  add(seva::cli::register_merge);
  add(seva::cli::register_sft);
  add(seva::cli::register_world);
  add(seva::cli::register_launch);
  add(seva::cli::register_bench);
  add(seva::cli::register_init);
  add(seva::cli::register_demo);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto* sub : app.get_subcommands()) return actions.at(sub->get_name())();
  } catch (const c10::Error& e) {
    // libtorch's own message, without the C++ backtrace its what() carries.
    std::cerr << "seva: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "seva: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
