// seva_bench --dpo: pairs/s of seva's DPO step against the official trainer's algorithm on the
// same model, with equal losses checked on the first step.
//
// Ours: image features once per pair (the tower is frozen), reference log-probs computed once
// before training, one packed sequence per pair [prompt][chosen][rejected] under a block mask,
// lm_head only at answer positions.
// Official (TRL's DPOTrainer as SeVa runs it): chosen and rejected as two sequences, each running
// the vision tower; a reference forward (the base model: adapters off here instead of a second
// copy) every step on both; float32 logits over every position, then log-softmax and gather.
#include "model/attention.h"
#include "model/llava.h"
#include "model/lora.h"
#include "train/dpo_loss.h"
#include "train/logps.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>

using namespace seva;

namespace {

using Clock = std::chrono::steady_clock;

// The official way: separate right-padded sequences, full-sequence float32 logits.
std::vector<torch::Tensor> official_logps(model::LlavaForConditionalGenerationImpl& m,
                                          const std::vector<train::PackedExample>& ex, const torch::Tensor& px) {
  std::vector<std::vector<int64_t>> seqs;
  std::vector<int64_t> ans_len;
  std::vector<torch::Tensor> images;
  for (size_t e = 0; e < ex.size(); ++e)
    for (const auto& a : ex[e].answers) {
      auto s = ex[e].prompt_ids;
      s.insert(s.end(), a.begin(), a.end());
      seqs.push_back(s);
      ans_len.push_back(static_cast<int64_t>(a.size()));
      images.push_back(px[static_cast<int64_t>(e)]);
    }
  auto feats = m.image_features(torch::stack(images));  // the tower once per sequence
  auto batch = model::merge_prompts(m, seqs, feats, model::Padding::Right);
  auto T = batch.embeds.size(1);
  auto hidden = m.language_model->model->forward(batch.embeds, batch.positions, model::causal_bias(batch.mask, T, m.dtype()));
  auto logp = torch::log_softmax(m.language_model->logits(hidden).to(torch::kFloat32), -1);  // (S, T, V)
  std::vector<torch::Tensor> flat;
  for (size_t s = 0; s < seqs.size(); ++s) {
    int64_t len = batch.lengths[s], n = ans_len[s];
    auto targets = torch::tensor(std::vector<int64_t>(seqs[s].end() - n, seqs[s].end()), torch::kInt64);
    auto rows = logp[static_cast<int64_t>(s)].narrow(0, len - n - 1, n);
    flat.push_back(rows.gather(1, targets.unsqueeze(1)).sum());
  }
  std::vector<torch::Tensor> out;
  size_t at = 0;
  for (const auto& e : ex) {
    std::vector<torch::Tensor> v(flat.begin() + static_cast<long>(at), flat.begin() + static_cast<long>(at + e.answers.size()));
    at += e.answers.size();
    out.push_back(torch::stack(v));
  }
  return out;
}

double best_of(int reps, const std::function<void()>& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int run_dpo_bench(bool quick) {
  model::LlavaConfig cfg;
  auto& t = cfg.text;
  t.vocab_size = 32000, t.hidden_size = 512, t.intermediate_size = 1376, t.num_hidden_layers = quick ? 4 : 8;
  t.num_attention_heads = 8, t.max_position_embeddings = 4096;
  auto& v = cfg.vision;
  v.hidden_size = 384, v.intermediate_size = 1536, v.num_hidden_layers = quick ? 3 : 6, v.num_attention_heads = 6;
  v.image_size = quick ? 112 : 224, v.patch_size = 14;
  cfg.image_token_index = 31999;
  torch::manual_seed(0);
  model::LlavaForConditionalGeneration m(cfg);
  model::LoraConfig lc;
  lc.r = 64, lc.alpha = 128, lc.dropout = 0.0;
  auto params = model::add_lora(*m, lc);
  {
    torch::NoGradGuard ng;
    for (auto& p : params) p.normal_(0, 0.02);
  }
  const int64_t pairs = 4;
  std::vector<train::PackedExample> ex;
  for (int64_t i = 0; i < pairs; ++i) {
    train::PackedExample e;
    e.prompt_ids = {1};
    for (int k = 0; k < 35; ++k) e.prompt_ids.push_back(100 + (i * 37 + k * 11) % 30000);
    e.prompt_ids.push_back(cfg.image_token_index);
    for (int k = 0; k < 12; ++k) e.prompt_ids.push_back(200 + (i * 13 + k * 7) % 30000);
    std::vector<int64_t> c, r;
    for (int k = 0; k < 24; ++k) c.push_back(300 + (i + k * 5) % 30000);
    for (int k = 0; k < 20; ++k) r.push_back(400 + (i + k * 3) % 30000);
    c.push_back(2), r.push_back(2);
    e.answers = {c, r};
    ex.push_back(e);
  }
  auto px = torch::randn({pairs, 3, v.image_size, v.image_size});
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-6));
  train::DpoOptions dpo;
  auto split = [](const std::vector<torch::Tensor>& lp, torch::Tensor& c, torch::Tensor& r) {
    std::vector<torch::Tensor> cs, rs;
    for (auto& x : lp) cs.push_back(x[0]), rs.push_back(x.narrow(0, 1, x.size(0) - 1));
    c = torch::stack(cs), r = torch::stack(rs);
  };

