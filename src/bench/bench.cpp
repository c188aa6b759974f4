// `seva bench`: the size presets, FLOP counts, timing, memory probes, the report, and run_bench
// that strings the phases together (bench_machine.cpp, bench_generation.cpp, bench_dpo.cpp).
#include "bench/bench.h"

#include "bench/bench_internal.h"
#include "generate/vlm.h"
#include "io/files.h"
#include "model/init.h"
#include "model/layers.h"
#include "model/qwen2_vl.h"
#include "util/cuda_build.h"
#include "util/strings.h"

#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define SEVA_HAS_LEGACY_PROFILER 1
#endif

#if SEVA_CUDA_BUILD
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <utility>

namespace seva::bench {

namespace {

// The workload of a size, the same for every family.
void set_workload(Size& s) {
  if (s.name == "tiny") {
    s.prompt_text_tokens = 20, s.gen_batch = 4, s.new_tokens = 8, s.dpo_pairs = 2;
    s.chosen_lengths = {8, 5}, s.rejected_lengths = {6, 9};
    s.lora_r = 16, s.lora_alpha = 32, s.reps = 2;
  } else if (s.name == "small") {
    s.prompt_text_tokens = 40, s.gen_batch = 16, s.new_tokens = 32, s.dpo_pairs = 4;
    s.chosen_lengths = {24, 12, 30, 8}, s.rejected_lengths = {20, 28, 5, 16};
    s.lora_r = 64, s.lora_alpha = 128, s.reps = 2;
  } else if (s.name == "7b") {
    // The paper's LoRA (r 1024, alpha 2048).
    s.prompt_text_tokens = 40, s.gen_batch = 16, s.new_tokens = 32, s.dpo_pairs = 2;
    s.chosen_lengths = {24, 12, 30, 8}, s.rejected_lengths = {20, 28, 5, 16};
    s.lora_r = 1024, s.lora_alpha = 2048, s.reps = 3;
  } else {
    throw std::invalid_argument("unknown --size '" + s.name + "' (tiny, small, 7b)");
  }
}

void set_llava_shape(Size& s) {
  auto& t = s.cfg.text;
  auto& v = s.cfg.vision;
  if (s.name == "tiny") {
    t.hidden_size = 256, t.num_hidden_layers = 4, t.num_attention_heads = 4, t.intermediate_size = 688;
    t.vocab_size = 8000;
    v.hidden_size = 192, v.num_hidden_layers = 3, v.num_attention_heads = 3, v.intermediate_size = 768;
    v.image_size = 112, v.patch_size = 14;  // 64 image tokens
  } else if (s.name == "small") {
    // A LLaVA-1.5-shaped prompt (576 image tokens + ~40 text) on a model a 2-core CPU runs in seconds.
    t.hidden_size = 512, t.num_hidden_layers = 8, t.num_attention_heads = 8, t.intermediate_size = 1376;
    t.vocab_size = 32000;
    v.hidden_size = 384, v.num_hidden_layers = 6, v.num_attention_heads = 6, v.intermediate_size = 1536;
    v.image_size = 336, v.patch_size = 14;  // 576 image tokens
  } else {
    // llava-hf/llava-1.5-7b-hf: Vicuna-7B and CLIP ViT-L/14-336.
    t.hidden_size = 4096, t.num_hidden_layers = 32, t.num_attention_heads = 32, t.intermediate_size = 11008;
    t.vocab_size = 32064;
    v.hidden_size = 1024, v.num_hidden_layers = 24, v.num_attention_heads = 16, v.intermediate_size = 4096;
    v.image_size = 336, v.patch_size = 14;
  }
  t.max_position_embeddings = 4096;
  t.num_key_value_heads = t.num_attention_heads;
  v.projection_dim = v.hidden_size;
  s.cfg.image_token_index = t.vocab_size;  // as LLaVA-1.5: the marker is never embedded
}

void set_qwen_shape(Size& s) {
  auto& q = s.qwen;
  auto& t = q.text;
  auto& v = q.vision;
  q.model_type = s.family == "qwen2.5-vl" ? "qwen2_5_vl" : "qwen2_vl";
  v.windowed = s.family == "qwen2.5-vl";
  v.hidden_act = v.windowed ? "silu" : "quick_gelu";
  if (s.name == "tiny") {
    t.hidden_size = 256, t.num_hidden_layers = 4, t.num_attention_heads = 4, t.num_key_value_heads = 2;
    t.intermediate_size = 688, t.vocab_size = 8000, t.mrope_section = {8, 12, 12};
    v.hidden_size = 192, v.depth = 3, v.num_heads = 3, v.intermediate_size = 768, v.fullatt_block_indexes = {2};
    s.image_hw = {{112, 112}, {84, 140}, {140, 84}, {168, 112}};  // 16, 15, 15, 24 image tokens
  } else if (s.name == "small") {
    t.hidden_size = 512, t.num_hidden_layers = 8, t.num_attention_heads = 8, t.num_key_value_heads = 2;
    t.intermediate_size = 1376, t.vocab_size = 32000, t.mrope_section = {8, 12, 12};
    v.hidden_size = 384, v.depth = 6, v.num_heads = 6, v.intermediate_size = 1536, v.fullatt_block_indexes = {2, 5};
    s.image_hw = {{448, 448}, {336, 504}, {364, 644}, {560, 560}};  // 256, 216, 299, 400 image tokens
  } else {
    // Qwen/Qwen2-VL-7B-Instruct and Qwen/Qwen2.5-VL-7B-Instruct.
    t.hidden_size = 3584, t.num_hidden_layers = 28, t.num_attention_heads = 28, t.num_key_value_heads = 4;
    t.intermediate_size = 18944, t.vocab_size = 152064, t.mrope_section = {16, 24, 24};
    v.hidden_size = 1280, v.depth = 32, v.num_heads = 16;
    v.intermediate_size = v.windowed ? 3420 : 5120;
    v.fullatt_block_indexes = {7, 15, 23, 31};
    s.image_hw = {{448, 448}, {336, 504}, {364, 644}, {560, 560}};
  }
  if (!v.windowed) v.fullatt_block_indexes.clear();
  v.out_hidden_size = t.hidden_size;
  t.max_position_embeddings = 32768;
  t.qkv_bias = true;
  t.rope_theta = 1000000.0;
  q.image_token_id = t.vocab_size - 2, q.vision_start_token_id = t.vocab_size - 4, q.vision_end_token_id = t.vocab_size - 3;
  q.video_token_id = t.vocab_size - 1;
}

}  // namespace

Size make_size(const std::string& name, const std::string& family) {
  Size s;
  s.name = name;
  s.family = family;
  set_workload(s);
  if (family == "llava") set_llava_shape(s);
  else if (family == "qwen2-vl" || family == "qwen2.5-vl") set_qwen_shape(s);
  else throw std::invalid_argument("unknown --family '" + family + "' (llava, qwen2-vl, qwen2.5-vl)");
  // The GEMMs of a DPO micro-batch (rows x K x N) and of decoding at the generate batch.
  const auto& t = s.text();
  const int64_t rows = s.dpo_pairs * (static_cast<int64_t>(s.mean_image_tokens()) + s.prompt_text_tokens + 40);
  const int64_t C = t.hidden_size, F = t.intermediate_size;
  s.gemms = {{rows, C, C}, {rows, C, F}, {rows, F, C}, {s.gen_batch, C, F}, {s.gen_batch, C, t.vocab_size}};
  return s;
}

int64_t Size::image_tokens(int64_t i) const {
  if (is_llava()) return cfg.image_tokens();
  const auto& [h, w] = image_hw[static_cast<size_t>(i) % image_hw.size()];
  const int64_t unit = qwen.vision.patch_size * qwen.vision.spatial_merge_size;
  return (h / unit) * (w / unit);
}

double Size::mean_image_tokens() const {
  if (is_llava()) return static_cast<double>(cfg.image_tokens());
  double sum = 0;
  for (size_t i = 0; i < image_hw.size(); ++i) sum += static_cast<double>(image_tokens(static_cast<int64_t>(i)));
  return sum / static_cast<double>(image_hw.size());
}

std::string Size::describe() const {
  const auto& t = text();
  std::ostringstream ss;
  ss << "random " << (is_llava() ? "LLaVA" : family) << ", decoder " << t.hidden_size << " wide x " << t.num_hidden_layers
     << " layers (MLP " << t.intermediate_size << ", vocab " << t.vocab_size << "), ";
  if (is_llava()) {
    ss << "CLIP " << cfg.vision.hidden_size << " wide x " << cfg.vision.num_hidden_layers << " layers, "
       << cfg.image_tokens() << " image tokens";
  } else {
    ss << "ViT " << qwen.vision.hidden_size << " wide x " << qwen.vision.depth << " blocks"
       << (qwen.vision.windowed ? " (windowed)" : "") << ", images of";
    for (const auto& [h, w] : image_hw) ss << " " << h << "x" << w;
    ss << " (mean " << mean_image_tokens() << " image tokens)";
  }
  return ss.str();
}

// ---- FLOPs --------------------------------------------------------------------------------------

int64_t layer_matmul_params(const model::LlamaConfig& t) {
  int64_t C = t.hidden_size, HD = t.num_attention_heads * t.dim_per_head(), KVD = t.kv_heads() * t.dim_per_head();
  return C * HD + 2 * C * KVD + HD * C + 3 * C * t.intermediate_size;
}

double decoder_token_flops(const model::LlamaConfig& t, double keys) {
  double HD = static_cast<double>(t.num_attention_heads * t.dim_per_head());
  return t.num_hidden_layers * (2.0 * layer_matmul_params(t) + 4.0 * keys * HD);
}

double lm_head_flops(const model::LlamaConfig& t) { return 2.0 * t.hidden_size * t.vocab_size; }

double vision_image_flops(const Size& s, int64_t i) {
  if (s.is_llava()) {
    const auto& c = s.cfg;
    const auto& v = c.vision;
    double P = static_cast<double>(v.num_patches()), T = P + 1, C = v.hidden_size;
    double conv = 2.0 * P * C * v.num_channels * v.patch_size * v.patch_size;
    double layer = 2.0 * T * (4.0 * C * C + 2.0 * C * v.intermediate_size) + 4.0 * T * T * C;
    double proj = 2.0 * c.image_tokens() * (C * c.text.hidden_size + double(c.text.hidden_size) * c.text.hidden_size);
    return conv + c.vision_layers_needed() * layer + proj;
  }
  const auto& v = s.qwen.vision;
  const double P = static_cast<double>(s.image_tokens(i)), N = P * v.merge_unit(), C = v.hidden_size;
  const double F = v.intermediate_size, W = 4.0 * C;
  const double mlp = (v.windowed ? 3.0 : 2.0) * C * F;  // SwiGLU's three matmuls, or fc1/fc2
  // Window blocks attend within windows of up to (window_size / patch)^2 patches.
  const double window = std::min(N, std::pow(static_cast<double>(v.window_size / v.patch_size), 2.0));
  double f = 2.0 * N * C * v.patch_values();
  for (int64_t b = 0; b < v.depth; ++b) {
    const bool full = !v.windowed || std::count(v.fullatt_block_indexes.begin(), v.fullatt_block_indexes.end(), b) > 0;
    f += 2.0 * N * (4.0 * C * C + mlp) + 4.0 * N * (full ? N : window) * C;
  }
  return f + 2.0 * P * (W * W + W * v.out_hidden_size);
}

std::vector<torch::Tensor> random_images(const Context& ctx, const Size& s, int64_t n) {
  std::vector<torch::Tensor> out;
  auto opts = torch::TensorOptions().device(ctx.device);
  for (int64_t i = 0; i < n; ++i) {
    if (s.is_llava()) {
      out.push_back(torch::randn({s.cfg.vision.num_channels, s.cfg.vision.image_size, s.cfg.vision.image_size}, opts));
    } else {
      const auto& [h, w] = s.image_hw[static_cast<size_t>(i) % s.image_hw.size()];
      out.push_back(torch::randn({3, h, w}, opts));
    }
  }
  return out;
}

int64_t layer_lora_params(const model::LlamaConfig& t, int64_t r) {
  int64_t C = t.hidden_size, HD = t.num_attention_heads * t.dim_per_head(), KVD = t.kv_heads() * t.dim_per_head();
  int64_t F = t.intermediate_size;
  return r * ((C + HD) + 2 * (C + KVD) + (HD + C) + 2 * (C + F) + (F + C));
}

// ---- timing, memory -----------------------------------------------------------------------------

void Context::sync() const {
  if (cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

double Context::best_time(const std::function<void()>& f, int warmup, int reps) const {
  for (int i = 0; i < warmup; ++i) f();
  sync();
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    sync();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

double Context::gemm_now() const {
  const int64_t n = cuda() ? 8192 : 2048;
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  torch::Tensor c;
  const double tm = best_time([&] { c = torch::linear(a, b); }, 1, 3);
  return 2.0 * n * n * n / tm / 1e9;
}

void Context::profile(const std::string& name, const std::function<void()>& f) const {
  if (profile_dir.empty()) return;
#ifdef SEVA_HAS_LEGACY_PROFILER
  io::make_dir(profile_dir);
  const std::string path = io::join_path(profile_dir, name + ".trace.json");
  {
    torch::autograd::profiler::RecordProfile guard(path);
    f();
    sync();
  }
  std::printf("  profile of %s: %s\n", name.c_str(), path.c_str());
#else
  (void)f;
  std::printf("  --profile: this libtorch has no legacy profiler; no %s trace written\n", name.c_str());
#endif
}

std::string dtype_string(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat64: return "float64";
    default: return c10::toString(t);
  }
}

namespace {

// A "VmRSS:   1234 kB" line of /proc/self/status, in MB; -1 when absent.
double proc_status_mb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line))
    if (util::starts_with(line, key) && line.size() > n && line[n] == ':')
      return std::strtod(line.c_str() + n + 1, nullptr) / 1024.0;
  return -1;
}

// Resident set size from /proc/self/statm (pages), in MB.
double rss_mb() {
  std::ifstream in("/proc/self/statm");
  long long size = 0, resident = -1;
  in >> size >> resident;
  return resident < 0 ? -1.0 : resident * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1048576.0;
}

#if SEVA_CUDA_BUILD
int cuda_index(const Context& ctx) { return ctx.device.has_index() ? ctx.device.index() : 0; }
#endif

}  // namespace

