// `seva bench`, the DPO step. Ours (what `seva train` runs): image features once per pair (the
// tower is frozen), reference log-probs computed once before training, one packed sequence per
// pair [prompt][chosen][rejected] under a block mask, lm_head only at answer positions.
// The official algorithm (TRL's DPOTrainer as SeVa runs it), in the same code: chosen and rejected
// as separate sequences in one batch, each running the vision tower; a reference
// forward (the base model: adapters off instead of a second copy) on both every step; float32
// logits at every position, then log-softmax and gather. Both give the same loss (checked before
// any optimizer step). Multi-negative: one chosen and 3 rejected packed in one sequence against
// the same data as 3 separate pairs.
#include "bench/bench_internal.h"
#include "model/lora.h"
#include "train/dpo_loss.h"
#include "train/logps.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace seva::bench {
namespace {

// The official way: every answer its own sequence [prompt][answer], the vision tower run for each
// and float32 logits at every position (forward_logits), then log-softmax and gather. Its rows are
// left-padded where TRL pads right: padded keys are hidden and positions count real tokens, so the
// side changes the log-probs by rounding only, and the FLOPs not at all.
std::vector<torch::Tensor> official_logps(model::VisionLanguageModelImpl& m,
                                          const std::vector<train::PackedExample>& ex, const std::vector<torch::Tensor>& px) {
  std::vector<std::vector<int64_t>> seqs;
  std::vector<torch::Tensor> images;
  for (size_t e = 0; e < ex.size(); ++e)
    for (const auto& a : ex[e].answers) {
      auto s = ex[e].prompt_ids;
      s.insert(s.end(), a.begin(), a.end());
      seqs.push_back(std::move(s));
      images.push_back(px[e]);
    }
  auto logits = m.forward_logits(seqs, images);  // (S, T, V); the tower once per sequence
  auto logp = torch::log_softmax(logits.to(torch::kFloat32), -1);
  const int64_t T = logp.size(1);
  std::vector<torch::Tensor> out;
  int64_t s = 0;
  for (const auto& e : ex) {
    std::vector<torch::Tensor> sums;
    for (const auto& a : e.answers) {  // every row ends at T - 1: positions T-n-1 .. T-2 predict the answer
      const int64_t n = static_cast<int64_t>(a.size());
      auto targets = torch::tensor(a, torch::kInt64).to(m.device()).unsqueeze(1);
      sums.push_back(logp[s++].narrow(0, T - n - 1, n).gather(1, targets).sum());
    }
    out.push_back(torch::stack(sums));
  }
  return out;
}

// Chosen (B,) and rejected (B, k) log-probs.
struct Logps {
  torch::Tensor chosen, rejected;
};

// From per-example (1 + k,) log-probs.
Logps split(const std::vector<torch::Tensor>& lp) {
  std::vector<torch::Tensor> cs, rs;
  for (auto& x : lp) cs.push_back(x[0]), rs.push_back(x.narrow(0, 1, x.size(0) - 1));
  return {torch::stack(cs), torch::stack(rs)};
}

// The LoRA adapters off for a scope: the base model is the reference policy.
class AdaptersOff {
 public:
  explicit AdaptersOff(model::VisionLanguageModelImpl& m) : m_(m) { model::set_lora_enabled(m_, false); }
  ~AdaptersOff() { model::set_lora_enabled(m_, true); }
  AdaptersOff(const AdaptersOff&) = delete;
  AdaptersOff& operator=(const AdaptersOff&) = delete;

