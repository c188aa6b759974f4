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

namespace seva::bench {
namespace {

// The official way: every answer its own sequence [prompt][answer], the vision tower run for each
// and float32 logits at every position (forward_logits), then log-softmax and gather. Its rows are
// left-padded where TRL pads right: padded keys are hidden and positions count real tokens, so the
// side changes the log-probs by rounding only, and the FLOPs not at all.
std::vector<torch::Tensor> official_logps(model::LlavaForConditionalGenerationImpl& m,
                                          const std::vector<train::PackedExample>& ex, const torch::Tensor& px) {
  std::vector<std::vector<int64_t>> seqs;
  std::vector<torch::Tensor> images;
  for (size_t e = 0; e < ex.size(); ++e)
    for (const auto& a : ex[e].answers) {
      auto s = ex[e].prompt_ids;
      s.insert(s.end(), a.begin(), a.end());
      seqs.push_back(std::move(s));
      images.push_back(px[static_cast<int64_t>(e)]);
    }
  auto logits = m.forward_logits(seqs, torch::stack(images));  // (S, T, V); the tower once per sequence
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

// (B,) chosen and (B, k) rejected from per-example (1 + k,) log-probs.
void split(const std::vector<torch::Tensor>& lp, torch::Tensor& chosen, torch::Tensor& rejected) {
  std::vector<torch::Tensor> cs, rs;
  for (auto& x : lp) cs.push_back(x[0]), rs.push_back(x.narrow(0, 1, x.size(0) - 1));
  chosen = torch::stack(cs), rejected = torch::stack(rs);
}

// Examples shaped like the paper's data: a prompt of ~40 text tokens around <image>, answers of
// the size's lengths (EOS included), `negatives` rejected answers each.
std::vector<train::PackedExample> make_examples(const Size& s, int negatives) {
  std::vector<train::PackedExample> ex;
  const int64_t V = s.cfg.text.vocab_size;
  auto tok = [&](int64_t x) { return 3 + x % (V - 3); };
  for (int64_t i = 0; i < s.dpo_pairs; ++i) {
    train::PackedExample e;
    e.prompt_ids = {1};
    const int64_t before = 34, after = s.prompt_text_tokens - before - 2 + (i % 3) * 2;
    for (int64_t k = 0; k < before; ++k) e.prompt_ids.push_back(tok(100 + i * 37 + k * 11));
    e.prompt_ids.push_back(s.cfg.image_token_index);
    for (int64_t k = 0; k < after; ++k) e.prompt_ids.push_back(tok(200 + i * 13 + k * 7));
    auto answer = [&](int64_t len, int64_t salt) {
      std::vector<int64_t> a;
      for (int64_t k = 0; k + 1 < len; ++k) a.push_back(tok(300 + salt * 101 + i * 17 + k * 5));
      a.push_back(s.cfg.text.eos_token_id);
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
  const auto& t = s.cfg.text;
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
  for (const auto& e : ex) {
    int64_t n = static_cast<int64_t>(e.prompt_ids.size()) - 1 + s.cfg.image_tokens();
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
  const auto& t = s.cfg.text;
  const double L = t.num_hidden_layers, HD = double(t.num_attention_heads) * t.dim_per_head();
  const double mm = layer_matmul_params(t), lora = layer_lora_params(t, s.lora_r);
  int64_t T = 0, S = 0;
  for (const auto& e : ex)
    for (const auto& a : e.answers) {
      T = std::max<int64_t>(T, e.prompt_ids.size() - 1 + s.cfg.image_tokens() + a.size());
      ++S;
    }
  const double n = double(S) * T;  // padded positions as computed
  double f = 2.0 * S * vision_image_flops(s.cfg);
  f += n * L * (2 * mm + 2 * lora) + S * 4.0 * T * T * HD * L + n * lm_head_flops(t);   // reference
  f += n * L * (2 * mm + 2 * lora) + S * 4.0 * T * T * HD * L + n * lm_head_flops(t);   // policy forward
  f += n * L * (2 * mm + 4 * lora) + S * 8.0 * T * T * HD * L + n * lm_head_flops(t);   // backward
  return f;
}

}  // namespace

double bench_dpo(const Context& ctx, const Size& size, model::LlavaForConditionalGenerationImpl& m, Report& rep) {
  auto& js = rep.json;
  double peak = ctx.peak_gflops;  // the GEMM rate is re-measured before each phase (the machine drifts)
  model::LoraConfig lc;
  lc.r = size.lora_r, lc.alpha = size.lora_alpha, lc.dropout = 0.0;  // no dropout: the modes' losses must agree
  torch::manual_seed(2);
  auto params = model::add_lora(m, lc);
  {
    torch::NoGradGuard ng;
    for (auto& p : params) p.normal_(0, 0.02);  // a trained-looking adapter: policy != reference
  }
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-6));
  train::DpoOptions dpo;
  const auto ex = make_examples(size, 1);
  const int64_t B = size.dpo_pairs;
  auto px = torch::randn({B, 3, size.cfg.vision.image_size, size.cfg.vision.image_size},
                         torch::TensorOptions().device(ctx.device));
  std::printf("\nDPO step: %lld pairs, prompt %lld tokens (%lld image), answers %lld tokens in all; LoRA r %lld on every "
              "decoder linear\n",
              (long long)B, (long long)(ex[0].prompt_ids.size() - 1 + size.cfg.image_tokens()),
              (long long)size.cfg.image_tokens(), (long long)answer_tokens(ex), (long long)size.lora_r);

  // Ours: image features and reference log-probs once, outside the step (as `seva train`).
  auto reference = [&](const std::vector<train::PackedExample>& e, const torch::Tensor& feats, torch::Tensor& rc,
                       torch::Tensor& rr) {
    torch::NoGradGuard ng;
    model::set_lora_enabled(m, false);
    split(train::packed_logps(m, e, feats), rc, rr);
    model::set_lora_enabled(m, true);
  };
  torch::Tensor feats, ref_c, ref_r;
  {
    torch::NoGradGuard ng;
    feats = m.image_features(px);
  }
  reference(ex, feats, ref_c, ref_r);
  double loss_ours = 0, loss_official = 0;
  auto ours = [&] {
    opt.zero_grad();
    torch::Tensor pc, pr;
    split(train::packed_logps(m, ex, feats), pc, pr);
    auto out = train::dpo_loss(pc, pr, ref_c, ref_r, dpo);
    out.loss.backward();
    loss_ours = out.loss.item<double>();
  };
  auto official = [&] {
    opt.zero_grad();
    torch::Tensor rc, rr, pc, pr;
    {
      torch::NoGradGuard ng;
      model::set_lora_enabled(m, false);
      split(official_logps(m, ex, px), rc, rr);
      model::set_lora_enabled(m, true);
    }
    split(official_logps(m, ex, px), pc, pr);
    auto out = train::dpo_loss(pc, pr, rc, rr, dpo);
    out.loss.backward();
    loss_official = out.loss.item<double>();
  };
  // Each mode timed (and its memory probed) before the other runs: on CPU the process keeps freed
  // memory, so a probe after the larger official step would hide ours. The adapter is restored in
  // between so that the official mode's first loss is computed at ours' starting point.
  std::vector<torch::Tensor> start;
  {
    torch::NoGradGuard ng;
    for (auto& p : params) start.push_back(p.detach().clone());
  }
  ours();
  const double first_ours = loss_ours;
  const double peak_ours = ctx.gemm_now();
  MemoryProbe mem_ours(ctx);
  double t_ours = ctx.best_time([&] { ours(); opt.step(); }, 0, size.reps);
  auto mr_ours = mem_ours.finish();
  ctx.profile("dpo_step", [&] {
    ours();
    opt.step();
  });
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(start[i]);
  }
  official();
  loss_ours = first_ours;
  double max_diff = std::abs(loss_ours - loss_official);
  std::printf("  first-step loss: ours %.8f, official %.8f (|diff| %.2e)\n", loss_ours, loss_official, max_diff);
  const double peak_off = ctx.gemm_now();
  MemoryProbe mem_off(ctx);
  double t_off = ctx.best_time([&] { official(); opt.step(); }, 0, std::max(1, size.reps - 1));
  auto mr_off = mem_off.finish();

  const double f_ours = train_step_flops(size, packed_rows(size, ex), answer_tokens(ex));
  const double f_off = official_step_flops(size, ex);
  const double gf_ours = f_ours / t_ours / 1e9, gf_off = f_off / t_off / 1e9;
  rep.rows.push_back({"DPO step, ours", fmt("%.2f pairs/s", B / t_ours), fmt("%.3f s", t_ours), fmt("%.1f", gf_ours),
                      fmt("%.0f%%", 100 * gf_ours / peak_ours), memory_cell(mr_ours),
                      "packed, reference log-probs and image features precomputed"});
  rep.rows.push_back({"DPO step, official", fmt("%.2f pairs/s", B / t_off), fmt("%.3f s", t_off), fmt("%.1f", gf_off),
                      fmt("%.0f%%", 100 * gf_off / peak_off), memory_cell(mr_off),
                      "separate sequences, tower x4/pair, reference forward, full logits (FLOPs as computed)"});
  rep.rows.push_back({"DPO ours / official", fmt("%.2fx", t_off / t_ours), "", "", "", "",
                      fmt("loss |diff| %.2e", max_diff)});
  js["dpo"] = {{"pairs", B},
               {"ours", {{"pairs_per_s", round_to(B / t_ours, 0.001)}, {"s_per_step", round_to(t_ours, 0.0001)},
                         {"gflops", round_to(gf_ours, 0.1)}, {"mfu", round_to(gf_ours / peak_ours, 0.001)},
                         {"gemm_gflops_now", round_to(peak_ours, 0.1)},
                         {"loss", loss_ours}, {"memory", memory_json(mr_ours)}}},
               {"official", {{"pairs_per_s", round_to(B / t_off, 0.001)}, {"s_per_step", round_to(t_off, 0.0001)},
                             {"gflops", round_to(gf_off, 0.1)}, {"mfu", round_to(gf_off / peak_off, 0.001)},
                             {"gemm_gflops_now", round_to(peak_off, 0.1)},
                             {"loss", loss_official}, {"memory", memory_json(mr_off)}}},
               {"lora_r", size.lora_r}};
  js["train_mfu"] = round_to(gf_ours / peak_ours, 0.001);
  js["dpo_speedup_vs_official"] = round_to(t_off / t_ours, 0.01);

  // Multi-negative: chosen + 3 rejected packed in one row (loss `multi`), against the same data
  // as 3 ordinary pairs (chosen, rejected_j), each packed [prompt][chosen][rejected_j].
  const int K = 3;
  const auto exm = make_examples(size, K);
  std::vector<train::PackedExample> ex3;
  for (const auto& e : exm)
    for (int j = 1; j <= K; ++j) ex3.push_back({e.prompt_ids, {e.answers[0], e.answers[j]}});
  torch::Tensor feats3 = feats.repeat_interleave(K, 0);
  torch::Tensor mref_c, mref_r, sref_c, sref_r;
  reference(exm, feats, mref_c, mref_r);
  reference(ex3, feats3, sref_c, sref_r);
  train::DpoOptions multi;
  multi.type = train::LossType::Multi;
  double loss_multi = 0;
  auto packed_multi = [&] {
    opt.zero_grad();
    torch::Tensor pc, pr;
    split(train::packed_logps(m, exm, feats), pc, pr);
    auto out = train::dpo_loss(pc, pr, mref_c, mref_r, multi);
    out.loss.backward();
    loss_multi = out.loss.item<double>();
  };
  auto three_pairs = [&] {
    opt.zero_grad();
    torch::Tensor pc, pr;
    split(train::packed_logps(m, ex3, feats3), pc, pr);
    auto out = train::dpo_loss(pc, pr, sref_c, sref_r, dpo);
    out.loss.backward();
  };
  // The packed multi-negative loss against the official algorithm's log-probs of the same answers.
  packed_multi();
  {
    torch::NoGradGuard ng;
    torch::Tensor rc, rr, pc, pr;
    model::set_lora_enabled(m, false);
    split(official_logps(m, exm, px), rc, rr);
    model::set_lora_enabled(m, true);
    split(official_logps(m, exm, px), pc, pr);
    double official_multi = train::dpo_loss(pc, pr, rc, rr, multi).loss.item<double>();
    double d = std::abs(official_multi - loss_multi);
    std::printf("  multi-negative loss: packed %.8f, official %.8f (|diff| %.2e)\n", loss_multi, official_multi, d);
    max_diff = std::max(max_diff, d);
  }
  peak = ctx.gemm_now();
  MemoryProbe mem_multi(ctx);
  double t_multi = ctx.best_time([&] { packed_multi(); opt.step(); }, 0, size.reps);
  auto mr_multi = mem_multi.finish();
  MemoryProbe mem_three(ctx);
  double t_three = ctx.best_time([&] { three_pairs(); opt.step(); }, 1, std::max(1, size.reps - 1));
  auto mr_three = mem_three.finish();
  const double f_multi = train_step_flops(size, packed_rows(size, exm), answer_tokens(exm));
  const double gf_multi = f_multi / t_multi / 1e9;
  // The official algorithm would run the 3 pairs as 3 ordinary steps: 3x its pair time.
  const double t_off3 = K * t_off;
  rep.rows.push_back({"multi-neg (3) packed", fmt("%.2f ex/s", B / t_multi), fmt("%.3f s", t_multi),
                      fmt("%.1f", gf_multi), fmt("%.0f%%", 100 * gf_multi / peak), memory_cell(mr_multi),
                      "[prompt][chosen][rej1][rej2][rej3], loss multi"});
  rep.rows.push_back({"multi-neg as 3 pairs", fmt("%.2f ex/s", B / t_three), fmt("%.3f s", t_three), "", "",
                      memory_cell(mr_three), "3 packed pairs per example (our pair step)"});
  rep.rows.push_back({"multi packed / 3 pairs", fmt("%.2fx", t_three / t_multi), "", "", "", "",
                      fmt("vs 3 official pair steps: %.2fx", t_off3 / t_multi)});
  js["multi_negative"] = {{"negatives", K},
                          {"packed", {{"examples_per_s", round_to(B / t_multi, 0.001)},
                                      {"s_per_step", round_to(t_multi, 0.0001)},
                                      {"mfu", round_to(gf_multi / peak, 0.001)},
                                      {"loss", loss_multi},
                                      {"memory", memory_json(mr_multi)}}},
                          {"three_pairs", {{"examples_per_s", round_to(B / t_three, 0.001)},
                                           {"s_per_step", round_to(t_three, 0.0001)},
                                           {"memory", memory_json(mr_three)}}},
                          {"speedup_vs_official_pairs", round_to(t_off3 / t_multi, 0.01)}};
  js["multi_negative_speedup"] = round_to(t_three / t_multi, 0.01);
  js["loss_max_abs_diff"] = max_diff;
  return max_diff;
}

}  // namespace seva::bench
