#include "synth/flags.h"

namespace seva::synth {

using util::Flag;

void world_flags(util::Flags& f, WorldCommandOptions& c) {
  WorldOptions& o = c.world;
  f.add(Flag("--out", "world directory (created; a previous world there is replaced)").require(), o.out);
  f.add(Flag("--seed", "random seed: the same seed gives the same bytes"), o.seed);
  f.add(Flag("--train", "training images (SFT stage 1 and 2)").non_negative(), o.train);
  f.add(Flag("--pool", "unlabeled pool images").non_negative(), o.pool);
  f.add(Flag("--bench", "benchmark images: one POPE, one MMBench and one VQA question each").non_negative(), o.bench);
  f.add(Flag("--describe",
             "bench images in the description benchmark (chair/: COCO instances and captions for CHAIR; "
             "0 = none; cut to --bench when larger)")
            .non_negative(),
        o.describe);
  f.add(Flag("--pool-questions-per-image", "questions per pool image (distinct families)").range(1, 7),
        o.pool_questions_per_image);
  f.add(Flag("--pool-family",
             "families asked in the pool (repeatable: color, count, position, exist, text, choice, caption = "
             "\"Describe the image.\"; default all seven)")
            .hide_default(),
        o.pool_families);
  f.add(Flag("--threads", "writer threads").positive(), o.threads);
  f.add(Flag("--quick", "every count divided by 10 (for CI)"), c.quick);
  f.add(Flag("--quiet", "no progress lines"), o.quiet);
}

}  // namespace seva::synth
