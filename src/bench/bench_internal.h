// Shared pieces of `seva bench` (src/bench/*.cpp): the size presets, FLOP counts, timing on CPU
// and CUDA, peak-memory probes and the report (table rows + JSON).
#pragma once
#include "model/config.h"
#include "model/llava.h"
#include "model/qwen2_vl_config.h"
#include "model/vlm_model.h"

#include <memory>
#include <utility>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace seva::bench {

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A model shape and the workload run on it.
struct Size {
  std::string name;
  std::string family = "llava";  // llava, qwen2-vl or qwen2.5-vl
  model::LlavaConfig cfg;        // the LLaVA shape (family llava)
  model::Qwen2VLConfig qwen;     // the Qwen2-VL / Qwen2.5-VL shape (the other families)
  // Qwen's images keep their own size: the workload cycles through this mix of (height, width),
  // multiples of 28, as a realistic batch holds images of many sizes. LLaVA's are all S x S.
  std::vector<std::pair<int64_t, int64_t>> image_hw;
  int64_t prompt_text_tokens = 40;  // text tokens around <image> (system prompt + question)
  int64_t gen_batch = 16;           // rows per generate() call: `seva generate`'s 8 questions x 2 views
  int64_t new_tokens = 32;          // greedy tokens per row (no EOS stop)
  int64_t dpo_pairs = 4;            // pairs per DPO micro-batch
  std::vector<int64_t> chosen_lengths, rejected_lengths;  // answer tokens per pair (EOS included), cycled
  int64_t lora_r = 64;
  double lora_alpha = 128;
  int reps = 3;                     // timed repetitions of each DPO mode (best is reported)
  std::vector<std::array<int64_t, 3>> gemms;  // (M, K, N) shapes the model runs

  bool is_llava() const { return family == "llava"; }
  const model::LlamaConfig& text() const { return is_llava() ? cfg.text : qwen.text; }
  int64_t image_token_id() const { return is_llava() ? cfg.image_token_index : qwen.image_token_id; }
  // Image embeddings of the i-th image of the workload (cycling through the mix), and their mean.
  int64_t image_tokens(int64_t i) const;
  double mean_image_tokens() const;
  std::string describe() const;  // the model line of the report
};
Size make_size(const std::string& name, const std::string& family = "llava");  // throws naming a value

// ---- FLOP counts (a multiply-add counts 2) ----------------------------------------------------
// Parameters in the decoder layer's matmuls (q, k, v, o, gate, up, down).
int64_t layer_matmul_params(const model::LlamaConfig& t);
// One token through all decoder layers, attending to `keys` positions (QKᵀ and PV of every head).
double decoder_token_flops(const model::LlamaConfig& t, double keys);
double lm_head_flops(const model::LlamaConfig& t);
// The i-th image of the workload through the vision encoder and the projector.
double vision_image_flops(const Size& s, int64_t i);

// LoRA's extra matmul parameters per decoder layer: r (in + out) for each target.
int64_t layer_lora_params(const model::LlamaConfig& t, int64_t r);

// ---- device, timing, memory -------------------------------------------------------------------
struct Context {
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  int threads = 1;
  double peak_gflops = 0;  // the best GEMM rate at the start (the table's machine rows; MFU uses gemm_now)
  std::string profile_dir; // non-empty: traces of one DPO step and of the decode steps are written here
  bool cuda() const { return device.is_cuda(); }
  void sync() const;        // waits for the device (no-op on CPU)
  // Best wall time of `reps` calls after `warmup` untimed ones, the device synchronised around each.
  double best_time(const std::function<void()>& f, int warmup, int reps) const;
  // The GEMM rate now (the large square in the bench's dtype, best of 3). Each phase's MFU is taken
  // against the rate measured just before it: a shared machine's speed drifts within a run (on
  // the 2-core VM the same GEMM ran at 106 and at 181 GFLOP/s a few minutes apart).
  double gemm_now() const;
  // With --profile: runs f once under libtorch's legacy profiler and writes DIR/NAME.trace.json
  // (chrome://tracing format); prints where. Without --profile it does nothing.
  void profile(const std::string& name, const std::function<void()>& f) const;
};

