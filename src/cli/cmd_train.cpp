// `seva train`: DPO with LoRA on preference pairs (the paper's defaults; every one a flag).
#include "cli/commands.h"

#include "train/trainer.h"

#include <iostream>

namespace seva::cli {

Action register_train(CLI::App& app) {
  auto o = std::make_shared<train::TrainOptions>();
  auto loss = std::make_shared<std::string>("sigmoid");
  auto* cmd = app.add_subcommand("train", "Train a LoRA adapter with DPO on preference pairs");
  add_model_options(*cmd, o->model);
  cmd->add_option("--pairs", o->pairs, "pairs file: seva pairs.jsonl or the official SeVa JSON")->required()->check(CLI::ExistingFile);
  cmd->add_option("--images", o->images, "directory the pairs' image names are relative to")->required();
  cmd->add_option("--loss", *loss, "sigmoid, ipo, hinge, robust or multi (several rejected answers)")
      ->check(CLI::IsMember({"sigmoid", "ipo", "hinge", "robust", "multi"}))->capture_default_str();
  cmd->add_option("--beta", o->loss.beta, "DPO beta")->capture_default_str();
  cmd->add_option("--label-smoothing", o->loss.label_smoothing, "for sigmoid/robust")->capture_default_str();
  cmd->add_option("--nll", o->loss.nll_weight, "weight of an NLL term on the chosen answer (per-token mean)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "AdamW weight decay")->capture_default_str();
  add_loop_options(*cmd, o->loop, "pairs", "run directory (metrics.jsonl, checkpoint/, adapter/)");
  add_lora_options(*cmd, o->lora);
  cmd->add_flag("--gradient-checkpointing", o->gradient_checkpointing,
                "recompute each decoder layer in backward instead of storing its activations (less memory, ~1/3 more compute)");
  cmd->add_flag("--bf16", o->bf16,
                "mixed precision: base weights in bfloat16, LoRA weights, gradients, AdamW state and the loss in float32");
  return [o, loss] {
    o->loss.type = train::parse_loss(*loss);
    auto steps = train::train_dpo(*o);
    std::cerr << "seva train: " << steps << " steps; adapter in " << o->loop.out << "/adapter\n";
    return 0;
  };
}

}  // namespace seva::cli
