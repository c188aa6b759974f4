// seva_bench: how fast the model path runs on this machine, against the machine's own GEMM
// throughput measured in the same run.
//
//   seva_bench [--threads N] [--quick] [--dpo]    (--dpo: bench_dpo.cpp, our DPO step vs the official one)
//
// Phases: float32 GEMM (torch::matmul, several shapes the model uses), the CLIP vision tower
// (images/s), prefill (tokens/s, batch 1, ~300 positions of which 256 are image embeddings), the
// decode step alone at batch 1 and 16 (tokens/s, KV cache), and generate::generate end to end at
// batch 1 and 16 (32 greedy tokens per row, vision tower and prefill included). Each phase's model
// FLOP utilisation (MFU) is its estimated FLOPs (2 x matmul parameters per token + the attention
// matmuls as computed) / time / the best GEMM rate measured in the same run. The model is random
// (no checkpoint needed) with a small LLaVA shape. Prints a table, then one JSON line.
#include "io/omp_env.h"
#include "generate/generate.h"
#include "model/llava.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace seva;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Best wall time of `reps` calls after `warmup` untimed ones; stops early past `budget_s`
// (but runs at least `min_reps`).
double best_time(const std::function<void()>& f, int warmup, int reps, double budget_s = 1e9, int min_reps = 1) {
  for (int i = 0; i < warmup; ++i) f();
  double best = 1e300, spent = 0;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    double t = seconds_since(t0);
    best = std::min(best, t);
    spent += t;
    if (i + 1 >= min_reps && spent > budget_s) break;
  }
  return best;
}

struct Shapes {
  // GEMMs (M, K, N): M rows of activations times a K x N weight.
  std::vector<std::array<int64_t, 3>> gemms;
  model::LlavaConfig cfg;
  int64_t prompt_text_tokens;  // text tokens around the <image> marker
  int64_t vision_images;       // images per vision-tower call
  int64_t decode_batch;        // the larger decode batch
  int64_t new_tokens;          // tokens generated per decode run
};

Shapes make_shapes(bool quick) {
  Shapes s;
  auto& t = s.cfg.text;
  auto& v = s.cfg.vision;
  if (!quick) {
    t.hidden_size = 512;
    t.num_hidden_layers = 8;
    t.num_attention_heads = 8;
    t.intermediate_size = 1376;
    t.vocab_size = 32000;
    v.hidden_size = 384;
    v.num_hidden_layers = 6;
    v.num_attention_heads = 6;
    v.intermediate_size = 1536;
    v.image_size = 224;
    v.patch_size = 14;
    s.prompt_text_tokens = 44;  // + 256 image embeddings = 300 positions
    s.vision_images = 4;
    s.decode_batch = 16;
    s.new_tokens = 32;
    s.gemms = {{1024, 1024, 1024}, {2048, 512, 1376}, {300, 512, 1376},
               {257, 384, 1536},   {16, 512, 32000},  {1, 512, 1376}};
  } else {
    t.hidden_size = 256;
    t.num_hidden_layers = 4;
    t.num_attention_heads = 4;
    t.intermediate_size = 688;
    t.vocab_size = 8000;
    v.hidden_size = 192;
    v.num_hidden_layers = 3;
    v.num_attention_heads = 3;
    v.intermediate_size = 768;
    v.image_size = 112;
    v.patch_size = 14;
    s.prompt_text_tokens = 20;
    s.vision_images = 2;
    s.decode_batch = 4;
    s.new_tokens = 8;
    s.gemms = {{512, 512, 512}, {256, 256, 688}, {4, 256, 8000}, {1, 256, 688}};
  }
  t.max_position_embeddings = 2048;
  t.num_key_value_heads = t.num_attention_heads;
  v.projection_dim = v.hidden_size;
  s.cfg.image_token_index = t.vocab_size;  // as LLaVA-1.5: the marker is never embedded
  return s;
}

// ---- FLOP estimates (multiply-adds count 2) ----------------------------------------------------

int64_t llama_layer_matmul_params(const model::LlamaConfig& t) {
  int64_t C = t.hidden_size, HD = t.num_attention_heads * t.dim_per_head(), KVD = t.kv_heads() * t.dim_per_head();
  return C * HD + 2 * C * KVD + HD * C + 3 * C * t.intermediate_size;
}

