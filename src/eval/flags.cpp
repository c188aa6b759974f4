#include "eval/flags.h"

#include "generate/flags.h"

namespace seva::eval {

using util::Flag;

void eval_flags(util::Flags& f, EvalOptions& o) {
  generate::model_flags(f, o.model, /*model_required=*/false);  // not with --answers
  generate::sampling_flags(f, o.sampling);
  f.add(Flag("--pope", "POPE question file (JSONL: question_id, image, text, label, category)").existing_file(), o.pope);
  f.add(Flag("--mmbench", "MMBench TSV (index, question, hint, A-D, answer, category, base64 image)").existing_file(),
        o.mmbench);
  f.add(Flag("--vqa", "VQA question file (JSONL: question_id, image, text, answers[, category])").existing_file(), o.vqa);
  f.add(Flag("--chair",
             "CHAIR (object hallucination in descriptions): a COCO-style annotations directory with "
             "instances_SPLIT.json and captions_SPLIT.json; the images are described and scored against their objects "
             "(descriptions are long: give --max-new-tokens 512)")
            .existing_dir(),
        o.chair);
  f.add(Flag("--chair-split", "the SPLIT in the annotation file names"), o.chair_split);
  f.add(Flag("--chair-vocabulary",
             "the object words, one object per line \"node, synonym, ...\" (default: the COCO table of Rohrbach et al.)")
            .existing_file(),
        o.chair_vocabulary);
  f.add(Flag("--chair-images", "images described: a fixed sample of this many (0 = all the annotations list)")
            .non_negative(),
        o.chair_images);
  f.add(Flag("--describe-prompt", "the question that asks for a description"), o.describe_prompt);
  f.add(Flag("--wordnet", "WordNet 3.0 dictionary directory (the lemmatizer CHAIR uses; Debian's wordnet-base)")
            .existing_dir(),
        o.wordnet);
  f.add(Flag("--images", "directory the POPE/VQA `image` fields and the CHAIR file names are relative to")
            .existing_dir(),
        o.images);
  f.add(Flag("--out",
             "run directory: BENCH/answers.jsonl (resumable), BENCH/skipped.jsonl, config.json, metrics.json, "
             "report.md"),
        o.out);
  f.add(Flag("--answers",
             "score this answers file (JSONL: question_id, text[, round_id]; for --chair also image_id, caption) "
             "without a model; needs exactly one benchmark")
            .existing_file()
            .exclude("--model"),
        o.answers);
  f.add(Flag("--suffix",
             "appended to POPE/VQA questions after a newline, e.g. "
             "\"Answer the question using a single word or phrase.\""),
        o.suffix);
  f.add(Flag("--batch-size", "answers generated together").positive(), o.batch_size);
  f.add(Flag("--single-pass", "MMBench: ask each question once (no circular rotations; circular_accuracy is then empty)"),
        o.single_pass);
  f.add(Flag("--samples",
             "robustness under sampling: answer greedily, and also K times at --temperature; metrics.json gets "
             "BENCH@T=... entries (sampled scores, their range, agreement with the greedy answers)")
            .non_negative(),
        o.samples);
  f.add(Flag("--sample-questions", "with --samples: sample the first N questions of each benchmark (0 = all)")
            .non_negative(),
        o.sample_questions);
}

}  // namespace seva::eval
