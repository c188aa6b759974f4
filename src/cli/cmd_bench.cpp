// `seva bench`: speed against the machine's limits and against the official algorithm, one run.
#include "bench/bench.h"
#include "cli/commands.h"

namespace seva::cli {

Action register_bench(CLI::App& app) {
  auto o = std::make_shared<bench::BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark a random LLaVA-, Qwen2-VL- or Qwen2.5-VL-shaped model: GEMM and memory bandwidth, prefill/decode/generate at batch 1 and 16, "
      "the DPO step against the official algorithm, multi-negative packing, peak memory");
  cmd->add_option("--size", o->size, "model and workload: tiny (seconds), small (a 2-core CPU), 7b (a GPU)")
      ->check(CLI::IsMember({"tiny", "small", "7b"}))
      ->capture_default_str();
  cmd->add_option("--family", o->family,
                  "model family: llava, qwen2-vl or qwen2.5-vl (Qwen: images of a realistic mix of sizes)")
      ->check(CLI::IsMember({"llava", "qwen2-vl", "qwen2.5-vl"}))
      ->capture_default_str();
  cmd->add_option("--json", o->json_path, "also write the report as JSON to this file");
  cmd->add_option("--profile", o->profile_dir,
                  "write per-op traces (chrome://tracing format) of one DPO step (ours) and of the decode steps at\n"
                  "batch 1 and 16: DIR/dpo_step.trace.json, DIR/decode_b1.trace.json, DIR/decode_b16.trace.json");
  cmd->add_option("--threads", o->threads, "CPU threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "auto (float32 on CPU, bfloat16 on CUDA), float32, float16, bfloat16")
      ->check(CLI::IsMember({"auto", "float32", "float16", "bfloat16", "fp32", "fp16", "bf16"}))
      ->capture_default_str();
  cmd->add_flag("--skip-generation", o->skip_generation, "only the machine and the DPO step");
  cmd->add_flag("--skip-dpo", o->skip_dpo, "only the machine and generation");
  return [o] { return bench::run_bench(*o); };
}

}  // namespace seva::cli