 private:
  model::VisionLanguageModelImpl& m_;
};

// Examples shaped like the paper's data: a prompt of ~40 text tokens around <image>, answers of
// the size's lengths (EOS included), `negatives` rejected answers each.
std::vector<train::PackedExample> make_examples(const Size& s, int negatives) {
  std::vector<train::PackedExample> ex;
  const int64_t V = s.text().vocab_size;
  auto tok = [&](int64_t x) { return 3 + x % (V - 3); };
  for (int64_t i = 0; i < s.dpo_pairs; ++i) {
    train::PackedExample e;
    e.prompt_ids = {1};
    const int64_t before = 34, after = s.prompt_text_tokens - before - 2 + (i % 3) * 2;
    for (int64_t k = 0; k < before; ++k) e.prompt_ids.push_back(tok(100 + i * 37 + k * 11));
    e.prompt_ids.push_back(s.image_token_id());
    for (int64_t k = 0; k < after; ++k) e.prompt_ids.push_back(tok(200 + i * 13 + k * 7));
    auto answer = [&](int64_t len, int64_t salt) {
      std::vector<int64_t> a;
      for (int64_t k = 0; k + 1 < len; ++k) a.push_back(tok(300 + salt * 101 + i * 17 + k * 5));
      a.push_back(s.text().eos_token_id);
      return a;
    };
    const auto nc = s.chosen_lengths.size(), nr = s.rejected_lengths.size();
    e.answers.push_back(answer(s.chosen_lengths[i % nc], 0));
    for (int j = 0; j < negatives; ++j) e.answers.push_back(answer(s.rejected_lengths[(i + j) % nr], 1 + j));
    ex.push_back(e);
  }
  return ex;
}

// Model FLOPs of one training step on packed rows of `row_tokens` real tokens, `answer_tokens`
// positions through lm_head. Base weights are frozen: the backward pass needs input gradients
// (2 per multiply-add) but no weight gradients except LoRA's.
double train_step_flops(const Size& s, const std::vector<int64_t>& row_tokens, int64_t answer_tokens) {
  const auto& t = s.text();
  const double L = t.num_hidden_layers, HD = double(t.num_attention_heads) * t.dim_per_head();
  const double mm = layer_matmul_params(t), lora = layer_lora_params(t, s.lora_r);
  double f = 0;
  for (auto n : row_tokens) {
    f += n * L * (2 * mm + 2 * lora) + 4.0 * n * n * HD * L;   // forward
    f += n * L * (2 * mm + 4 * lora) + 8.0 * n * n * HD * L;   // backward: input grads, LoRA's weight grads
  }
  return f + 2.0 * lm_head_flops(t) * answer_tokens;
}

// Real tokens of each packed row: prompt (image expanded) plus every answer.
std::vector<int64_t> packed_rows(const Size& s, const std::vector<train::PackedExample>& ex) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < ex.size(); ++i) {  // example i holds the workload's image i
    const auto& e = ex[i];
    int64_t n = static_cast<int64_t>(e.prompt_ids.size()) - 1 + s.image_tokens(static_cast<int64_t>(i));
    for (const auto& a : e.answers) n += static_cast<int64_t>(a.size());
    rows.push_back(n);
  }
  return rows;
}

int64_t answer_tokens(const std::vector<train::PackedExample>& ex) {
  int64_t n = 0;
  for (const auto& e : ex)
    for (const auto& a : e.answers) n += static_cast<int64_t>(a.size());
  return n;
}

// FLOPs the official step computes: the vision tower for every sequence twice (reference and
// policy), the reference forward and the policy forward and backward over separate padded
// sequences, lm_head at every position.
double official_step_flops(const Size& s, const std::vector<train::PackedExample>& ex) {
  const auto& t = s.text();
  const double L = t.num_hidden_layers, HD = double(t.num_attention_heads) * t.dim_per_head();
  const double mm = layer_matmul_params(t), lora = layer_lora_params(t, s.lora_r);
  int64_t T = 0, S = 0;
  double vision = 0;
  for (size_t i = 0; i < ex.size(); ++i)
    for (const auto& a : ex[i].answers) {
      const auto image = static_cast<int64_t>(i);
      T = std::max<int64_t>(T, ex[i].prompt_ids.size() - 1 + s.image_tokens(image) + a.size());
      vision += vision_image_flops(s, image);
      ++S;
    }
  const double n = double(S) * T;  // padded positions as computed
  double f = 2.0 * vision;
  f += n * L * (2 * mm + 2 * lora) + S * 4.0 * T * T * HD * L + n * lm_head_flops(t);   // reference
  f += n * L * (2 * mm + 2 * lora) + S * 4.0 * T * T * HD * L + n * lm_head_flops(t);   // policy forward
  f += n * L * (2 * mm + 4 * lora) + S * 8.0 * T * T * HD * L + n * lm_head_flops(t);   // backward
  return f;
}

// Ours: reference log-probs of packed rows, once before training (as `seva train`).
Logps packed_reference(model::VisionLanguageModelImpl& m, const std::vector<train::PackedExample>& ex,
                       const std::vector<torch::Tensor>& feats) {
  torch::NoGradGuard ng;
  AdaptersOff off(m);
  return split(train::packed_logps(m, ex, feats));
}