// One token through the decoder attending to `keys` positions (QKᵀ and PV, every head).
double llama_token_flops(const model::LlamaConfig& t, double keys) {
  double HD = static_cast<double>(t.num_attention_heads * t.dim_per_head());
  return t.num_hidden_layers * (2.0 * llama_layer_matmul_params(t) + 4.0 * keys * HD);
}

double lm_head_flops(const model::LlamaConfig& t) { return 2.0 * t.hidden_size * t.vocab_size; }

// One image: patch embedding, the encoder layers LLaVA needs (every token attends to every
// token), the projector over the selected patches.
double vision_image_flops(const model::LlavaConfig& c) {
  const auto& v = c.vision;
  double P = static_cast<double>(v.num_patches()), T = P + 1, C = v.hidden_size;
  double conv = 2.0 * P * C * v.num_channels * v.patch_size * v.patch_size;
  double layer = 2.0 * T * (4.0 * C * C + 2.0 * C * v.intermediate_size) + 4.0 * T * T * C;
  double proj = 2.0 * c.image_tokens() * (C * c.text.hidden_size + double(c.text.hidden_size) * c.text.hidden_size);
  return conv + c.vision_layers_needed() * layer + proj;
}

// Bytes a decode step must read at least: the decoder's and lm_head's weights once, plus every
// row's keys and values.
double decode_step_bytes(const model::LlamaConfig& t, int64_t batch, double keys) {
  double weights = t.num_hidden_layers * double(llama_layer_matmul_params(t)) + double(t.hidden_size) * t.vocab_size;
  double kv = 2.0 * batch * keys * t.kv_heads() * t.dim_per_head() * t.num_hidden_layers;
  return 4.0 * (weights + kv);
}

// ---- output ---------------------------------------------------------------------------------

struct Row {
  std::string phase, rate, time, gflops, mfu, note;
};

void print_table(const std::vector<Row>& rows) {
  const char* head[] = {"phase", "rate", "best time", "GFLOP/s", "MFU", "note"};
  size_t w[6];
  for (int i = 0; i < 6; ++i) w[i] = std::strlen(head[i]);
  for (const auto& r : rows) {
    const std::string* f[] = {&r.phase, &r.rate, &r.time, &r.gflops, &r.mfu, &r.note};
    for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], f[i]->size());
  }
  auto line = [&](const std::string* f[]) {
    std::printf("  %-*s  %*s  %*s  %*s  %*s  %s\n", int(w[0]), f[0]->c_str(), int(w[1]), f[1]->c_str(),
                int(w[2]), f[2]->c_str(), int(w[3]), f[3]->c_str(), int(w[4]), f[4]->c_str(), f[5]->c_str());
  };
  std::string hs[6];
  for (int i = 0; i < 6; ++i) hs[i] = head[i];
  const std::string* hp[] = {&hs[0], &hs[1], &hs[2], &hs[3], &hs[4], &hs[5]};
  line(hp);
  for (const auto& r : rows) {
    const std::string* f[] = {&r.phase, &r.rate, &r.time, &r.gflops, &r.mfu, &r.note};
    line(f);
  }
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// Rounded so that the JSON shows short numbers (x / 10^d prints as written, x * 0.1 may not).
double round_to(double x, double step) {
  double inv = std::round(1.0 / step);
  return std::round(x * inv) / inv;
}

