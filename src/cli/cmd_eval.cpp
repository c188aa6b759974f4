// `seva eval`: answer POPE, MMBench and VQA benchmark files with a model (batched, resumable) and
// score them, or score an existing answers file without a model (--answers). The runner is
// eval/runner.h; this file holds the flags.
#include "cli/commands.h"

#include "eval/runner.h"

namespace seva::cli {

Action register_eval(CLI::App& app) {
  auto opts = std::make_shared<eval::EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval", "Answer and score benchmark files (POPE, MMBench, VQA), or score an existing answers file");
  add_model_options(*cmd, opts->model);
  cmd->get_option("--model")->required(false);  // not with --answers
  add_sampling_options(*cmd, opts->sampling);
  cmd->add_option("--pope", opts->pope, "POPE question file (JSONL: question_id, image, text, label, category)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mmbench", opts->mmbench,
                  "MMBench TSV (index, question, hint, A-D, answer, category, base64 image)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--vqa", opts->vqa, "VQA question file (JSONL: question_id, image, text, answers[, category])")
      ->check(CLI::ExistingFile);
  cmd->add_option("--images", opts->images, "directory the POPE/VQA `image` fields are relative to")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", opts->out,
                  "run directory: BENCH/answers.jsonl (resumable), BENCH/skipped.jsonl, config.json, metrics.json, "
                  "report.md");
  cmd->add_option("--answers", opts->answers,
                  "score this answers file (JSONL: question_id, text[, round_id]) without a model; "
                  "needs exactly one benchmark file")
      ->check(CLI::ExistingFile)
      ->excludes("--model");
  cmd->add_option("--suffix", opts->suffix,
                  "appended to POPE/VQA questions after a newline, e.g. "
                  "\"Answer the question using a single word or phrase.\"");
  cmd->add_option("--batch-size", opts->batch_size, "answers generated together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--single-pass", opts->single_pass,
                "MMBench: ask each question once (no circular rotations; circular_accuracy is then empty)");
  return [opts] { return eval::run_eval(*opts); };
}

}  // namespace seva::cli