  // Ours: features and reference log-probs once, outside the step.
  torch::Tensor feats, ref_c, ref_r;
  {
    torch::NoGradGuard ng;
    feats = m->image_features(px);
    model::set_lora_enabled(*m, false);
    split(train::packed_logps(*m, ex, feats), ref_c, ref_r);
    model::set_lora_enabled(*m, true);
  }
  double loss_ours = 0, loss_official = 0;
  auto ours = [&] {
    opt.zero_grad();
    torch::Tensor pc, pr;
    split(train::packed_logps(*m, ex, feats), pc, pr);
    auto out = train::dpo_loss(pc, pr, ref_c, ref_r, dpo);
    out.loss.backward();
    loss_ours = out.loss.item<double>();
  };
  auto official = [&] {
    opt.zero_grad();
    torch::Tensor rc, rr, pc, pr;
    {
      torch::NoGradGuard ng;
      model::set_lora_enabled(*m, false);
      split(official_logps(*m, ex, px), rc, rr);
      model::set_lora_enabled(*m, true);
    }
    split(official_logps(*m, ex, px), pc, pr);
    auto out = train::dpo_loss(pc, pr, rc, rr, dpo);
    out.loss.backward();
    loss_official = out.loss.item<double>();
  };
  // Same parameters, same loss: checked before any optimizer step.
  ours();
  official();
  const double first_diff = std::abs(loss_ours - loss_official);
  std::printf("DPO step, %lld pairs of %lld prompt + 25/21 answer tokens (%lld image tokens), LoRA r %lld on a %lldx%lld LLaMA\n",
              (long long)pairs, (long long)(ex[0].prompt_ids.size() - 1 + cfg.image_tokens()), (long long)cfg.image_tokens(),
              (long long)lc.r, (long long)t.hidden_size, (long long)t.num_hidden_layers);
  std::printf("  first-step loss: ours %.8f, official %.8f (|diff| %.2e)\n", loss_ours, loss_official, first_diff);
  int reps = quick ? 2 : 3;
  double t_ours = best_of(reps, [&] { ours(); opt.step(); });
  double t_off = best_of(reps, [&] { official(); opt.step(); });
  std::printf("  ours:     %.3f s/step, %.2f pairs/s\n", t_ours, pairs / t_ours);
  std::printf("  official: %.3f s/step, %.2f pairs/s\n", t_off, pairs / t_off);
  std::printf("  speed-up: %.2fx\n", t_off / t_ours);
  std::printf("{\"bench\":\"dpo\",\"pairs\":%lld,\"ours_pairs_per_s\":%.3f,\"official_pairs_per_s\":%.3f,\"speedup\":%.3f,"
              "\"loss_diff\":%.3g}\n",
              (long long)pairs, pairs / t_ours, pairs / t_off, t_off / t_ours, first_diff);
  return first_diff < 1e-4 ? 0 : 1;
}