// The official reference: the base model's log-probs computed the official way.
Logps official_reference(model::VisionLanguageModelImpl& m, const std::vector<train::PackedExample>& ex,
                         const std::vector<torch::Tensor>& px) {
  torch::NoGradGuard ng;
  AdaptersOff off(m);
  return split(official_logps(m, ex, px));
}

// What every DPO phase runs on: the model with a random, trained-looking LoRA adapter
// (policy != reference) and its optimizer; the pairs (one rejected answer each), their images,
// the image features (once per pair: the tower is frozen) and the pairs' reference log-probs.
struct DpoSetup {
  DpoSetup(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& model);
  model::VisionLanguageModelImpl& m;
  std::vector<torch::Tensor> adapter;
  torch::optim::AdamW opt;
  std::vector<train::PackedExample> pairs;
  std::vector<torch::Tensor> pixels;    // one (3, H, W) image per pair
  std::vector<torch::Tensor> features;  // their image features
  Logps reference;
};

std::vector<torch::Tensor> add_random_adapter(const Size& size, model::VisionLanguageModelImpl& m) {
  model::LoraConfig lc;
  lc.r = size.lora_r, lc.alpha = size.lora_alpha, lc.dropout = 0.0;  // no dropout: the modes' losses must agree
  torch::manual_seed(2);
  auto params = model::add_lora(m, lc);
  torch::NoGradGuard ng;
  for (auto& p : params) p.normal_(0, 0.02);
  return params;
}

DpoSetup::DpoSetup(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& model)
    : m(model),
      adapter(add_random_adapter(size, model)),
      opt(adapter, torch::optim::AdamWOptions(1e-6)),
      pairs(make_examples(size, 1)),
      pixels(random_images(ctx, size, size.dpo_pairs)) {
  {
    torch::NoGradGuard ng;
    features = m.image_features(pixels);
  }
  reference = packed_reference(m, pairs, features);
}

// One step's forward and backward on packed rows, the gradients zeroed first; the loss.
torch::Tensor packed_step(DpoSetup& s, const std::vector<train::PackedExample>& ex,
                          const std::vector<torch::Tensor>& feats, const Logps& ref, const train::DpoOptions& o) {
  s.opt.zero_grad();
  const Logps p = split(train::packed_logps(s.m, ex, feats));
  auto out = train::dpo_loss(p.chosen, p.rejected, ref.chosen, ref.rejected, o);
  out.loss.backward();
  return out.loss;
}

// The official step's forward and backward: the reference forward with the adapters off, then
// the policy's, each over separate sequences with the tower run for each; the loss.
torch::Tensor official_step(DpoSetup& s, const train::DpoOptions& o) {
  s.opt.zero_grad();
  const Logps ref = official_reference(s.m, s.pairs, s.pixels);
  const Logps p = split(official_logps(s.m, s.pairs, s.pixels));
  auto out = train::dpo_loss(p.chosen, p.rejected, ref.chosen, ref.rejected, o);
  out.loss.backward();
  return out.loss;
}

// One mode of the pair step as measured: its timing, model FLOPs and loss.
struct ModeResult {
  Timing time;
  double flops = 0;
  double loss = 0;
};

nlohmann::json mode_json(int64_t pairs, const ModeResult& r) {
  const double t = r.time.seconds, gf = r.time.gflops(r.flops);
  return {{"pairs_per_s", round_to(pairs / t, 0.001)}, {"s_per_step", round_to(t, 0.0001)},
          {"gflops", round_to(gf, 0.1)}, {"mfu", round_to(r.time.mfu(r.flops), 0.001)},
          {"gemm_gflops_now", round_to(r.time.gemm_gflops, 0.1)}, {"loss", r.loss},
          {"memory", memory_json(r.time.memory)}};
}

