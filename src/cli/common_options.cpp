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

}  // namespace seva::cli
