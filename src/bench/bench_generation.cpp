// `seva bench`, generation: the vision tower, prefill at batch 1, the decode step alone and
// generate() end to end at batch 1 (the official pipeline answers one question at a time) and at
// the batch `seva generate` uses, with model-FLOP utilisation against the measured GEMM rate.
#include "bench/bench_internal.h"
#include "generate/generate.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace seva::bench {
namespace {

// BOS, 5 text tokens, <image>, the rest of the text; `extra` more tokens for row variety (a batch
// is left-padded as real ones are).
std::vector<int64_t> make_prompt(const Size& s, int64_t extra, uint64_t seed) {
  const auto& t = s.text();
  std::vector<int64_t> ids{1};
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int64_t>(3 + (x >> 33) % (t.vocab_size - 3));
  };
  for (int64_t i = 0; i < 5; ++i) ids.push_back(next());
  ids.push_back(s.image_token_id());
  for (int64_t i = 6; i < s.prompt_text_tokens + extra; ++i) ids.push_back(next());
  return ids;
}

// Vision tower + projector, the generate batch's images at once (at most 4). Returns the time
// per image.
double bench_vision(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m, Report& rep) {
  const int64_t n = std::min<int64_t>(size.gen_batch, 4);
  auto px = random_images(ctx, size, n);
  const Timing tm = time_phase(ctx, [&] { m.image_features(px); }, 1, 3);
  double flops = 0;
  int64_t tokens = 0;
  for (int64_t i = 0; i < n; ++i) flops += vision_image_flops(size, i), tokens += size.image_tokens(i);
  rep.rows.push_back(timed_row("vision tower", fmt("%.2f img/s", n / tm.seconds), tm, flops,
                               std::to_string(n) + " images, " + std::to_string(tokens) + " image tokens"));
  rep.json["vision"] = {{"images_per_s", round_to(n / tm.seconds, 0.01)}, {"mfu", round_to(tm.mfu(flops), 0.001)},
                        {"memory", memory_json(tm.memory)}};
  return tm.seconds / n;
}

// Prefill at batch 1: what generate() runs before the first token (image features beforehand).
// Returns its time.
double bench_prefill(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m, Report& rep) {
  const auto& t = size.text();
  auto ids = make_prompt(size, 0, 1);
  auto feats = m.image_features(random_images(ctx, size, 1));
  int64_t T = 0;
  const Timing tm = time_phase(
      ctx,
      [&] {
        auto batch = m.merge_prompts({ids}, feats, model::Padding::Left);
        T = batch.embeds.size(1);
        auto cache = m.language_model->model->make_cache(1, T + 1, m.dtype(), m.device());
        auto h = m.language_model->model->forward(batch.embeds, batch.positions,
                                                  model::causal_bias(batch.mask, T, m.dtype()), &cache);
        m.language_model->logits(h.select(1, T - 1));
      },
      1, 3);
  const double flops = T * decoder_token_flops(t, T) + lm_head_flops(t);
  const double mfu = round_to(tm.mfu(flops), 0.001);
  rep.rows.push_back(timed_row("prefill b=1", fmt("%.0f tok/s", T / tm.seconds), tm, flops,
                               std::to_string(T) + " positions (" + std::to_string(size.image_tokens(0)) + " image)"));
  rep.json["prefill"] = {{"tokens", T}, {"tokens_per_s", round_to(T / tm.seconds, 0.1)}, {"mfu", mfu},
                         {"memory", memory_json(tm.memory)}};
  rep.json["prefill_mfu"] = mfu;
  return tm.seconds;
}

// B prompts of varied lengths, left-padded to T positions (image expanded) as generate() pads
// them, and where the decode loop starts.
struct PromptBatch {
  std::vector<std::vector<int64_t>> prompts;
  int64_t T = 0;
  torch::Tensor key_mask;  // (B, T): false at the padding
  torch::Tensor next_pos;  // (B,): the first new token's position (the row's real length)
  int64_t rows() const { return static_cast<int64_t>(prompts.size()); }
};

PromptBatch make_batch(const Context& ctx, const Size& size, int64_t B) {
  PromptBatch b;  // row r holds the workload's image r
  for (int64_t r = 0; r < B; ++r) b.prompts.push_back(make_prompt(size, r % 8, 100 + r));
  for (int64_t r = 0; r < B; ++r)
    b.T = std::max<int64_t>(b.T, static_cast<int64_t>(b.prompts[r].size()) - 1 + size.image_tokens(r));
  auto key_mask = torch::ones({B, b.T}, torch::kBool);
  auto next_pos = torch::empty({B}, torch::kInt64);
  for (int64_t r = 0; r < B; ++r) {
    const int64_t len = static_cast<int64_t>(b.prompts[r].size()) - 1 + size.image_tokens(r);
    key_mask[r].narrow(0, 0, b.T - len).fill_(false);
    next_pos[r] = len;
  }
  b.key_mask = key_mask.to(ctx.device), b.next_pos = next_pos.to(ctx.device);
  return b;
}