MemoryProbe::MemoryProbe(const Context& ctx) : ctx_(ctx) {
  if (ctx.cuda()) {
#if SEVA_CUDA_BUILD
    ctx.sync();
    namespace alloc = c10::cuda::CUDACachingAllocator;
    auto idx = static_cast<c10::DeviceIndex>(cuda_index(ctx));
    alloc::resetPeakStats(idx);
    auto st = alloc::getDeviceStats(idx);
    start_mb_ = st.allocated_bytes[0].current / 1048576.0;  // [0]: the AGGREGATE statistic in every version
    reset_ok_ = true;
#endif
    return;
  }
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5" << std::flush;
  reset_ok_ = static_cast<bool>(clear);
  start_mb_ = rss_mb();
  sampled_mb_ = start_mb_;
  sampler_ = std::thread([this] {
    while (!stop_) {
      double now = rss_mb();
      if (now > sampled_mb_) sampled_mb_ = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
}

MemoryProbe::~MemoryProbe() {
  stop_ = true;
  if (sampler_.joinable()) sampler_.join();
}

MemoryProbe::Result MemoryProbe::finish() {
  Result r;
  if (ctx_.cuda()) {
    r.what = "CUDA allocated";
#if SEVA_CUDA_BUILD
    ctx_.sync();
    auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(cuda_index(ctx_)));
    r.peak_mb = st.allocated_bytes[0].peak / 1048576.0;
    r.delta_mb = r.peak_mb - start_mb_;
#endif
    return r;
  }
  stop_ = true;
  if (sampler_.joinable()) sampler_.join();
  r.what = "RSS";
  r.peak_mb = std::max<double>(sampled_mb_, reset_ok_ ? proc_status_mb("VmHWM") : -1.0);
  if (start_mb_ >= 0 && r.peak_mb >= 0) r.delta_mb = r.peak_mb - start_mb_;
  return r;
}

Timing time_with_memory(const Context& ctx, const std::function<void()>& f, int warmup, int reps) {
  Timing t;
  MemoryProbe probe(ctx);
  t.seconds = ctx.best_time(f, warmup, reps);
  t.memory = probe.finish();
  return t;
}

Timing time_phase(const Context& ctx, const std::function<void()>& f, int warmup, int reps) {
  const double gemm = ctx.gemm_now();
  Timing t = time_with_memory(ctx, f, warmup, reps);
  t.gemm_gflops = gemm;
  return t;
}

// ---- report -------------------------------------------------------------------------------------

std::string fmt(const char* f, double x) {
  char buf[96];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

double round_to(double x, double step) {
  double inv = std::round(1.0 / step);
  return std::round(x * inv) / inv;
}

std::string memory_cell(const MemoryProbe::Result& m) {
  if (m.peak_mb < 0) return "n/a";
  if (m.delta_mb < 0) return fmt("%.0f MB", m.peak_mb);
  return fmt("%.0f MB", m.peak_mb) + fmt(" (+%.0f)", std::max(0.0, m.delta_mb));
}

nlohmann::json memory_json(const MemoryProbe::Result& m) {
  nlohmann::json j = {{"kind", m.what}};
  j["peak_mb"] = m.peak_mb < 0 ? nlohmann::json() : nlohmann::json(round_to(m.peak_mb, 0.1));
  j["added_mb"] = m.delta_mb < 0 ? nlohmann::json() : nlohmann::json(round_to(std::max(0.0, m.delta_mb), 0.1));
  return j;
}

Row timed_row(std::string phase, std::string rate, const Timing& t, double flops, std::string note,
              const char* mfu_format) {
  Row r{std::move(phase), std::move(rate), fmt("%.3f s", t.seconds), "", "", "", std::move(note)};
  if (flops > 0) r.gflops = fmt("%.1f", t.gflops(flops));
  if (flops > 0 && t.gemm_gflops > 0) r.mfu = fmt(mfu_format, 100 * t.gflops(flops) / t.gemm_gflops);
  if (!t.memory.what.empty()) r.memory = memory_cell(t.memory);
  return r;
}

Row ratio_row(std::string phase, double ratio, std::string note) {
  return {std::move(phase), fmt("%.2fx", ratio), "", "", "", "", std::move(note)};
}

void Report::print_table() const {
  const char* head[] = {"phase", "rate", "best time", "GFLOP/s", "MFU", "peak memory (+phase)", "note"};
  constexpr int N = 7;
  size_t w[N];
  for (int i = 0; i < N; ++i) w[i] = std::strlen(head[i]);
  auto fields = [](const Row& r) {
    return std::array<const std::string*, N>{&r.phase, &r.rate, &r.time, &r.gflops, &r.mfu, &r.memory, &r.note};
  };
  for (const auto& r : rows) {
    auto f = fields(r);
    for (int i = 0; i < N; ++i) w[i] = std::max(w[i], f[i]->size());
  }
  auto line = [&](const std::array<const std::string*, N>& f) {
    std::printf("  %-*s  %*s  %*s  %*s  %*s  %*s  %s\n", int(w[0]), f[0]->c_str(), int(w[1]), f[1]->c_str(),
                int(w[2]), f[2]->c_str(), int(w[3]), f[3]->c_str(), int(w[4]), f[4]->c_str(), int(w[5]),
                f[5]->c_str(), f[6]->c_str());
  };
  Row h{head[0], head[1], head[2], head[3], head[4], head[5], head[6]};
  line(fields(h));
  for (const auto& r : rows) line(fields(r));
}

// ---- the model ----------------------------------------------------------------------------------

std::shared_ptr<model::VisionLanguageModelImpl> make_model(const Context& ctx, const Size& size) {
  std::shared_ptr<model::VisionLanguageModelImpl> m;
  {
    // In the bench dtype, without libtorch's default init (minutes for a 7B model on the CPU):
    // every parameter is drawn once below.
    model::SkipInit skip(ctx.dtype);
    if (size.is_llava()) m = model::LlavaForConditionalGeneration(size.cfg).ptr();
    else m = model::Qwen2VLForConditionalGeneration(size.qwen).ptr();
  }
  if (auto* llava = dynamic_cast<model::LlavaForConditionalGenerationImpl*>(m.get())) {
    model::init_weights(*llava, 1);  // on the CPU, where its generator lives, as `seva init` does
  } else {
    // transformers' initializer_range; norms at 1: a random model whose activations stay in range.
    torch::NoGradGuard ng;
    torch::manual_seed(1);
    for (auto& item : m->named_parameters(true)) {
      const auto& name = item.key();
      auto& p = item.value();
      const bool norm = name.find("norm") != std::string::npos || name.find("ln_q") != std::string::npos;
      if (norm) p.fill_(util::ends_with(name, ".bias") ? 0.0 : 1.0);
      else if (util::ends_with(name, ".bias")) p.zero_();
      else p.normal_(0.0, 0.02);
    }
  }
  m->to(ctx.device);
  m->eval();
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  torch::manual_seed(1);  // the phases' random inputs
  return m;
}

namespace {

std::string machine_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (util::starts_with(line, "model name")) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  return "unknown CPU";
}

std::string env_or(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The run's machine, libtorch and model: the table's header lines and the JSON's top keys.
void describe_run(const Context& ctx, const Size& size, Report& rep) {
  auto& js = rep.json;
  const std::string torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                    "." + std::to_string(TORCH_VERSION_PATCH);
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  int blas_threads = -1;
  if (auto* get = reinterpret_cast<int (*)()>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) blas_threads = get();
  const std::string dtype_name = dtype_string(ctx.dtype);
  js["bench"] = "seva bench";
  js["size"] = size.name;
  js["family"] = size.family;
  js["machine"] = {{"cpu", machine_name()},
                   {"hardware_threads", std::thread::hardware_concurrency()},
                   {"host", host},
                   {"device", ctx.device.str()},
                   {"openblas_threads", blas_threads},
                   {"omp_wait_policy", env_or("OMP_WAIT_POLICY")}};
  js["threads"] = ctx.threads;
  js["libtorch"] = torch_version;
  js["dtype"] = dtype_name;
  const auto& t = size.text();
  std::printf("seva bench --size %s --family %s: %s, %d thread%s (%u hardware), libtorch %s, %s, device %s\n",
              size.name.c_str(), size.family.c_str(), machine_name().c_str(), ctx.threads, ctx.threads == 1 ? "" : "s",
              std::thread::hardware_concurrency(), torch_version.c_str(), dtype_name.c_str(), ctx.device.str().c_str());
  std::printf("model: %s\n", size.describe().c_str());
  js["model"] = {{"text_hidden", t.hidden_size},   {"text_layers", t.num_hidden_layers},
                 {"text_mlp", t.intermediate_size}, {"vocab", t.vocab_size},
                 {"vision_hidden", size.is_llava() ? size.cfg.vision.hidden_size : size.qwen.vision.hidden_size},
                 {"vision_layers", size.is_llava() ? size.cfg.vision.num_hidden_layers : size.qwen.vision.depth},
                 {"image_tokens", round_to(size.mean_image_tokens(), 0.1)}};
}

// The model's phases; 1 when the DPO losses of the two modes differ by more than the tolerance.
int bench_model(const BenchOptions& o, const Context& ctx, const Size& size, Report& rep) {
  auto m = make_model(ctx, size);
  if (!o.skip_generation) bench_generation(ctx, size, *m, rep);
  std::fflush(stdout);
  if (o.skip_dpo) return 0;
  double diff = bench_dpo(ctx, size, *m, rep);
  // Equal losses: float32 summation order differs between the modes; half types round more.
  double tol = ctx.dtype == torch::kFloat32 || ctx.dtype == torch::kFloat64 ? 1e-5 : 2e-2;
  if (diff <= tol) return 0;
  std::fprintf(stderr, "seva bench: the DPO losses of the two modes differ by %.3g (> %.0e)\n", diff, tol);
  return 1;
}

// The table, the MFU legend and the headline numbers on stdout; the JSON report where asked.
void finish_report(const BenchOptions& o, const Context& ctx, double total_s, Report& rep) {
  auto& js = rep.json;
  std::printf("\n");
  rep.print_table();
  js["total_s"] = round_to(total_s, 0.1);
  std::printf("\nMFU: model FLOPs (2 per multiply-add of every matmul the method needs, attention over all keys) "
              "/ time / the GEMM rate of the large square measured just before that phase (the machine's speed "
              "drifts; at the start the best shape ran at %.1f GFLOP/s). Total %.1f s.\n",
              ctx.peak_gflops, total_s);
  std::printf("headline:");
  for (const char* k : {"gemm_gflops", "prefill_mfu", "train_mfu", "batched_generation_speedup", "batched_generation_ceiling",
                        "dpo_speedup_vs_official", "multi_negative_speedup", "loss_max_abs_diff"})
    if (js.contains(k)) std::printf(" %s=%s", k, js[k].dump().c_str());
  std::printf("\n");
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << js.dump(2) << "\n";
    if (!out) throw std::runtime_error(o.json_path + ": cannot write the JSON report");
    std::printf("wrote %s\n", o.json_path.c_str());
  }
}

}  // namespace

int run_bench(const BenchOptions& o) {
  const auto t_start = Clock::now();
  Size size = make_size(o.size, o.family);
  Context ctx;
  ctx.device = generate::parse_device(o.device);
  ctx.dtype = generate::parse_dtype(o.dtype, ctx.device);
  generate::set_threads(o.threads);
  ctx.threads = torch::get_num_threads();
  ctx.profile_dir = o.profile_dir;
  if (ctx.cuda() && !torch::cuda::is_available()) throw std::runtime_error("--device cuda: CUDA is not available");

  Report rep;
  describe_run(ctx, size, rep);
  bench_machine(ctx, size, rep);
  std::fflush(stdout);
  const int rc = bench_model(o, ctx, size, rep);  // the model is freed before the report
  finish_report(o, ctx, seconds_since(t_start), rep);
  return rc;
}

}  // namespace seva::bench