// Peak memory of one phase. CPU: the process's resident-set high-water mark (VmHWM), reset at
// start through /proc/self/clear_refs; CUDA: the caching allocator's peak allocated bytes, reset
// at start. `delta` is the peak minus what was in use when the phase began.
// On CPU a thread also samples the RSS every millisecond: the kernel updates VmHWM lazily.
class MemoryProbe {
 public:
  explicit MemoryProbe(const Context& ctx);
  ~MemoryProbe();
  MemoryProbe(const MemoryProbe&) = delete;
  MemoryProbe& operator=(const MemoryProbe&) = delete;
  struct Result {
    double peak_mb = -1;   // -1: not measurable here
    double delta_mb = -1;
    std::string what;      // "RSS" or "CUDA allocated"
  };
  Result finish();

 private:
  const Context& ctx_;
  double start_mb_ = -1;
  bool reset_ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<double> sampled_mb_{-1};
  std::thread sampler_;
};

// One timed phase: its best time, its peak memory, and the GEMM rate measured just before it.
struct Timing {
  double seconds = 0;
  double gemm_gflops = 0;      // 0: not measured (the phase reports no MFU)
  MemoryProbe::Result memory;  // `what` empty: not probed
  double gflops(double flops) const { return flops / seconds / 1e9; }
  double mfu(double flops) const { return gflops(flops) / gemm_gflops; }
};
// ctx.best_time(f, warmup, reps) under a MemoryProbe; no GEMM rate.
Timing time_with_memory(const Context& ctx, const std::function<void()>& f, int warmup, int reps);
// ctx.gemm_now(), then time_with_memory: the phases that report an MFU.
Timing time_phase(const Context& ctx, const std::function<void()>& f, int warmup, int reps);

// ---- the report ---------------------------------------------------------------------------------
struct Row {
  std::string phase, rate, time, gflops, mfu, memory, note;
};
// A timed phase's row: best time, GFLOP/s (flops > 0), MFU (flops > 0 and the GEMM rate measured;
// `mfu_format` formats the percentage), peak memory (probed phases; "" otherwise).
Row timed_row(std::string phase, std::string rate, const Timing& t, double flops, std::string note,
              const char* mfu_format = "%.0f%%");
// A row comparing two phases: their ratio in the rate column.
Row ratio_row(std::string phase, double ratio, std::string note);

struct Report {
  std::vector<Row> rows;
  nlohmann::json json = nlohmann::json::object();
  void print_table() const;
};

std::string fmt(const char* f, double x);
std::string dtype_string(torch::ScalarType t);  // float32, bfloat16, ...
double round_to(double x, double step);  // short numbers in the JSON
std::string memory_cell(const MemoryProbe::Result& m);
nlohmann::json memory_json(const MemoryProbe::Result& m);

// n random preprocessed images of the workload, (3, H, W) each, the i-th at image_hw[i] (Qwen).
std::vector<torch::Tensor> random_images(const Context& ctx, const Size& s, int64_t n);

// ---- the phases (one file each) -----------------------------------------------------------------
// GEMM at the model's shapes and a large square, memory bandwidth; sets ctx.peak_gflops.
void bench_machine(Context& ctx, const Size& size, Report& report);
// A random model of `size` on ctx's device and dtype (frozen, eval mode).
std::shared_ptr<model::VisionLanguageModelImpl> make_model(const Context& ctx, const Size& size);
// Vision tower, prefill b1, decode steps and generate() at batch 1 and size.gen_batch.
void bench_generation(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m, Report& report);
// Our DPO step against the official algorithm (equal first-step loss checked), and 3 negatives
// packed against 3 separate pairs. Returns the largest |loss difference| between the modes.
double bench_dpo(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m, Report& report);

}  // namespace seva::bench
