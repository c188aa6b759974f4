// `seva demo`: the whole SeVa method on the embedded synthetic world, with a report.
#include "cli/commands.h"

#include "demo/pipeline.h"
#include "demo/process.h"

namespace seva::cli {

Action register_demo(CLI::App& app) {
  auto o = std::make_shared<demo::DemoOptions>();
  auto* cmd = app.add_subcommand(
      "demo",
      "The whole method on the embedded synthetic world: world -> base -> eval -> sample -> generate (diffusion) -> "
      "pair -> DPO+LoRA -> eval -> report");
  cmd->add_option("--out", o->out, "run directory (report.md, summary.json, every intermediate file)")->capture_default_str();
  cmd->add_flag("--quick", o->quick, "a ~10x smaller world and run (about 2 minutes), for smoke tests");
  cmd->add_option("--seed", o->seed, "seed of the world and of the SeVa run")->capture_default_str();
  cmd->add_option("--base", o->base, "base llava-hf checkpoint (default: the shipped tiny-world base)");
  cmd->add_flag("--from-scratch", o->from_scratch,
                "train the tokenizer and the base here (seva init + eight seva sft stages, two with --quick) instead of using the shipped one");
  cmd->add_flag("--base-only", o->base_only, "stop after evaluating the base (with --from-scratch: how the shipped base is made)");
  cmd->add_option("--study", o->study,
                  "a study of the paper's claims instead of one run: aug, noise, scale, sft or multi (the paper), balance, nll or lora (ours); "
                  "studies in one --out share their common runs and each keeps report-STUDY.md");
  cmd->add_option("--seeds", o->seeds, "seeds per study setting")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads per phase (0: every core)")->capture_default_str();
  cmd->add_option("--device", o->device, "where the model phases run: cpu, cuda or cuda:N (bfloat16 there)")
      ->capture_default_str();
  auto& s = o->seva_settings;
  cmd->add_option("--aug", s.aug, "augmentation of the rejected view ('|' between several: multi-negative)")
      ->capture_default_str();
  cmd->add_option("--loss", s.loss, "DPO loss: sigmoid, ipo, hinge, robust, multi")->capture_default_str();
  cmd->add_option("--lr", s.lr, "DPO learning rate")->capture_default_str();
  cmd->add_option("--beta", s.beta, "DPO beta")->capture_default_str();
  cmd->add_option("--nll", s.nll, "weight of an NLL term on the chosen answer")->capture_default_str();
  cmd->add_option("--min-chosen-prob", s.min_chosen_prob,
                  "drop pairs whose chosen answer has probability below P (seva pair)")->capture_default_str();
  cmd->add_option("--max-chosen-prob", s.max_chosen_prob,
                  "drop pairs whose chosen answer has probability above P: already certain (seva pair; 1 = keep all)")
      ->capture_default_str();
  cmd->add_option("--balance", s.balance,
                  "balance the pairs' answers: each rejected at most R times as often as chosen (seva pair; 0 = off)")
      ->capture_default_str();
  cmd->add_option("--epochs", s.epochs, "DPO epochs")->capture_default_str();
  cmd->add_option("--batch-size", s.batch_size, "DPO pairs per step")->capture_default_str();
  cmd->add_option("--lora-r", s.lora_r, "LoRA rank")->capture_default_str();
  cmd->add_option("--lora-alpha", s.lora_alpha, "LoRA alpha")->capture_default_str();
  cmd->add_flag("--lora-projector", s.lora_projector, "LoRA on the projector's linear_1 and linear_2 too (not only the decoder)");
  return [o] {
    o->seva = demo::self_executable();
    demo::run_demo(*o);
    return 0;
  };
}

}  // namespace seva::cli
