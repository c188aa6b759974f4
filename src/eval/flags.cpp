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
  f.add(Flag("--images", "directory the POPE/VQA `image` fields are relative to").existing_dir(), o.images);
  f.add(Flag("--out",
             "run directory: BENCH/answers.jsonl (resumable), BENCH/skipped.jsonl, config.json, metrics.json, "
             "report.md"),
        o.out);
  f.add(Flag("--answers",
             "score this answers file (JSONL: question_id, text[, round_id]) without a model; "
             "needs exactly one benchmark file")
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
}

}  // namespace seva::eval
