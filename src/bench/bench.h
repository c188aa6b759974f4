// `seva bench`: one run that measures the machine's limits (GEMM throughput at the model's
// shapes, memory bandwidth), generation (prefill, decode, batch 1 against the batch `seva generate`
// uses) and the DPO step (ours against the official algorithm, and multi-negative packing) on a
// random model of the chosen family, with peak memory per phase; a table on stdout and a JSON report.
#pragma once
#include <string>

namespace seva::bench {

struct BenchOptions {
  std::string size = "small";   // tiny (smoke, seconds), small (a 2-core CPU), 7b (LLaVA-1.5-7B on a GPU)
  std::string family = "llava"; // llava, qwen2-vl, qwen2.5-vl (7b: Qwen2-VL-7B / Qwen2.5-VL-7B shapes)
  std::string device = "cpu";   // cpu, cuda or cuda:N
  std::string dtype = "auto";   // auto: float32 on CPU, bfloat16 on CUDA
  int threads = 0;              // intra-op threads; 0 = all hardware threads
  std::string json_path;        // write the JSON report here ("" = none)
  bool skip_generation = false; // only the machine and the DPO step
  bool skip_dpo = false;        // only the machine and generation
  std::string profile_dir;      // write a per-op trace of one DPO step here ("" = none)
};

// Runs every phase and prints the table; returns a process exit code (1 when the DPO losses of
// the two modes differ by more than the check's tolerance).
int run_bench(const BenchOptions& opts);

}  // namespace seva::bench
