// `seva pair`: SeVa step 3, preference pairs from answers on original and augmented views.
#include "cli/cli_flags.h"
#include "cli/commands.h"

#include "method/flags.h"

#include <cstdio>
#include <iostream>

namespace seva::cli {
namespace {

int run_pair(const method::PairCommandOptions& o) {
  auto rows = method::read_answers(o.answers);
  auto res = method::make_pairs(rows, o.pair);
  train::write_pairs(res.pairs, o.out, o.format);
  std::cerr << "seva pair: " << rows.size() << " answers, " << res.items << " questions with an original answer";
  if (res.no_original) std::cerr << " (" << res.no_original << " ids without one skipped)";
  std::cerr << "\n";
  for (const auto& v : res.per_view) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f%%", v.items ? 100.0 * v.differ / v.items : 0.0);
    std::cerr << "  " << v.view << ": " << v.differ << " of " << v.items << " answers differ from the original (" << buf
              << " survive)\n";
    if (v.items == 0) std::cerr << "  warning: no answers on view '" << v.view << "' in " << o.answers << "\n";
  }
  if (o.pair.min_chosen_prob > 0)
    std::cerr << "seva pair: " << res.low_confidence << " pairs dropped: chosen answer's probability below "
              << o.pair.min_chosen_prob << "\n";
  if (o.pair.max_chosen_prob < 1)
    std::cerr << "seva pair: " << res.high_confidence << " pairs dropped: chosen answer's probability above "
              << o.pair.max_chosen_prob << "\n";
  if (o.pair.balance > 0)
    std::cerr << "seva pair: balance " << o.pair.balance << ": " << res.unbalanced_negatives
              << " negatives of over-rejected answers dropped, " << res.unbalanced << " pairs left with none\n";
  std::cerr << "seva pair: " << res.filtered << " pairs kept";
  if (static_cast<int64_t>(res.pairs.size()) != res.filtered) std::cerr << ", " << res.pairs.size() << " after --max-pairs";
  std::cerr << "; wrote " << o.out << " (" << o.format << ")\n";
  return 0;
}

}  // namespace

Action register_pair(CLI::App& app) {
  auto o = std::make_shared<method::PairCommandOptions>();
  auto* cmd = app.add_subcommand("pair", "Build preference pairs: original answer chosen, differing augmented answers rejected");
  add_flags(*cmd, method::pair_flags, *o);
  return [o] { return run_pair(*o); };
}

}  // namespace seva::cli