void report_pair_step(const Size& size, const ModeResult& ours, const ModeResult& official, double loss_diff,
                      Report& rep) {
  const int64_t B = size.dpo_pairs;
  const double t_ours = ours.time.seconds, t_off = official.time.seconds;
  rep.rows.push_back(timed_row("DPO step, ours", fmt("%.2f pairs/s", B / t_ours), ours.time, ours.flops,
                               "packed, reference log-probs and image features precomputed"));
  rep.rows.push_back(timed_row("DPO step, official", fmt("%.2f pairs/s", B / t_off), official.time, official.flops,
                               "separate sequences, tower x4/pair, reference forward, full logits (FLOPs as computed)"));
  rep.rows.push_back(ratio_row("DPO ours / official", t_off / t_ours, fmt("loss |diff| %.2e", loss_diff)));
  rep.json["dpo"] = {{"pairs", B}, {"ours", mode_json(B, ours)}, {"official", mode_json(B, official)},
                     {"lora_r", size.lora_r}};
  rep.json["train_mfu"] = round_to(ours.time.mfu(ours.flops), 0.001);
  rep.json["dpo_speedup_vs_official"] = round_to(t_off / t_ours, 0.01);
}

// Ours against the official algorithm on the same pairs. Each mode is timed (and its memory
// probed) before the other runs: on CPU the process keeps freed memory, so a probe after the
// larger official step would hide ours. The adapter is restored in between so that the official
// mode's first loss is computed at ours' starting point.
struct PairStepResult {
  double official_seconds = 0;  // the official step's best time
  double loss_diff = 0;         // |ours - official| at the first step
};

PairStepResult bench_pair_step(const Context& ctx, const Size& size, DpoSetup& s, Report& rep) {
  const train::DpoOptions dpo{};
  std::vector<torch::Tensor> start;
  {
    torch::NoGradGuard ng;
    for (auto& p : s.adapter) start.push_back(p.detach().clone());
  }
  ModeResult ours, official;
  auto ours_step = [&] { ours.loss = packed_step(s, s.pairs, s.features, s.reference, dpo).item<double>(); };
  ours_step();
  const double first_ours = ours.loss;
  ours.time = time_phase(ctx, [&] { ours_step(); s.opt.step(); }, 0, size.reps);
  ctx.profile("dpo_step", [&] {
    ours_step();
    s.opt.step();
  });
  ours.loss = first_ours;
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < s.adapter.size(); ++i) s.adapter[i].copy_(start[i]);
  }
  auto official_step_once = [&] { official.loss = official_step(s, dpo).item<double>(); };
  official_step_once();
  const double loss_diff = std::abs(ours.loss - official.loss);
  std::printf("  first-step loss: ours %.8f, official %.8f (|diff| %.2e)\n", ours.loss, official.loss, loss_diff);
  official.time = time_phase(ctx, [&] { official_step_once(); s.opt.step(); }, 0, std::max(1, size.reps - 1));
  ours.flops = train_step_flops(size, packed_rows(size, s.pairs), answer_tokens(s.pairs));
  official.flops = official_step_flops(size, s.pairs);
  report_pair_step(size, ours, official, loss_diff, rep);
  return {official.time.seconds, loss_diff};
}

// Multi-negative examples: one chosen and K rejected answers per example (packed into one row),
// and the same data as K ordinary pairs (chosen, rejected_j) per example.
struct MultiNegativeData {
  static constexpr int K = 3;
  std::vector<train::PackedExample> multi, as_pairs;
  std::vector<torch::Tensor> pair_features;  // the examples' features, each repeated K times
  Logps multi_reference, pairs_reference;
};

MultiNegativeData make_multi_negative(const Size& size, const DpoSetup& s) {
  MultiNegativeData d;
  d.multi = make_examples(size, MultiNegativeData::K);
  for (const auto& e : d.multi)
    for (int j = 1; j <= MultiNegativeData::K; ++j) d.as_pairs.push_back({e.prompt_ids, {e.answers[0], e.answers[j]}});
  for (const auto& f : s.features) d.pair_features.insert(d.pair_features.end(), MultiNegativeData::K, f);
  d.multi_reference = packed_reference(s.m, d.multi, s.features);
  d.pairs_reference = packed_reference(s.m, d.as_pairs, d.pair_features);
  return d;
}

// The packed multi-negative loss against the official algorithm's log-probs of the same answers
// (no step taken); prints both and returns their |difference|.
double check_multi_against_official(DpoSetup& s, const MultiNegativeData& d, double packed_loss,
                                    const train::DpoOptions& multi) {
  torch::NoGradGuard ng;
  const Logps ref = official_reference(s.m, d.multi, s.pixels);
  const Logps p = split(official_logps(s.m, d.multi, s.pixels));
  const double official = train::dpo_loss(p.chosen, p.rejected, ref.chosen, ref.rejected, multi).loss.item<double>();
  const double diff = std::abs(official - packed_loss);
  std::printf("  multi-negative loss: packed %.8f, official %.8f (|diff| %.2e)\n", packed_loss, official, diff);
  return diff;
}

