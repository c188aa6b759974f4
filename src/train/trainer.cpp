#include "train/trainer.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "train/image_features.h"
#include "train/logps.h"
#include "train/pairs.h"
#include "train/ref_cache.h"

#include <torch/torch.h>

#include <cstdio>

namespace seva::train {
namespace {

// The sums a DPO micro-batch logs, in MicroResult::sums order.
enum DpoSum { kLoss, kNll, kRewardChosen, kRewardRejected, kAccuracy, kLogpChosen, kLogpRejected, kDpoSums };

// What one DPO micro-batch computes: packed log-probabilities of the chosen and rejected
// answers under the policy, against the cached reference ones.
struct DpoStep {
  model::VisionLanguageModelImpl& m;
  const TrainOptions& o;
  const std::vector<PreferencePair>& pairs;
  const std::vector<PackedExample>& examples;
  const std::vector<torch::Tensor>& ref;
  ImageFeatures& features;

  MicroResult operator()(const std::vector<size_t>& items, const std::vector<size_t>& batch) const {
    std::vector<PackedExample> ex;
    std::vector<std::string> images;
    std::vector<torch::Tensor> ref_c, ref_r;
    for (size_t i : items) {
      ex.push_back(examples[i]);
      images.push_back(pairs[i].image);
      auto r = ref[i].to(m.device());
      ref_c.push_back(pairs[i].chosen_ref_logp ? torch::tensor(*pairs[i].chosen_ref_logp, r.options()) : r[0]);
      ref_r.push_back(r.narrow(0, 1, r.size(0) - 1));
    }
    auto lp = packed_logps(m, ex, features(images));
    std::vector<torch::Tensor> pc, pr;
    for (auto& t : lp) {
      pc.push_back(t[0]);
      pr.push_back(t.narrow(0, 1, t.size(0) - 1));
    }
    auto out = dpo_loss(pc, pr, ref_c, ref_r, o.loss);  // pairs may hold different numbers of negatives
    auto f64 = [](const torch::Tensor& t) { return t.detach().to(torch::kFloat64); };
    const auto chosen = torch::stack(pc);
    std::vector<torch::Tensor> rej_means;  // each pair's mean over its own negatives
    for (const auto& r : pr) rej_means.push_back(f64(r.mean()));
    torch::Tensor nll = torch::zeros({}, chosen.options());
    if (o.loss.nll_weight > 0) {
      std::vector<double> tokens;
      for (const auto& e : ex) tokens.push_back(static_cast<double>(e.answers[0].size()));
      nll = chosen_nll(chosen, torch::tensor(tokens, torch::kFloat64));
      out.loss = out.loss + o.loss.nll_weight * nll;
    }
    const double k = static_cast<double>(items.size()), n = static_cast<double>(batch.size());
    // The logged sums in one host transfer (each .item() is a device sync on a GPU).
    auto sums = torch::stack({f64(out.loss) * k, f64(nll) * k, f64(out.reward_chosen.sum()), f64(out.reward_rejected.sum()),
                              f64(out.accuracy.sum()), f64(chosen.sum()), torch::stack(rej_means).sum()})
                    .cpu();
    return {out.loss * (k / n), std::vector<double>(sums.data_ptr<double>(), sums.data_ptr<double>() + kDpoSums)};
  }
};

nlohmann::json dpo_row(const StepReport& r, bool nll) {
  const auto& v = r.sums;
  const double n = static_cast<double>(r.batch->size());
  nlohmann::json row = {{"step", r.step},
                        {"loss", v[kLoss] / n},
                        {"rewards/chosen", v[kRewardChosen] / n},
                        {"rewards/rejected", v[kRewardRejected] / n},
                        {"rewards/margins", (v[kRewardChosen] - v[kRewardRejected]) / n},
                        {"rewards/accuracies", v[kAccuracy] / n},
                        {"logps/chosen", v[kLogpChosen] / n},
                        {"logps/rejected", v[kLogpRejected] / n},
                        {"lr", r.lr},
                        {"grad_norm", r.grad_norm},
                        {"pairs_per_s", n / r.seconds}};
  if (nll) row["nll/chosen"] = v[kNll] / n;
  return row;
}

std::string dpo_line(const StepReport& r) {
  const auto& v = r.sums;
  const double n = static_cast<double>(r.batch->size());
  char buf[256];
  std::snprintf(buf, sizeof buf, "step %lld/%lld loss %.4f margin %.4f acc %.2f lr %.3g %.2f pairs/s",
                static_cast<long long>(r.step), static_cast<long long>(r.total_steps), v[kLoss] / n,
                (v[kRewardChosen] - v[kRewardRejected]) / n, v[kAccuracy] / n, r.lr, n / r.seconds);
  return buf;
}

// What a DPO checkpoint's meaning depends on, beyond the loop's own settings.
nlohmann::json dpo_identity(const TrainOptions& o, const nlohmann::json& ref_key) {
  return {{"trainer", "dpo"},
          {"data", ref_key.at("pairs")},
          {"model", run_identity_of(ref_key.at("model"))},
          {"adapter", run_identity_of(ref_key.at("adapter"))},
          {"loss", {{"type", static_cast<int>(o.loss.type)}, {"beta", o.loss.beta},
                    {"label_smoothing", o.loss.label_smoothing}, {"nll", o.loss.nll_weight}}},
          {"lora", o.lora.to_peft_json()},
          {"weight_decay", o.weight_decay}};
}

std::vector<PreferencePair> read_checked_pairs(const TrainOptions& o) {
  auto pairs = read_pairs(o.pairs);
  if (pairs.empty()) throw std::runtime_error(o.pairs + ": no pairs");
  for (const auto& p : pairs)
    if (p.rejected.size() != pairs[0].rejected.size() && o.loss.type != LossType::Multi)
      throw std::runtime_error(p.source + ": pairs have different numbers of rejected answers; use --loss multi");
  return pairs;
}

}  // namespace

generate::ModelOptions training_model_options(const generate::ModelOptions& model, bool bf16) {
  auto m = model;
  if (!bf16) return m;
  if (m.dtype != "auto" && m.dtype != "bfloat16" && m.dtype != "bf16")
    throw std::runtime_error("--bf16 trains on a bfloat16 base; it contradicts --dtype " + m.dtype);
  m.dtype = "bfloat16";
  return m;
}

int64_t train_dpo(const TrainOptions& o) {
  const int64_t micro = effective_micro_batch(o.loop.batch_size, o.loop.micro_batch_size);  // refused before loading
  auto model_opts = training_model_options(o.model, o.bf16);
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  const bool quiet = o.loop.quiet || !dist::is_main();
  io::make_dir(o.loop.out);
  std::unique_ptr<io::DirLock> lock;  // one rank holds it for the job
  if (dist::is_main()) lock = std::make_unique<io::DirLock>(o.loop.out, "seva train");
  auto vlm = generate::Vlm::load(model_opts);
  auto& m = *vlm.model;
  const auto pairs = read_checked_pairs(o);
  std::vector<PackedExample> examples;
  for (const auto& p : pairs) examples.push_back(tokenize_pair(vlm.tokenizer, vlm.chat, p));

  // The tower and the projector are frozen unless LoRA targets the projector; the tower's
  // output is kept, the projector runs each step.
  ImageFeatures features(vlm, o.images, /*tower_trains=*/false);
  // Reference log-probabilities, once, with no adapter (the base model is the reference).
  const auto key = ref_cache_key(o.pairs, model_opts, m.dtype(), o.images);
  const auto ref = reference_logps(m, pairs, examples, features, {o.pairs, o.loop.out, key, micro, quiet});

  torch::manual_seed(o.loop.seed);
  auto params = model::add_lora(m, o.lora, model::training_lora_dtype(m.dtype()));
  dist::broadcast(params);  // the same seed made them equal already; this makes sure
  m.train();
  m.language_model->model->gradient_checkpointing = o.gradient_checkpointing;
  torch::optim::AdamW opt(params,
                          torch::optim::AdamWOptions(o.loop.lr).weight_decay(o.weight_decay).betas({0.9, 0.999}).eps(1e-8));

  TrainerParts t;
  t.micro_step = DpoStep{m, o, pairs, examples, ref, features};
  t.sum_count = kDpoSums;
  t.describe = [&](const std::vector<size_t>& items) { return "pair " + pairs[items[0]].source; };
  t.save_weights = [&](const std::string& dir) { model::save_adapter(m, o.lora, dir, o.model.model_dir); };
  t.load_weights = [&](const std::string& dir) {
    io::SafetensorsFile saved(io::join_path(dir, "adapter_model.safetensors"));
    torch::NoGradGuard ng;
    for (auto& [name, p] : model::lora_parameters(m)) p.copy_(saved.get("base_model.model." + name, p.scalar_type()));
  };
  t.row = [&](const StepReport& r) { return dpo_row(r, o.loss.nll_weight > 0); };
  t.line = dpo_line;
  t.identity = dpo_identity(o, key);
  t.final_dir = "adapter";
  return run_training(o.loop, pairs.size(), t, opt, params);
}

}  // namespace seva::train
