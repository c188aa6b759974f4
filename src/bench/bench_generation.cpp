// `seva bench`, generation: the vision tower, prefill at batch 1, the decode step alone and
// generate() end to end at batch 1 (the official pipeline answers one question at a time) and at
// the batch `seva generate` uses, with model-FLOP utilisation against the measured GEMM rate.
#include "bench/bench_internal.h"
#include "generate/generate.h"

#include <torch/torch.h>

#include <cstdio>

namespace seva::bench {
namespace {

// BOS, 5 text tokens, <image>, the rest of the text; `extra` more tokens for row variety (a batch
// is left-padded as real ones are).
std::vector<int64_t> make_prompt(const Size& s, int64_t extra, uint64_t seed) {
  const auto& t = s.cfg.text;
  std::vector<int64_t> ids{1};
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>(3 + (x >> 33) % (t.vocab_size - 3));
  };
  for (int64_t i = 0; i < 5; ++i) ids.push_back(next());
  ids.push_back(s.cfg.image_token_index);
  for (int64_t i = 6; i < s.prompt_text_tokens + extra; ++i) ids.push_back(next());
  return ids;
}

}  // namespace

void bench_generation(const Context& ctx, const Size& size, model::LlavaForConditionalGenerationImpl& m,
                      Report& rep) {
  torch::NoGradGuard no_grad;
  auto& js = rep.json;
  const auto& cfg = size.cfg;
  const auto& t = cfg.text;
  double peak = ctx.peak_gflops;  // re-measured before each phase (Context::gemm_now)
  const int64_t P = cfg.image_tokens();
  auto pixels = [&](int64_t n) {
    return torch::randn({n, cfg.vision.num_channels, cfg.vision.image_size, cfg.vision.image_size},
                        torch::TensorOptions().device(ctx.device));
  };
  std::printf("\ngeneration: prompts of %lld text + %lld image tokens, %lld new tokens per row\n",
              (long long)size.prompt_text_tokens, (long long)P, (long long)size.new_tokens);

  // Vision + prefill of one row: work that batching cannot share (each row has its own image),
  // so batched generation's end-to-end speedup is at most t(generate b=1) / this.
  double vision_per_image = 0, prefill_one = 0;

  // Vision tower + projector, the generate batch's images at once.
  {
    const int64_t n = std::min<int64_t>(size.gen_batch, 4);
    auto px = pixels(n);
    peak = ctx.gemm_now();
    MemoryProbe mem(ctx);
    double tm = ctx.best_time([&] { m.image_features(px); }, 1, 3);
    auto mr = mem.finish();
    vision_per_image = tm / n;
    double gf = n * vision_image_flops(cfg) / tm / 1e9;
    rep.rows.push_back({"vision tower", fmt("%.2f img/s", n / tm), fmt("%.3f s", tm), fmt("%.1f", gf),
                        fmt("%.0f%%", 100 * gf / peak), memory_cell(mr),
                        std::to_string(n) + " images x " + std::to_string(P + 1) + " tokens"});
    js["vision"] = {{"images_per_s", round_to(n / tm, 0.01)}, {"mfu", round_to(gf / peak, 0.001)},
                    {"memory", memory_json(mr)}};
  }

  // Prefill at batch 1: what generate() runs before the first token (image features beforehand).
  {
    auto ids = make_prompt(size, 0, 1);
    auto feats = m.image_features(pixels(1));
    int64_t T = 0;
    peak = ctx.gemm_now();
    MemoryProbe mem(ctx);
    double tm = ctx.best_time(
        [&] {
          auto batch = model::merge_prompts(m, {ids}, feats, model::Padding::Left);
          T = batch.embeds.size(1);
          auto cache = m.language_model->model->make_cache(1, T + 1, m.dtype(), m.device());
          auto h = m.language_model->model->forward(batch.embeds, batch.positions,
                                                    model::causal_bias(batch.mask, T, m.dtype()), &cache);
          m.language_model->logits(h.select(1, T - 1));
        },
        1, 3);
    auto mr = mem.finish();
    prefill_one = tm;
    double flops = T * decoder_token_flops(t, T) + lm_head_flops(t);
    double gf = flops / tm / 1e9;
    rep.rows.push_back({"prefill b=1", fmt("%.0f tok/s", T / tm), fmt("%.3f s", tm), fmt("%.1f", gf),
                        fmt("%.0f%%", 100 * gf / peak), memory_cell(mr),
                        std::to_string(T) + " positions (" + std::to_string(P) + " image)"});
    js["prefill"] = {{"tokens", T}, {"tokens_per_s", round_to(T / tm, 0.1)}, {"mfu", round_to(gf / peak, 0.001)},
                     {"memory", memory_json(mr)}};
    js["prefill_mfu"] = round_to(gf / peak, 0.001);
  }

  // Decoding at batch 1 and at the generate batch: the per-step work alone (after a prompt-long
  // cache of random keys/values), then generate() end to end (vision, prefill, N greedy tokens).
  double gen_rate[2] = {0, 0}, decode_rate[2] = {0, 0}, gen_time_b1 = 0;
  int which = 0;
  for (int64_t B : {int64_t(1), size.gen_batch}) {
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t r = 0; r < B; ++r) prompts.push_back(make_prompt(size, r % 8, 100 + r));
    int64_t T = 0;
    for (const auto& p : prompts) T = std::max<int64_t>(T, static_cast<int64_t>(p.size()) - 1 + P);
    const int64_t N = size.new_tokens, steps = N - 1;
    auto& lm = *m.language_model;
    auto key_mask0 = torch::ones({B, T}, torch::kBool);
    auto next_pos0 = torch::empty({B}, torch::kInt64);
    for (int64_t r = 0; r < B; ++r) {
      int64_t len = static_cast<int64_t>(prompts[r].size()) - 1 + P;
      key_mask0[r].narrow(0, 0, T - len).fill_(false);
      next_pos0[r] = len;
    }
    key_mask0 = key_mask0.to(ctx.device), next_pos0 = next_pos0.to(ctx.device);
    // The step loop generate() runs, minus the sampling bookkeeping.
    auto decode_steps = [&] {
      auto cache = lm.model->make_cache(B, T + N, m.dtype(), m.device());
      for (auto& k : cache.k) k.narrow(2, 0, T).normal_();
      for (auto& v : cache.v) v.narrow(2, 0, T).normal_();
      cache.length = T;
      auto key_mask = key_mask0.clone();
      auto next_pos = next_pos0.clone();
      auto logits = torch::randn({B, t.vocab_size}, torch::TensorOptions().device(ctx.device));
      ctx.sync();
      auto t0 = Clock::now();
      for (int64_t s = 0; s < steps; ++s) {
        auto next = logits.argmax(-1);
        auto embeds = lm.model->embed_tokens(next).unsqueeze(1);
        key_mask = torch::cat({key_mask, torch::ones({B, 1}, key_mask.options())}, 1);
        auto bias = model::causal_bias(key_mask, 1, m.dtype());
        auto hidden = lm.model->forward(embeds, next_pos.unsqueeze(1), bias, &cache);
        cache.length += 1;
        next_pos = next_pos + 1;
        logits = lm.logits(hidden.select(1, 0)).to(torch::kFloat32);
        if (ctx.cuda()) logits.cpu();  // generate() reads the logits on the host every step
      }
      ctx.sync();
      return seconds_since(t0);
    };
    peak = ctx.gemm_now();
    decode_steps();  // warm-up
    double tm = std::min(decode_steps(), decode_steps());
    ctx.profile("decode_b" + std::to_string(B), [&] { decode_steps(); });
    double mean_keys = T + 1 + (steps - 1) / 2.0;
    double flops = steps * B * (decoder_token_flops(t, mean_keys) + lm_head_flops(t));
    double weight_bytes = (t.num_hidden_layers * double(layer_matmul_params(t)) + double(t.hidden_size) * t.vocab_size) *
                          c10::elementSize(ctx.dtype);
    double rate = B * steps / tm, gf = flops / tm / 1e9;
    decode_rate[which] = rate;
    const std::string b = std::to_string(B);
    rep.rows.push_back({"decode b=" + b, fmt("%.1f tok/s", rate), fmt("%.3f s", tm), fmt("%.1f", gf),
                        fmt("%.1f%%", 100 * gf / peak), "",
                        std::to_string(steps) + " steps after " + std::to_string(T) + ", " +
                            fmt("%.1f ms/step, ", 1e3 * tm / steps) +
                            fmt("%.1f GB/s of weights", steps * weight_bytes / tm / 1e9)});
    js["decode_b" + b] = {{"tokens_per_s", round_to(rate, 0.1)}, {"ms_per_step", round_to(1e3 * tm / steps, 0.01)},
                          {"mfu", round_to(gf / peak, 0.0001)},
                          {"weight_gbps", round_to(steps * weight_bytes / tm / 1e9, 0.1)}};

    // generate() end to end, greedy, no EOS stop: B x N new tokens.
    auto px = pixels(B);
    generate::SamplingOptions opts;
    opts.stop_at_eos = false;
    opts.max_new_tokens = N;
    int64_t produced = 0;
    peak = ctx.gemm_now();
    MemoryProbe mem(ctx);
    double tg = ctx.best_time(
        [&] {
          auto out = generate::generate(m, prompts, px, opts, t.eos_token_id);
          produced = 0;
          for (const auto& g : out) produced += static_cast<int64_t>(g.tokens.size());
        },
        B == 1 ? 1 : 0, 2);
    auto mr = mem.finish();
    if (produced != B * N) throw std::runtime_error("generate produced " + std::to_string(produced) + " tokens");
    double total_flops = B * vision_image_flops(cfg) + B * (T * decoder_token_flops(t, T) + lm_head_flops(t)) + flops;
    double grate = B * N / tg, ggf = total_flops / tg / 1e9;
    gen_rate[which] = grate;
    if (B == 1) gen_time_b1 = tg;
    rep.rows.push_back({"generate b=" + b, fmt("%.1f tok/s", grate), fmt("%.3f s", tg), fmt("%.1f", ggf),
                        fmt("%.1f%%", 100 * ggf / peak), memory_cell(mr),
                        b + " x " + std::to_string(N) + " new tokens incl. vision + prefill"});
    js["generate_b" + b] = {{"tokens_per_s", round_to(grate, 0.1)}, {"s", round_to(tg, 0.001)},
                            {"mfu", round_to(ggf / peak, 0.0001)}, {"memory", memory_json(mr)}};
    ++which;
  }
  js["batched_generation_speedup"] = round_to(gen_rate[1] / gen_rate[0], 0.01);
  js["batched_decode_speedup"] = round_to(decode_rate[1] / decode_rate[0], 0.01);
  // The ceiling: batch-B decoding for free, vision and prefill of every row as fast as at batch 1.
  const double ceiling = gen_time_b1 / (vision_per_image + prefill_one);
  js["batched_generation_ceiling"] = round_to(ceiling, 0.01);
  js["generation_batch"] = size.gen_batch;
  js["generation_new_tokens"] = size.new_tokens;
  rep.rows.push_back({"generate b=" + std::to_string(size.gen_batch) + " / b=1", fmt("%.2fx", gen_rate[1] / gen_rate[0]),
                      "", "", "", "", fmt("tokens/s ratio end to end (ceiling %.2fx: no row's vision + prefill can be shared); ", ceiling) +
                          fmt("decode steps alone %.2fx", decode_rate[1] / decode_rate[0])});
}

}  // namespace seva::bench
