// Options shared by the model-loading subcommands.
#include "cli/commands.h"

namespace seva::cli {

void add_model_options(CLI::App& cmd, generate::ModelOptions& opts) {
  cmd.add_option("--model", opts.model_dir, "llava-hf checkpoint directory (config.json, *.safetensors, tokenizer)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--adapter", opts.adapter_dir, "PEFT LoRA adapter directory applied on top of --model")
      ->check(CLI::ExistingDirectory);
  cmd.add_option("--image-aspect", opts.image_aspect,
                 "pad: expand to a square with the mean colour first, as LLaVA-1.5 was trained; "
                 "none: the plain CLIP processor, as Hugging Face's LlavaProcessor")
      ->check(CLI::IsMember({"pad", "none"}))
      ->capture_default_str();
  cmd.add_option("--threads", opts.threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd.add_option("--device", opts.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd.add_option("--dtype", opts.dtype, "auto (float32 on CPU, bfloat16 on CUDA), float32, float16, bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "float16", "bfloat16", "fp32", "fp16", "bf16"}))
      ->capture_default_str();
}

void add_sampling_options(CLI::App& cmd, generate::SamplingOptions& opts) {
  cmd.add_option("--max-new-tokens", opts.max_new_tokens, "most tokens to generate per answer")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--temperature", opts.temperature, "0 = greedy; > 0 samples")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--top-p", opts.top_p, "nucleus sampling mass (with --temperature > 0)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd.add_option("--seed", opts.seed, "random seed for sampling")->capture_default_str();
}

void add_lora_options(CLI::App& cmd, model::LoraConfig& cfg) {
  cmd.add_option("--lora-r", cfg.r, "LoRA rank")->capture_default_str();
  cmd.add_option("--lora-alpha", cfg.alpha, "LoRA alpha (scaling = alpha / r)")->capture_default_str();
  cmd.add_option("--lora-dropout", cfg.dropout, "LoRA dropout")->capture_default_str();
  cmd.add_option("--lora-targets", cfg.target_modules,
                 "comma-separated module names that get adapters (PEFT's target_modules): the decoder's "
                 "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj and the projector's linear_1,linear_2")
      ->delimiter(',')
      ->check(CLI::IsMember({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "linear_1", "linear_2"}))
      ->capture_default_str();
}

void add_loop_options(CLI::App& cmd, train::LoopOptions& o, const std::string& unit, const std::string& out_help) {
  cmd.add_option("--out", o.out, out_help)->required();
  cmd.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  cmd.add_option("--warmup-ratio", o.warmup_ratio, "linear warm-up share of the cosine schedule")->capture_default_str();
  cmd.add_option("--warmup-steps", o.warmup_steps, "linear warm-up steps (overrides --warmup-ratio)");
  cmd.add_option("--min-lr-ratio", o.min_lr_ratio, "the cosine decays to this share of --lr")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--max-grad-norm", o.max_grad_norm, "gradient-norm clip")->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size, "global batch: " + unit + " per optimizer step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--micro-batch-size", o.micro_batch_size,
                 unit + " per forward/backward (accumulated; at most the batch)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--epochs", o.epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd.add_option("--repeat", o.repeat, "copies of the data per epoch (the official SeVa run uses 2)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--max-steps", o.max_steps, "stop after N optimizer steps (-1: all)")->capture_default_str();
  cmd.add_option("--save-every", o.save_every, "checkpoint every N steps (0: at the end)")->capture_default_str();
  cmd.add_option("--seed", o.seed, "seed for LoRA init, data order and dropout")->capture_default_str();
  cmd.add_flag("--resume", o.resume,
               "continue the run in --out from its last checkpoint (its settings must be the same)");
}

}  // namespace seva::cli
