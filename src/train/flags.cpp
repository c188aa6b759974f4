#include "train/flags.h"

#include "generate/flags.h"

namespace seva::train {

using util::Flag;

void loop_flags(util::Flags& f, LoopOptions& o, const std::string& unit, const std::string& out_help) {
  f.add(Flag("--out", out_help).require(), o.out);
  f.add(Flag("--lr", "peak learning rate"), o.lr);
  f.add(Flag("--warmup-ratio", "linear warm-up share of the cosine schedule"), o.warmup_ratio);
  f.add(Flag("--warmup-steps", "linear warm-up steps (overrides --warmup-ratio)").hide_default(), o.warmup_steps);
  f.add(Flag("--min-lr-ratio", "the cosine decays to this share of --lr").range(0.0, 1.0), o.min_lr_ratio);
  f.add(Flag("--max-grad-norm", "gradient-norm clip"), o.max_grad_norm);
  f.add(Flag("--batch-size", "global batch: " + unit + " per optimizer step").positive(), o.batch_size);
  f.add(Flag("--micro-batch-size", unit + " per forward/backward (accumulated; at most the batch)").positive(),
        o.micro_batch_size);
  f.add(Flag("--epochs", "epochs").positive(), o.epochs);
  f.add(Flag("--repeat", "copies of the data per epoch (the official SeVa run uses 2)").positive(), o.repeat);
  f.add(Flag("--max-steps", "stop after N optimizer steps (-1: all)"), o.max_steps);
  f.add(Flag("--save-every", "checkpoint every N steps (0: at the end)"), o.save_every);
  f.add(Flag("--seed", "seed for LoRA init, data order and dropout"), o.seed);
  f.add(Flag("--resume", "continue the run in --out from its last checkpoint (its settings must be the same)"), o.resume);
}

void lora_flags(util::Flags& f, model::LoraConfig& o) {
  f.add(Flag("--lora-r", "LoRA rank"), o.r);
  f.add(Flag("--lora-alpha", "LoRA alpha (scaling = alpha / r)"), o.alpha);
  f.add(Flag("--lora-dropout", "LoRA dropout"), o.dropout);
  f.add(Flag("--lora-targets",
             "comma-separated module names that get adapters (PEFT's target_modules): the decoder's "
             "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj and the projector's linear_1,linear_2")
            .split_on(',')
            .one_of({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "linear_1", "linear_2"}),
        o.target_modules);
}

void train_flags(util::Flags& f, TrainOptions& o) {
  generate::model_flags(f, o.model);
  f.add(Flag("--pairs", "pairs file: seva pairs.jsonl or the official SeVa JSON").require().existing_file(), o.pairs);
  f.add(Flag("--images", "directory the pairs' image names are relative to").require(), o.images);
  f.add(Flag("--loss", "sigmoid, ipo, hinge, robust or multi (several rejected answers)")
            .one_of({"sigmoid", "ipo", "hinge", "robust", "multi"}),
        util::enum_value(o.loss.type, loss_name, parse_loss));
  f.add(Flag("--beta", "DPO beta"), o.loss.beta);
  f.add(Flag("--label-smoothing", "for sigmoid/robust"), o.loss.label_smoothing);
  f.add(Flag("--nll", "weight of an NLL term on the chosen answer (per-token mean)").non_negative(), o.loss.nll_weight);
  f.add(Flag("--weight-decay", "AdamW weight decay"), o.weight_decay);
  loop_flags(f, o.loop, "pairs", "run directory (metrics.jsonl, checkpoint/, adapter/)");
  lora_flags(f, o.lora);
  f.add(Flag("--gradient-checkpointing",
             "recompute each decoder layer in backward instead of storing its activations (less memory, ~1/3 more compute)"),
        o.gradient_checkpointing);
  f.add(Flag("--bf16",
             "mixed precision: base weights in bfloat16, LoRA weights, gradients, AdamW state and the loss in float32"),
        o.bf16);
}

void sft_flags(util::Flags& f, SftOptions& o) {
  generate::model_flags(f, o.model);
  f.add(Flag("--data",
             "LLaVA-665k-form JSON: [{id, image, conversations}]; several files (or --data again) are one "
             "shuffled mixture")
            .require()
            .existing_file()
            .hide_default(),
        o.data);
  f.add(Flag("--images", "directory the entries' image paths are relative to").require(), o.images);
  f.add(Flag("--train", "parts that train, comma-separated: vision, projector, language")
            .split_on(',')
            .one_of({"vision", "projector", "language"}),
        o.train);
  f.add(Flag("--lora",
             "LoRA on the language model (and the projector with --lora-targets) instead of training it fully "
             "(writes a PEFT adapter)"),
        o.lora);
  f.add(Flag("--weight-decay", "AdamW weight decay (weight matrices only)"), o.weight_decay);
  f.add(Flag("--adam-beta2", "AdamW beta2").range(0.0, 1.0), o.adam_beta2);
  loop_flags(f, o.loop, "entries", "run directory (metrics.jsonl, checkpoint/, model/ or adapter/)");
  lora_flags(f, o.lora_config);
  f.add(Flag("--gradient-checkpointing",
             "recompute each decoder layer in backward instead of storing its activations (less memory, ~1/3 more compute)"),
        o.gradient_checkpointing);
  f.add(Flag("--bf16",
             "mixed precision: base weights in bfloat16; LoRA weights and float32 master copies of trained weights "
             "updated by AdamW in float32; the loss in float32"),
        o.bf16);
}

void init_flags(util::Flags& f, InitOptions& o) {
  f.add(Flag("--corpus", "text file (one sentence per line) to train the tokenizer on").require().existing_file(),
        o.model.corpus);
  f.add(Flag("--out", "checkpoint directory to write").require(), o.model.out);
  f.add(Flag("--config", "a llava-hf config.json giving the architecture (default: the tiny-world preset, ~1M parameters)")
            .existing_file(),
        o.config);
  f.add(Flag("--vocab-size", "sentencepiece pieces at most"), o.model.vocab_size);
  f.add(Flag("--seed", "seed of the weight initialisation"), o.model.seed);
  f.add(Flag("--system-prompt",
             "text before the first USER: of every prompt, kept in seva.json (default none, as llava-hf's chat format)"),
        o.model.system_prompt);
}

}  // namespace seva::train
