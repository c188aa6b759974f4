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
  cmd->add_option("--train", o->train, "parts that train, comma-separated: vision, projector, language")
      ->delimiter(',')->check(CLI::IsMember({"vision", "projector", "language"}))->capture_default_str();
  cmd->add_flag("--lora", o->lora, "LoRA on the language model (and the projector with --lora-targets) instead of training it fully (writes a PEFT adapter)");
  cmd->add_option("--weight-decay", o->weight_decay, "AdamW weight decay (weight matrices only)")->capture_default_str();
  cmd->add_option("--adam-beta2", o->adam_beta2, "AdamW beta2")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  add_loop_options(*cmd, o->loop, "entries", "run directory (metrics.jsonl, checkpoint/, model/ or adapter/)");
  add_lora_options(*cmd, o->lora_config);
  cmd->add_flag("--gradient-checkpointing", o->gradient_checkpointing,
                "recompute each decoder layer in backward instead of storing its activations (less memory, ~1/3 more compute)");
  cmd->add_flag("--bf16", o->bf16,
                "mixed precision: base weights in bfloat16; LoRA weights and float32 master copies of trained weights "
                "updated by AdamW in float32; the loss in float32");
  return [o] {
    auto steps = train::train_sft(*o);
    std::cerr << "seva sft: " << steps << " steps; " << (o->lora ? "adapter" : "model") << " in " << o->loop.out << "/"
              << (o->lora ? "adapter" : "model") << "\n";
    return 0;
  };
}

}  // namespace seva::cli
