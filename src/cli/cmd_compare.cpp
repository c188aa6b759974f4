// `seva compare`: several eval runs side by side (e.g. base vs SeVa), deltas against the first,
// as Markdown and an SVG bar chart.
#include "cli/commands.h"

#include "eval/bar_chart.h"
#include "eval/compare.h"
#include "io/files.h"

#include <filesystem>
#include <iostream>

namespace seva::cli {
namespace {

struct CompareOptions {
  std::vector<std::string> runs;   // `seva eval --out` directories (or their metrics.json)
  std::vector<std::string> names;  // one per run; default: the directory names
  std::string out;                 // writes comparison.md and comparison.svg there
};

int run_compare(const CompareOptions& o) {
  if (!o.names.empty() && o.names.size() != o.runs.size())
    throw std::runtime_error("--names gives " + std::to_string(o.names.size()) + " names for " +
                             std::to_string(o.runs.size()) + " runs");
  std::vector<eval::EvalRun> runs;
  for (size_t i = 0; i < o.runs.size(); ++i) runs.push_back(eval::load_eval_run(o.runs[i], o.names.empty() ? "" : o.names[i]));
  std::string md = eval::compare_markdown(runs);
  std::cout << md;
  if (!o.out.empty()) {
    std::filesystem::create_directories(o.out);
    io::write_file_atomic(io::join_path(o.out, "comparison.md"), md);
    io::write_file_atomic(io::join_path(o.out, "comparison.svg"), eval::compare_svg(runs));
    std::cerr << "seva compare: wrote " << io::join_path(o.out, "comparison.md") << " and "
              << io::join_path(o.out, "comparison.svg") << "\n";
  }
  return 0;
}

}  // namespace

Action register_compare(CLI::App& app) {
  auto opts = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand("compare", "Compare eval runs side by side: Markdown table with deltas, SVG chart");
  cmd->add_option("runs", opts->runs, "eval run directories (seva eval --out), the first is the baseline")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--names", opts->names, "a name per run (default: the directory names)")->delimiter(',');
  cmd->add_option("--out", opts->out, "directory for comparison.md and comparison.svg");
  return [opts] { return run_compare(*opts); };
}

}  // namespace seva::cli
