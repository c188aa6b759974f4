// `seva pair`: SeVa step 3, preference pairs from answers on original and augmented views.
#include "cli/commands.h"

#include "seva/pairs.h"

#include <cstdio>
#include <iostream>

namespace seva::cli {
namespace {

struct PairCmdOptions {
  std::string answers, out, format = "seva";
  pairs::PairOptions pair;
};

int run_pair(const PairCmdOptions& o) {
  auto rows = pairs::read_answers(o.answers);
  auto res = pairs::make_pairs(rows, o.pair);
  pairs::write_pairs(res.pairs, o.out, o.format);
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
  auto o = std::make_shared<PairCmdOptions>();
  auto* cmd = app.add_subcommand("pair", "Build preference pairs: original answer chosen, differing augmented answers rejected");
  cmd->add_option("--answers", o->answers, "answers.jsonl written by seva generate")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "output file")->required();
  cmd->add_option("--format", o->format,
                  "seva: pairs.jsonl with every rejected answer (multi-negative); official: SeVa's JSON "
                  "[{chosen, reject, question, image_id}] with the first negative")
      ->check(CLI::IsMember({"seva", "official"}))
      ->capture_default_str();
  cmd->add_option("--view", o->pair.views, "augmented views to use as negatives, in order (repeatable; default: all)");
  cmd->add_option("--max-pairs", o->pair.max_pairs, "keep a random subset of at most N pairs (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->pair.seed, "random seed for --max-pairs")->capture_default_str();
  cmd->add_option("--min-chosen-prob", o->pair.min_chosen_prob,
                  "drop pairs whose chosen (original-image) answer has probability below P under the model (0 = keep all)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--max-chosen-prob", o->pair.max_chosen_prob,
                  "drop pairs whose chosen answer has probability above P: the model is already sure of it (1 = keep all)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--balance", o->pair.balance,
                  "balance the answers: an answer may be rejected in at most R times as many pairs as it is chosen "
                  "in; excess negatives are dropped at random (0 = off). Recurring rejected answers are what the "
                  "augmentation makes the model say (\"no\" under noise), and DPO on them shifts its prior")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--balance-min", o->pair.balance_min, "with --balance: an answer rejected in at most N pairs is never capped")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [o] { return run_pair(*o); };
}

}  // namespace seva::cli
