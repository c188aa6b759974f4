#include "method/flags.h"

#include "generate/flags.h"

namespace seva::method {

using util::Flag;

void sample_flags(util::Flags& f, SampleOptions& o) {
  f.add(Flag("--instructions", "instruction file: a JSON array of {id, image, conversations}").require().existing_file(),
        o.instructions);
  f.add(Flag("--source", "keep entries whose image path starts with this (repeatable; default: all)").hide_default(),
        o.sources);
  f.add(Flag("--per-image", "random human questions per entry, at most").positive(), o.per_image);
  f.add(Flag("--count", "image entries to sample (0 = all); up to per-image lines each").non_negative(), o.count);
  f.add(Flag("--seed", "random seed"), o.seed);
  f.add(Flag("--out", "output JSONL: {\"id\", \"image\", \"text\"} per line").require(), o.out);
}

void generate_flags(util::Flags& f, GenerateCommandOptions& o) {
  generate::model_flags(f, o.model);
  generate::sampling_flags(f, o.gen.sampling);
  f.add(Flag("--questions", "JSONL of {\"id\", \"image\", \"text\"} (seva sample's output)").require().existing_file(),
        o.gen.questions);
  f.add(Flag("--images", "directory the image paths are relative to").existing_dir(), o.gen.images_dir);
  f.add(Flag("--aug",
             "augmentation spec, one view each (repeatable; default diffusion:500), e.g. diffusion:800, moco, "
             "rrcrop:0.36-0.64, flip+diffusion:300; a wrong one lists the valid specs")
            .hide_default(),
        o.gen.augs);
  f.add(Flag("--out", "output directory: answers.jsonl, skipped.jsonl").require(), o.gen.out_dir);
  f.add(Flag("--batch-size", "questions per batch (each brings one row per view)").positive(), o.gen.batch_size);
  f.add(Flag("--strict", "stop at a missing or unreadable image instead of skipping it"), o.gen.strict);
  f.add(Flag("--sequential", "one row per forward pass, as the official pipeline generates (for speed comparisons)"),
        o.gen.sequential);
}

void pair_flags(util::Flags& f, PairCommandOptions& o) {
  f.add(Flag("--answers", "answers.jsonl written by seva generate").require().existing_file(), o.answers);
  f.add(Flag("--out", "output file").require(), o.out);
  f.add(Flag("--format",
             "seva: pairs.jsonl with every rejected answer (multi-negative); official: SeVa's JSON "
             "[{chosen, reject, question, image_id}] with the first negative")
            .one_of({"seva", "official"}),
        o.format);
  f.add(Flag("--view", "augmented views to use as negatives, in order (repeatable; default: all)").hide_default(),
        o.pair.views);
  f.add(Flag("--max-pairs", "keep a random subset of at most N pairs (0 = all)").non_negative(), o.pair.max_pairs);
  f.add(Flag("--seed", "random seed for --max-pairs"), o.pair.seed);
  f.add(Flag("--min-chosen-prob",
             "drop pairs whose chosen (original-image) answer has probability below P under the model (0 = keep all)")
            .range(0.0, 1.0),
        o.pair.min_chosen_prob);
  f.add(Flag("--max-chosen-prob",
             "drop pairs whose chosen answer has probability above P: the model is already sure of it (1 = keep all)")
            .range(0.0, 1.0),
        o.pair.max_chosen_prob);
  f.add(Flag("--balance",
             "balance the answers: an answer may be rejected in at most R times as many pairs as it is chosen "
             "in; excess negatives are dropped at random (0 = off). Recurring rejected answers are what the "
             "augmentation makes the model say (\"no\" under noise), and DPO on them shifts its prior")
            .non_negative(),
        o.pair.balance);
  f.add(Flag("--balance-min", "with --balance: an answer rejected in at most N pairs is never capped").non_negative(),
        o.pair.balance_min);
}

}  // namespace seva::method