void report_multi_negative(const Size& size, const Timing& packed, double packed_flops, double packed_loss,
                           const Timing& pairs, double t_official, Report& rep) {
  constexpr int K = MultiNegativeData::K;
  const int64_t B = size.dpo_pairs;
  // The official algorithm would run the K pairs as K ordinary steps: K x its pair time.
  const double t_multi = packed.seconds, t_three = pairs.seconds, t_off3 = K * t_official;
  rep.rows.push_back(timed_row("multi-neg (3) packed", fmt("%.2f ex/s", B / t_multi), packed, packed_flops,
                               "[prompt][chosen][rej1][rej2][rej3], loss multi"));
  rep.rows.push_back(timed_row("multi-neg as 3 pairs", fmt("%.2f ex/s", B / t_three), pairs, 0,
                               "3 packed pairs per example (our pair step)"));
  rep.rows.push_back(ratio_row("multi packed / 3 pairs", t_three / t_multi,
                               fmt("vs 3 official pair steps: %.2fx", t_off3 / t_multi)));
  rep.json["multi_negative"] = {{"negatives", K},
                                {"packed", {{"examples_per_s", round_to(B / t_multi, 0.001)},
                                            {"s_per_step", round_to(t_multi, 0.0001)},
                                            {"mfu", round_to(packed.mfu(packed_flops), 0.001)},
                                            {"loss", packed_loss},
                                            {"memory", memory_json(packed.memory)}}},
                                {"three_pairs", {{"examples_per_s", round_to(B / t_three, 0.001)},
                                                 {"s_per_step", round_to(t_three, 0.0001)},
                                                 {"memory", memory_json(pairs.memory)}}},
                                {"speedup_vs_official_pairs", round_to(t_off3 / t_multi, 0.01)}};
  rep.json["multi_negative_speedup"] = round_to(t_three / t_multi, 0.01);
}

// Multi-negative: chosen + 3 rejected packed in one row (loss `multi`), against the same data as
// 3 ordinary pairs, each packed [prompt][chosen][rejected_j]. Returns the |loss difference|
// between the packed multi-negative loss and the official algorithm's.
double bench_multi_negative(const Context& ctx, const Size& size, DpoSetup& s, double t_official, Report& rep) {
  const MultiNegativeData d = make_multi_negative(size, s);
  train::DpoOptions multi;
  multi.type = train::LossType::Multi;
  const train::DpoOptions pair{};
  double loss = 0;
  auto packed_multi = [&] { loss = packed_step(s, d.multi, s.features, d.multi_reference, multi).item<double>(); };
  packed_multi();
  const double diff = check_multi_against_official(s, d, loss, multi);
  const Timing packed = time_phase(ctx, [&] { packed_multi(); s.opt.step(); }, 0, size.reps);
  const Timing pairs = time_with_memory(
      ctx,
      [&] {
        packed_step(s, d.as_pairs, d.pair_features, d.pairs_reference, pair);
        s.opt.step();
      },
      1, std::max(1, size.reps - 1));
  const double flops = train_step_flops(size, packed_rows(size, d.multi), answer_tokens(d.multi));
  report_multi_negative(size, packed, flops, loss, pairs, t_official, rep);
  return diff;
}

}  // namespace

double bench_dpo(const Context& ctx, const Size& size, model::VisionLanguageModelImpl& m, Report& rep) {
  DpoSetup s(ctx, size, m);
  std::printf("\nDPO step: %lld pairs, prompt %lld tokens (%lld image), answers %lld tokens in all; LoRA r %lld on every "
              "decoder linear\n",
              (long long)size.dpo_pairs, (long long)(s.pairs[0].prompt_ids.size() - 1 + size.image_tokens(0)),
              (long long)size.image_tokens(0), (long long)answer_tokens(s.pairs), (long long)size.lora_r);
  const PairStepResult pair = bench_pair_step(ctx, size, s, rep);
  const double max_diff = std::max(pair.loss_diff, bench_multi_negative(ctx, size, s, pair.official_seconds, rep));
  rep.json["loss_max_abs_diff"] = max_diff;
  return max_diff;
}

}  // namespace seva::bench
