// `seva bench`, the machine's limits: GEMM throughput at the model's shapes (and a large square),
// in float32 and, when the bench runs in a half type, in that type; memory bandwidth (copy).
#include "bench/bench_internal.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

namespace seva::bench {

void bench_machine(Context& ctx, const Size& size, Report& rep) {
  auto& js = rep.json;
  std::vector<torch::ScalarType> types{torch::kFloat32};
  if (ctx.dtype != torch::kFloat32) types.push_back(ctx.dtype);
  auto shapes = size.gemms;
  const int64_t big = ctx.cuda() ? 8192 : 2048;
  shapes.push_back({big, big, big});
  torch::manual_seed(0);
  nlohmann::json jg = nlohmann::json::object();
  for (auto type : types) {
    auto opts = torch::TensorOptions().dtype(type).device(ctx.device);
    const std::string tname = dtype_string(type);
    std::printf("\n%s GEMM (M x K) @ (K x N), best of 5:\n", tname.c_str());
    double best = 0;
    for (const auto& g : shapes) {
      auto a = torch::randn({g[0], g[1]}, opts);
      auto b = torch::randn({g[2], g[1]}, opts);  // (N, K) as a Linear weight, used transposed
      const double flops = 2.0 * g[0] * g[1] * g[2];
      // Enough calls per timing for the clock to resolve small shapes.
      const int inner = static_cast<int>(std::clamp((ctx.cuda() ? 2e11 : 2e8) / flops, 1.0, 1000.0));
      torch::Tensor c;
      double tm = ctx.best_time([&] { for (int i = 0; i < inner; ++i) c = torch::linear(a, b); }, 1, 5) / inner;
      const double gf = flops / tm / 1e9;
      best = std::max(best, gf);
      std::string name = std::to_string(g[0]) + "x" + std::to_string(g[1]) + "x" + std::to_string(g[2]);
      std::printf("  %-20s %9.1f GFLOP/s\n", name.c_str(), gf);
      jg[tname][name] = round_to(gf, 0.1);
    }
    std::printf("  best: %.1f GFLOP/s\n", best);
    jg[tname]["best"] = round_to(best, 0.1);
    rep.rows.push_back({"GEMM " + tname, "", "", fmt("%.1f", best), "100%", "", "best of the model's shapes and a square"});
    if (type == ctx.dtype) ctx.peak_gflops = best;
  }
  js["gemm"] = jg;
  js["gemm_gflops"] = round_to(ctx.peak_gflops, 0.1);

  // Bandwidth: copy a buffer much larger than the caches; read + write bytes per second.
  {
    const int64_t n = (ctx.cuda() ? 1024LL : 256LL) * 1024 * 1024 / 4;
    auto src = torch::rand({n}, torch::TensorOptions().device(ctx.device));
    auto dst = torch::empty_like(src);
    double tm = ctx.best_time([&] { dst.copy_(src); }, 1, 5);
    double gbs = 2.0 * 4.0 * n / tm / 1e9;
    std::printf("\nmemory bandwidth (copy %.0f MB): %.1f GB/s\n", 4.0 * n / 1048576.0, gbs);
    rep.rows.push_back({"memory copy", fmt("%.1f GB/s", gbs), fmt("%.4f s", tm), "", "", "",
                        fmt("%.0f MB buffer, read + write", 4.0 * n / 1048576.0)});
    js["memory_bandwidth_gbps"] = round_to(gbs, 0.1);
  }
}

}  // namespace seva::bench