// Model FLOPs of the new_tokens - 1 decode steps after a prompt of T positions, B rows.
double decode_flops(const Size& size, int64_t B, int64_t T) {
  const auto& t = size.text();
  const int64_t steps = size.new_tokens - 1;
  const double mean_keys = T + 1 + (steps - 1) / 2.0;
  return steps * B * (decoder_token_flops(t, mean_keys) + lm_head_flops(t));
}

// A row label and JSON key with the decode mode, where it is not the default.
std::string with_mode(const std::string& name, generate::DecodeMode mode, const char* sep) {
  return mode == generate::DecodeMode::Dynamic ? name : name + sep + generate::decode_mode_name(mode);
}

// generate()'s step loop (generate/decoder.h), minus the sampling: new_tokens - 1 greedy steps
// after a prompt-long cache of random keys/values. Returns the loop's time, the cache's set-up
// excluded.
double time_decode_steps(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m,
                         const PromptBatch& b, generate::DecodeMode mode) {
  auto& lm = *m.language_model;
  const int64_t B = b.rows(), T = b.T, steps = size.new_tokens - 1;
  auto cache = lm.model->make_cache(B, T + size.new_tokens, m.dtype(), m.device());
  for (auto& k : cache.k) k.narrow(2, 0, T).normal_();
  for (auto& v : cache.v) v.narrow(2, 0, T).normal_();
  cache.length = T;
  auto decoder = generate::make_decoder(lm, {std::move(cache), b.key_mask, b.next_pos}, mode);
  std::vector<int64_t> rows(B);
  for (int64_t r = 0; r < B; ++r) rows[r] = r;
  auto logits = torch::randn({B, size.text().vocab_size}, torch::TensorOptions().device(ctx.device));
  ctx.sync();
  auto t0 = Clock::now();
  for (int64_t s = 0; s < steps; ++s) {
    // generate() reads the logits on the host every step, to sample.
    auto next = logits.argmax(-1).cpu();
    logits = decoder->step(rows, std::vector<int64_t>(next.data_ptr<int64_t>(), next.data_ptr<int64_t>() + B));
  }
  ctx.sync();
  return seconds_since(t0);
}

// The decode steps alone at the batch's size: the best of two loops after a warm-up (the
// timed region holds no cache set-up, so no memory probe). Returns new tokens per second.
double bench_decode(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m,
                    const PromptBatch& b, generate::DecodeMode mode, Report& rep) {
  const auto& t = size.text();
  const int64_t B = b.rows(), steps = size.new_tokens - 1;
  auto loop = [&] { return time_decode_steps(ctx, size, m, b, mode); };
  Timing tm;
  tm.gemm_gflops = ctx.gemm_now();
  loop();  // warm-up
  tm.seconds = std::min(loop(), loop());
  const std::string bs = std::to_string(B);
  const std::string key = with_mode("decode_b" + bs, mode, "_");
  ctx.profile(key, [&] { loop(); });
  const double flops = decode_flops(size, B, b.T);
  const double weight_bytes =
      (t.num_hidden_layers * double(layer_matmul_params(t)) + double(t.hidden_size) * t.vocab_size) *
      c10::elementSize(ctx.dtype);
  const double rate = B * steps / tm.seconds, weight_gbps = steps * weight_bytes / tm.seconds / 1e9;
  rep.rows.push_back(timed_row(with_mode("decode b=" + bs, mode, " "), fmt("%.1f tok/s", rate), tm, flops,
                               std::to_string(steps) + " steps after " + std::to_string(b.T) + ", " +
                                   fmt("%.1f ms/step, ", 1e3 * tm.seconds / steps) +
                                   fmt("%.1f GB/s of weights", weight_gbps),
                               "%.1f%%"));
  rep.json[key] = {{"tokens_per_s", round_to(rate, 0.1)},
                   {"ms_per_step", round_to(1e3 * tm.seconds / steps, 0.01)},
                   {"mfu", round_to(tm.mfu(flops), 0.0001)},
                   {"weight_gbps", round_to(weight_gbps, 0.1)}};
  return rate;
}

// generate() end to end (vision, prefill, new_tokens greedy tokens, no EOS stop) on the batch.
struct GenerateResult {
  double tokens_per_s = 0;
  double seconds = 0;
};