void usage(const char* argv0) {
  std::printf("usage: %s [--threads N] [--quick] [--dpo]\n"
              "  --dpo        pairs/s of seva's DPO step against the official algorithm (equal losses checked)\n"
              "  --threads N  intra-op threads (default: the machine's %u hardware threads)\n"
              "  --quick      smaller model and shapes: a smoke run of a few seconds\n",
              argv0, std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

int run_dpo_bench(bool quick);  // bench_dpo.cpp

int main(int argc, char** argv) {
  seva::io::ensure_passive_openmp(argv);  // OMP_WAIT_POLICY=active seva_bench measures the spinning default
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool quick = false, dpo = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--dpo") {
      dpo = true;
    } else if (a == "--threads" && i + 1 < argc) {
      char* end = nullptr;
      long n = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 1 || n > 4096) {
        std::fprintf(stderr, "seva_bench: --threads needs a positive integer, got '%s'\n", argv[i]);
        return 2;
      }
      threads = static_cast<int>(n);
    } else if (a == "-h" || a == "--help") {
      usage(argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "seva_bench: unknown argument '%s'\n", a.c_str());
      usage(argv[0]);
      return 2;
    }
  }
  torch::set_num_threads(threads);
  if (dpo) return run_dpo_bench(quick);
  torch::NoGradGuard no_grad;
  const auto total_t0 = Clock::now();
  Shapes S = make_shapes(quick);
  const auto& cfg = S.cfg;
  nlohmann::json js = {{"bench", "seva"}, {"quick", quick}, {"threads", threads},
                       {"torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                     "." + std::to_string(TORCH_VERSION_PATCH)}};
  // Threading as configured: torch's OpenMP pool (--threads) and, with an OpenBLAS build, BLAS's own
  // thread pool. libgomp's idle threads spin by default (read from the environment at load time),
  // which on a small machine steals the cores OpenBLAS's threads need: say how it was set.
  auto env_or = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  int blas_threads = -1;
  if (auto* get = reinterpret_cast<int (*)()>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) blas_threads = get();
  js["omp_wait_policy"] = env_or("OMP_WAIT_POLICY");
  js["gomp_spincount"] = env_or("GOMP_SPINCOUNT");
  js["openblas_threads"] = blas_threads;
  std::printf("seva_bench%s: %d torch thread%s (machine: %u hardware threads), libtorch %s, float32, CPU\n",
              quick ? " --quick" : "", threads, threads == 1 ? "" : "s", std::thread::hardware_concurrency(),
              js["torch"].get<std::string>().c_str());
  std::printf("threading: OpenBLAS threads %s, OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s\n",
              blas_threads < 0 ? "n/a (not OpenBLAS)" : std::to_string(blas_threads).c_str(),
              env_or("OMP_WAIT_POLICY").empty() ? "(unset)" : env_or("OMP_WAIT_POLICY").c_str(),
              env_or("GOMP_SPINCOUNT").empty() ? "(unset)" : env_or("GOMP_SPINCOUNT").c_str());

  // ---- GEMM ---------------------------------------------------------------------------------
  std::printf("\nfloat32 GEMM, torch::matmul (M x K) @ (K x N), best of up to 5:\n");
  double peak = 0;
  nlohmann::json jg = nlohmann::json::object();
  torch::manual_seed(0);
  for (const auto& g : S.gemms) {
    auto a = torch::randn({g[0], g[1]});
    auto b = torch::randn({g[1], g[2]});
    double flops = 2.0 * g[0] * g[1] * g[2];
    torch::Tensor c;
    // At least ~0.05 s of work per timed call for small shapes, so the clock resolves it.
    int inner = static_cast<int>(std::clamp(2e8 / flops, 1.0, 1000.0));
    double t = best_time([&] { for (int i = 0; i < inner; ++i) c = torch::matmul(a, b); }, 1, 5, 1.0, 3) / inner;
    double gf = flops / t / 1e9;
    peak = std::max(peak, gf);
    std::string name = std::to_string(g[0]) + "x" + std::to_string(g[1]) + "x" + std::to_string(g[2]);
    std::printf("  %-18s %8.1f GFLOP/s  (%.3f ms)\n", name.c_str(), gf, t * 1e3);
    jg[name] = round_to(gf, 0.1);
  }
  std::printf("  peak (denominator of MFU below): %.1f GFLOP/s\n", peak);
  js["gemm_gflops"] = jg;
  js["gemm_peak_gflops"] = round_to(peak, 0.1);

  // ---- the model ----------------------------------------------------------------------------
  torch::manual_seed(1);
  model::LlavaForConditionalGeneration m(cfg);
  m->eval();
  for (auto& p : m->parameters()) p.set_requires_grad(false);
  int64_t n_params = 0;
  for (auto& p : m->parameters()) n_params += p.numel();
  const auto& t = cfg.text;
  const int64_t P = cfg.image_tokens();
  std::printf("\nrandom LLaVA: LLaMA %lld wide x %lld layers (%lld heads, MLP %lld, vocab %lld); "
              "CLIP %lld wide x %lld layers (%lld run), %lldpx/%lld -> %lld patches; %.1fM parameters\n",
              (long long)t.hidden_size, (long long)t.num_hidden_layers, (long long)t.num_attention_heads,
              (long long)t.intermediate_size, (long long)t.vocab_size, (long long)cfg.vision.hidden_size,
              (long long)cfg.vision.num_hidden_layers, (long long)cfg.vision_layers_needed(),
              (long long)cfg.vision.image_size, (long long)cfg.vision.patch_size, (long long)P, n_params / 1e6);

  // Prompts: BOS, some text, <image>, more text; row r is a little longer than row r-1 so that a
  // batch is left-padded as real ones are.
  auto prompt = [&](int64_t extra, uint64_t seed) {
    std::vector<int64_t> ids{1};
    uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
    auto next = [&] {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      return static_cast<int64_t>(3 + (x >> 33) % (t.vocab_size - 3));
    };
    int64_t text = S.prompt_text_tokens + extra;
    for (int64_t i = 0; i < 5; ++i) ids.push_back(next());
    ids.push_back(cfg.image_token_index);
    for (int64_t i = 6; i < text; ++i) ids.push_back(next());
    return ids;
  };
  auto pixels = [&](int64_t n) {
    return torch::randn({n, cfg.vision.num_channels, cfg.vision.image_size, cfg.vision.image_size});
  };
  std::vector<Row> rows;

  // Vision tower + projector.
  {
    auto px = pixels(S.vision_images);
    double tm = best_time([&] { m->image_features(px); }, 1, 3);
    double flops = S.vision_images * vision_image_flops(cfg);
    double rate = S.vision_images / tm, gf = flops / tm / 1e9;
    rows.push_back({"vision tower", fmt("%.2f img/s", rate), fmt("%.3f s", tm), fmt("%.1f", gf),
                    fmt("%.0f%%", 100 * gf / peak),
                    std::to_string(S.vision_images) + " images x " + std::to_string(P + 1) + " tokens"});
    js["vision_images_per_s"] = round_to(rate, 0.01);
    js["vision_mfu"] = round_to(gf / peak, 0.001);
  }

  // Prefill, batch 1: the pieces generate() uses, image features computed beforehand.
  int64_t prefill_T = 0;
  {
    auto ids = prompt(0, 1);
    auto px = pixels(1);
    auto feats = m->image_features(px);
    double tm = best_time(
        [&] {
          auto batch = model::merge_prompts(*m, {ids}, feats, model::Padding::Left);
          const int64_t T = batch.embeds.size(1);
          prefill_T = T;
          auto cache = m->language_model->model->make_cache(1, T + 1, m->dtype(), m->device());
          auto h = m->language_model->model->forward(batch.embeds, batch.positions,
                                                     model::causal_bias(batch.mask, T, m->dtype()), &cache);
          m->language_model->logits(h.select(1, T - 1));
        },
        1, 3);
    // Attention as computed: every query against all T keys (the causal half is masked, not skipped).
    double flops = prefill_T * llama_token_flops(t, prefill_T) + lm_head_flops(t);
    double rate = prefill_T / tm, gf = flops / tm / 1e9;
    rows.push_back({"prefill b=1", fmt("%.0f tok/s", rate), fmt("%.3f s", tm), fmt("%.1f", gf),
                    fmt("%.0f%%", 100 * gf / peak),
                    std::to_string(prefill_T) + " positions (" + std::to_string(P) + " image)"});
    js["prefill_tokens"] = prefill_T;
    js["prefill_tokens_per_s"] = round_to(rate, 0.1);
    js["prefill_mfu"] = round_to(gf / peak, 0.001);
  }

  // Decoding, B rows at once. Two measurements:
  //  - "decode b=B": the per-step work generate() does (embed the new tokens, extend the key mask,
  //    the decoder over one position with the KV cache, lm_head, argmax), timed alone over N-1 steps
  //    after a prompt-length cache (random keys/values: the work does not depend on them);
  //  - "generate b=B": generate::generate end to end (vision tower, prefill, N greedy tokens).
  for (int64_t B : {int64_t(1), S.decode_batch}) {
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t r = 0; r < B; ++r) prompts.push_back(prompt(r % 8, 100 + r));
    int64_t longest = 0;
    for (const auto& p : prompts) longest = std::max<int64_t>(longest, p.size() - 1 + P);
    const int64_t T = longest, N = S.new_tokens, steps = N - 1;
    auto& lm = *m->language_model;
    auto key_mask0 = torch::ones({B, T}, torch::kBool);
    auto next_pos0 = torch::empty({B}, torch::kInt64);
    for (int64_t r = 0; r < B; ++r) {
      int64_t len = static_cast<int64_t>(prompts[r].size()) - 1 + P;
      key_mask0[r].narrow(0, 0, T - len).fill_(false);  // left padding
      next_pos0[r] = len;
    }
    auto decode_steps = [&] {
      auto cache = lm.model->make_cache(B, T + N, m->dtype(), m->device());
      for (auto& k : cache.k) k.narrow(2, 0, T).normal_();
      for (auto& v : cache.v) v.narrow(2, 0, T).normal_();
      cache.length = T;
      auto key_mask = key_mask0.clone();
      auto next_pos = next_pos0.clone();
      auto logits = torch::randn({B, t.vocab_size});
      auto t0 = Clock::now();
      for (int64_t s = 0; s < steps; ++s) {
        auto next = logits.argmax(-1);
        auto embeds = lm.model->embed_tokens(next).unsqueeze(1);
        key_mask = torch::cat({key_mask, torch::ones({B, 1}, key_mask.options())}, 1);
        auto bias = model::causal_bias(key_mask, 1, m->dtype());
        auto hidden = lm.model->forward(embeds, next_pos.unsqueeze(1), bias, &cache);
        cache.length += 1;
        next_pos = next_pos + 1;
        logits = lm.logits(hidden.select(1, 0)).to(torch::kFloat32);
      }
      return seconds_since(t0);
    };
    decode_steps();  // warm-up
    double tm = std::min(decode_steps(), decode_steps());
    double mean_keys = T + 1 + (steps - 1) / 2.0;  // keys seen by the mean step
    double step_flops = B * (llama_token_flops(t, mean_keys) + lm_head_flops(t));
    double flops = steps * step_flops;
    double bytes = steps * decode_step_bytes(t, B, mean_keys);
    double rate = B * steps / tm, gf = flops / tm / 1e9;
    std::string key = "decode_b" + std::to_string(B);
    rows.push_back({"decode b=" + std::to_string(B), fmt("%.1f tok/s", rate), fmt("%.3f s", tm), fmt("%.1f", gf),
                    fmt("%.1f%%", 100 * gf / peak),
                    std::to_string(steps) + " steps after " + std::to_string(T) + ", " +
                        fmt("%.1f ms/step, ", 1e3 * tm / steps) + fmt("%.1f GB/s weights+KV", bytes / tm / 1e9)});
    js[key + "_tokens_per_s"] = round_to(rate, 0.1);
    js[key + "_ms_per_step"] = round_to(1e3 * tm / steps, 0.01);
    js[key + "_mfu"] = round_to(gf / peak, 0.0001);
    js[key + "_gbps"] = round_to(bytes / tm / 1e9, 0.1);

    // generate() end to end, greedy, no EOS stop: B x N new tokens.
    auto px = pixels(B);
    generate::SamplingOptions opts;
    opts.stop_at_eos = false;
    opts.max_new_tokens = N;
    int64_t produced = 0;
    double tg = best_time(
        [&] {
          auto out = generate::generate(*m, prompts, px, opts, t.eos_token_id);
          produced = 0;
          for (const auto& g : out) produced += static_cast<int64_t>(g.tokens.size());
        },
        B == 1 ? 1 : 0, B == 1 ? 2 : 1);
    if (produced != B * N) {
      std::fprintf(stderr, "seva_bench: generate produced %lld tokens, expected %lld\n", (long long)produced,
                   (long long)(B * N));
      return 1;
    }
    // Prefill as computed: every row padded to T positions, each attending to all T keys.
    double prompt_flops = B * (T * llama_token_flops(t, T) + lm_head_flops(t));
    double gflops_total = B * vision_image_flops(cfg) + prompt_flops + flops;
    double grate = B * N / tg, ggf = gflops_total / tg / 1e9;
    std::string gkey = "generate_b" + std::to_string(B);
    rows.push_back({"generate b=" + std::to_string(B), fmt("%.1f tok/s", grate), fmt("%.3f s", tg), fmt("%.1f", ggf),
                    fmt("%.1f%%", 100 * ggf / peak),
                    std::to_string(B) + " x " + std::to_string(N) + " new tokens incl. vision + prefill; " +
                        fmt("decode steps ~%.0f%% of it", 100 * std::min(1.0, tm / tg))});
    js[gkey + "_tokens_per_s"] = round_to(grate, 0.1);
    js[gkey + "_s"] = round_to(tg, 0.001);
    js[gkey + "_mfu"] = round_to(ggf / peak, 0.0001);
  }

  std::printf("\n");
  print_table(rows);
  double total = seconds_since(total_t0);
  std::printf("\nMFU = estimated FLOPs (2 x matmul parameters per token + attention QK^T/PV) / time / "
              "peak GEMM. Total run %.1f s.\n",
              total);
  js["total_s"] = round_to(total, 0.1);
  std::printf("%s\n", js.dump().c_str());
  return 0;
}
