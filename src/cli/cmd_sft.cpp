// `seva sft`: supervised fine-tuning on LLaVA-665k-form data (assistant turns only), training
// any subset of vision tower, projector and language model (full, or LoRA on the language model).
#include "cli/commands.h"

#include "train/sft.h"

#include <iostream>

namespace seva::cli {

Action register_sft(CLI::App& app) {
  auto o = std::make_shared<train::SftOptions>();
  auto* cmd = app.add_subcommand("sft", "Supervised fine-tuning on LLaVA-665k-form conversations");
  add_model_options(*cmd, o->model);
  cmd->add_option("--data", o->data,
                  "LLaVA-665k-form JSON: [{id, image, conversations}]; several files (or --data again) are one "
                  "shuffled mixture")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--images", o->images, "directory the entries' image paths are relative to")->required();
  cmd->add_option("--out", o->out, "run directory (metrics.jsonl, checkpoint/, model/ or adapter/)")->required();
  cmd->add_option("--train", o->train, "parts that train, comma-separated: vision, projector, language")
      ->delimiter(',')->check(CLI::IsMember({"vision", "projector", "language"}))->capture_default_str();
  cmd->add_flag("--lora", o->lora, "LoRA on the language model (and the projector with --lora-targets) instead of training it fully (writes a PEFT adapter)");
  cmd->add_option("--lr", o->lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--warmup-ratio", o->warmup_ratio, "linear warm-up share of the cosine schedule")->capture_default_str();
  cmd->add_option("--warmup-steps", o->warmup_steps, "linear warm-up steps (overrides --warmup-ratio)");
  cmd->add_option("--min-lr-ratio", o->min_lr_ratio, "the cosine decays to this share of --lr")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--adam-beta2", o->adam_beta2, "AdamW beta2")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-grad-norm", o->max_grad_norm, "gradient-norm clip")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "global batch: entries per optimizer step")->capture_default_str();
  cmd->add_option("--micro-batch-size", o->micro_batch_size, "entries per forward/backward (accumulated)")->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "epochs")->capture_default_str();
  cmd->add_option("--max-steps", o->max_steps, "stop after N optimizer steps (-1: all)")->capture_default_str();
  cmd->add_option("--save-every", o->save_every, "checkpoint every N steps (0: at the end)")->capture_default_str();
  add_lora_options(*cmd, o->lora_config);
  cmd->add_option("--seed", o->seed, "seed for LoRA init, data order and dropout")->capture_default_str();
  cmd->add_flag("--resume", o->resume, "continue the run in --out from its last checkpoint");
  cmd->add_flag("--gradient-checkpointing", o->gradient_checkpointing,
                "recompute each decoder layer in backward instead of storing its activations (less memory, ~1/3 more compute)");
  cmd->add_flag("--bf16", o->bf16,
                "mixed precision: base weights in bfloat16; LoRA weights and float32 master copies of trained weights "
                "updated by AdamW in float32; the loss in float32");
  return [o] {
    auto steps = train::train_sft(*o);
    std::cerr << "seva sft: " << steps << " steps; " << (o->lora ? "adapter" : "model") << " in " << o->out << "/"
              << (o->lora ? "adapter" : "model") << "\n";
    return 0;
  };
}

}  // namespace seva::cli