GenerateResult bench_generate(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m,
                              const PromptBatch& b, generate::DecodeMode mode, Report& rep) {
  const auto& t = size.text();
  const int64_t B = b.rows(), T = b.T, N = size.new_tokens;
  auto px = random_images(ctx, size, B);
  generate::SamplingOptions opts;
  opts.stop_at_eos = false;
  opts.max_new_tokens = N;
  opts.decode = mode;
  int64_t produced = 0;
  const Timing tm = time_phase(
      ctx,
      [&] {
        auto out = generate::generate(m, b.prompts, px, opts, {t.eos_token_id});
        produced = 0;
        for (const auto& g : out) produced += static_cast<int64_t>(g.tokens.size());
      },
      B == 1 ? 1 : 0, 2);
  if (produced != B * N) throw std::runtime_error("generate produced " + std::to_string(produced) + " tokens");
  double flops = B * (T * decoder_token_flops(t, T) + lm_head_flops(t)) + decode_flops(size, B, T);
  for (int64_t r = 0; r < B; ++r) flops += vision_image_flops(size, r);
  const double rate = B * N / tm.seconds;
  const std::string bs = std::to_string(B);
  rep.rows.push_back(timed_row(with_mode("generate b=" + bs, mode, " "), fmt("%.1f tok/s", rate), tm, flops,
                               bs + " x " + std::to_string(N) + " new tokens incl. vision + prefill", "%.1f%%"));
  rep.json[with_mode("generate_b" + bs, mode, "_")] = {{"tokens_per_s", round_to(rate, 0.1)}, {"s", round_to(tm.seconds, 0.001)},
                                 {"mfu", round_to(tm.mfu(flops), 0.0001)}, {"memory", memory_json(tm.memory)}};
  return {rate, tm.seconds};
}

// What batching bought: the generate batch against batch 1, end to end and in the decode steps
// alone, and the end-to-end ceiling (batch-B decoding for free, vision and prefill of every row
// as fast as at batch 1).
void report_batching(const Size& size, const GenerateResult gen[2], const double decode_rate[2],
                     double vision_per_image, double prefill_one, Report& rep) {
  auto& js = rep.json;
  const double gen_speedup = gen[1].tokens_per_s / gen[0].tokens_per_s;
  const double decode_speedup = decode_rate[1] / decode_rate[0];
  const double ceiling = gen[0].seconds / (vision_per_image + prefill_one);
  js["batched_generation_speedup"] = round_to(gen_speedup, 0.01);
  js["batched_decode_speedup"] = round_to(decode_speedup, 0.01);
  js["batched_generation_ceiling"] = round_to(ceiling, 0.01);
  js["generation_batch"] = size.gen_batch;
  js["generation_new_tokens"] = size.new_tokens;
  rep.rows.push_back(ratio_row(
      "generate b=" + std::to_string(size.gen_batch) + " / b=1", gen_speedup,
      fmt("tokens/s ratio end to end (ceiling %.2fx: no row's vision + prefill can be shared); ", ceiling) +
          fmt("decode steps alone %.2fx", decode_speedup)));
}

}  // namespace

void bench_generation(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m,
                      Report& rep) {
  torch::NoGradGuard no_grad;
  std::printf("\ngeneration: prompts of %lld text + %.0f image tokens (mean), %lld new tokens per row\n",
              (long long)size.prompt_text_tokens, size.mean_image_tokens(), (long long)size.new_tokens);
  // Vision + prefill of one row: work that batching cannot share (each row has its own image),
  // so batched generation's end-to-end speedup is at most t(generate b=1) / this.
  const double vision_per_image = bench_vision(ctx, size, m, rep);
  const double prefill_one = bench_prefill(ctx, size, m, rep);
  // Batch 1 (the official pipeline answers one question at a time) and the generate batch.
  const int64_t batches[2] = {1, size.gen_batch};
  GenerateResult gen[2];
  double decode_rate[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const PromptBatch b = make_batch(ctx, size, batches[i]);
    decode_rate[i] = bench_decode(ctx, size, m, b, generate::DecodeMode::Dynamic, rep);
    gen[i] = bench_generate(ctx, size, m, b, generate::DecodeMode::Dynamic, rep);
    // On a GPU the host's launches bound the decode step; the captured step shows what that costs.
    if (ctx.cuda() && generate::cuda_graphs_built()) {
      bench_decode(ctx, size, m, b, generate::DecodeMode::CudaGraph, rep);
      bench_generate(ctx, size, m, b, generate::DecodeMode::CudaGraph, rep);
    }
  }
  report_batching(size, gen, decode_rate, vision_per_image, prefill_one, rep);
}

}  // namespace seva::bench
