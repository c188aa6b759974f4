#include "generate/flags.h"

namespace seva::generate {

using util::Flag;

void model_flags(util::Flags& f, ModelOptions& o, bool model_required) {
  Flag model("--model", "Hugging Face checkpoint directory: LLaVA-1.5, Qwen2-VL or Qwen2.5-VL (config.json, *.safetensors, tokenizer)");
  if (model_required) model.require();
  f.add(model.existing_dir(), o.model_dir);
  f.add(Flag("--adapter", "PEFT LoRA adapter directory applied on top of --model").existing_dir(), o.adapter_dir);
  f.add(Flag("--image-aspect",
             "auto: the family's own (pad for LLaVA, none for Qwen2-VL); pad: expand to a square with "
             "the mean colour first, as LLaVA-1.5 was trained; none: the plain processor, as Hugging Face's")
            .one_of({"auto", "pad", "none"}),
        o.image_aspect);
  f.add(Flag("--threads", "CPU threads (0 = all cores)"), o.threads);
  f.add(Flag("--device", "cpu, cuda or cuda:N"), o.device);
  f.add(Flag("--dtype", "auto (float32 on CPU, bfloat16 on CUDA), float32, float16, bfloat16")
            .one_of({"auto", "float32", "float16", "bfloat16", "fp32", "fp16", "bf16"}),
        o.dtype);
}

void sampling_flags(util::Flags& f, SamplingOptions& o) {
  f.add(Flag("--max-new-tokens", "most tokens to generate per answer").non_negative(), o.max_new_tokens);
  f.add(Flag("--temperature", "0 = greedy; > 0 samples").non_negative(), o.temperature);
  f.add(Flag("--top-p", "nucleus sampling mass (with --temperature > 0)").range(0.0, 1.0), o.top_p);
  f.add(Flag("--seed", "random seed for sampling"), o.seed);
  f.add(Flag("--decode",
             "how the steps after the prefill run: dynamic (finished rows leave the batch); static (fixed "
             "shapes); cuda-graph (static, captured once as a CUDA graph and replayed: CUDA builds)")
            .one_of({"dynamic", "static", "cuda-graph"}),
        util::enum_value(o.decode, decode_mode_name, parse_decode_mode));
}

}  // namespace seva::generate
