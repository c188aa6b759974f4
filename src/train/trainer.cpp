#include "train/trainer.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "train/logps.h"
#include "train/pairs.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <sys/stat.h>

namespace seva::train {
namespace {

using io::make_dir;
using io::remove_tree;

// The order pairs are visited in: `repeat` copies of the list, shuffled per epoch from the seed.
std::vector<size_t> visit_order(size_t n, const TrainOptions& o) {
  std::vector<size_t> order;
  for (int64_t e = 0; e < o.epochs; ++e) {
    std::vector<size_t> epoch;
    for (int64_t r = 0; r < o.repeat; ++r)
      for (size_t i = 0; i < n; ++i) epoch.push_back(i);
    std::mt19937_64 rng(o.seed * 1000003ull + static_cast<uint64_t>(e));
    std::shuffle(epoch.begin(), epoch.end(), rng);
    order.insert(order.end(), epoch.begin(), epoch.end());
  }
  return order;
}


}  // namespace

double cosine_lr(double base_lr, int64_t step, int64_t total, int64_t warmup) {
  if (step < warmup) return base_lr * static_cast<double>(step) / std::max<int64_t>(1, warmup);
  double progress = static_cast<double>(step - warmup) / std::max<int64_t>(1, total - warmup);
  return base_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

int64_t train_dpo(const TrainOptions& o) {
  if (o.batch_size % o.micro_batch_size != 0)
    throw std::runtime_error("--batch-size must be a multiple of --micro-batch-size");
  make_dir(o.out);
  auto vlm = generate::Vlm::load(o.model);
  auto& m = *vlm.model;
  auto pairs = read_pairs(o.pairs);
  if (pairs.empty()) throw std::runtime_error(o.pairs + ": no pairs");
  std::vector<PackedExample> examples;
  for (const auto& p : pairs) examples.push_back(tokenize_pair(vlm.tokenizer, p));
  for (const auto& p : pairs)
    if (p.rejected.size() != pairs[0].rejected.size() && o.loss.type != LossType::Multi)
      throw std::runtime_error(p.source + ": pairs have different numbers of rejected answers; use --loss multi");

  // Image features: the tower and projector are frozen, so an image's features are kept once
  // computed, up to a memory budget (LLaVA-1.5-7B: 576 × 4096 values, ~4.7 MB in bf16, per
  // image; 10k images would not fit). Past the budget they are recomputed each time.
  constexpr int64_t kFeatureCacheBytes = int64_t{2} << 30;
  int64_t cached_bytes = 0;
  std::map<std::string, torch::Tensor> features;
  auto features_of = [&](const PreferencePair& p) {
    auto it = features.find(p.image);
    if (it != features.end()) return it->second;
    torch::NoGradGuard ng;
    auto f = m.image_features(vlm.pixels(io::join_path(o.images, p.image)).unsqueeze(0))[0];
    int64_t bytes = f.numel() * static_cast<int64_t>(f.element_size());
    if (cached_bytes + bytes <= kFeatureCacheBytes) {
      features[p.image] = f;
      cached_bytes += bytes;
    }
    return f;
  };

  // Reference log-probabilities, once, with no adapter (the base model is the reference).
  std::string ref_path = io::join_path(o.out, "ref_logps.jsonl");
  std::vector<torch::Tensor> ref(pairs.size());
  if (io::file_exists(ref_path)) {
    io::for_each_jsonl(ref_path, [&](const nlohmann::json& row, size_t line) {
      size_t i = row.at("index").get<size_t>();
      if (i >= pairs.size() || row.at("id").get<std::string>() != pairs[i].id)
        throw std::runtime_error(ref_path + ":" + std::to_string(line) + ": does not match " + o.pairs + "; remove it");
      ref[i] = torch::tensor(row.at("logps").get<std::vector<double>>(), torch::kFloat32);
    }, true);
  }
  {
    io::JsonlWriter w(ref_path, true);
    torch::NoGradGuard ng;
    for (size_t i = 0; i < pairs.size(); i += static_cast<size_t>(o.micro_batch_size)) {
      std::vector<size_t> todo;
      for (size_t j = i; j < std::min(pairs.size(), i + static_cast<size_t>(o.micro_batch_size)); ++j)
        if (!ref[j].defined()) todo.push_back(j);
      if (todo.empty()) continue;
      std::vector<PackedExample> ex;
      std::vector<torch::Tensor> f;
      for (auto j : todo) {
        ex.push_back(examples[j]);
        f.push_back(features_of(pairs[j]));
      }
      auto lp = packed_logps(m, ex, torch::stack(f));
      for (size_t k = 0; k < todo.size(); ++k) {
        ref[todo[k]] = lp[k].cpu();
        auto v = lp[k].cpu().to(torch::kFloat64);
        w.write({{"index", todo[k]}, {"id", pairs[todo[k]].id},
                 {"logps", std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel())}});
      }
    }
  }

  torch::manual_seed(o.seed);
  auto params = model::add_lora(m, o.lora);
  m.train();
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay).betas({0.9, 0.999}).eps(1e-8));

  auto order = visit_order(pairs.size(), o);
  const int64_t total_steps = static_cast<int64_t>((order.size() + o.batch_size - 1) / o.batch_size);
  const int64_t warmup = static_cast<int64_t>(std::ceil(o.warmup_ratio * total_steps));
  const int64_t last_step = o.max_steps > 0 ? std::min(o.max_steps, total_steps) : total_steps;

  std::string ckpt = io::join_path(o.out, "checkpoint");
  int64_t step = 0;
  if (o.resume && io::file_exists(io::join_path(ckpt, "state.json"))) {
    auto state = io::read_json(io::join_path(ckpt, "state.json"));
    step = state.at("step").get<int64_t>();
    auto saved = io::SafetensorsFile(io::join_path(ckpt, "adapter_model.safetensors"));
    torch::NoGradGuard ng;
    for (auto& [name, p] : model::lora_parameters(m)) p.copy_(saved.get("base_model.model." + name, p.scalar_type()));
    torch::load(opt, io::join_path(ckpt, "optimizer.pt"));
    torch::Tensor rng;
    torch::load(rng, io::join_path(ckpt, "rng.pt"));
    auto gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng);
    if (!o.quiet) std::cerr << "resuming " << o.out << " at step " << step << "\n";
  } else if (io::file_exists(io::join_path(o.out, "metrics.jsonl")) && !o.resume) {
    std::remove(io::join_path(o.out, "metrics.jsonl").c_str());
  }

  auto save = [&](int64_t at_step) {
    std::string tmp = ckpt + ".tmp";
    remove_tree(tmp);
    make_dir(tmp);
    model::save_adapter(m, o.lora, tmp, o.model.model_dir);
    torch::save(opt, io::join_path(tmp, "optimizer.pt"));
    torch::save(at::detail::getDefaultCPUGenerator().get_state(), io::join_path(tmp, "rng.pt"));
    io::write_file_atomic(io::join_path(tmp, "state.json"),
                          nlohmann::json{{"step", at_step}, {"total_steps", total_steps}, {"seed", o.seed}}.dump() + "\n");
    remove_tree(ckpt);
    if (std::rename(tmp.c_str(), ckpt.c_str()) != 0) throw std::runtime_error("cannot move " + tmp + " to " + ckpt);
  };

  io::JsonlWriter metrics(io::join_path(o.out, "metrics.jsonl"), true);
  auto t0 = std::chrono::steady_clock::now();
  for (; step < last_step; ++step) {
    double lr = cosine_lr(o.lr, step, total_steps, warmup);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    opt.zero_grad();
    size_t begin = static_cast<size_t>(step * o.batch_size), end = std::min(order.size(), begin + static_cast<size_t>(o.batch_size));
    double n = static_cast<double>(end - begin);
    double loss_sum = 0, rc = 0, rr = 0, acc = 0, lpc = 0, lpr = 0;
    for (size_t mb = begin; mb < end; mb += static_cast<size_t>(o.micro_batch_size)) {
      std::vector<PackedExample> ex;
      std::vector<torch::Tensor> f, ref_c, ref_r;
      for (size_t j = mb; j < std::min(end, mb + static_cast<size_t>(o.micro_batch_size)); ++j) {
        size_t i = order[j];
        ex.push_back(examples[i]);
        f.push_back(features_of(pairs[i]));
        auto r = ref[i].to(m.device());
        ref_c.push_back(pairs[i].chosen_ref_logp ? torch::tensor(*pairs[i].chosen_ref_logp, r.options()) : r[0]);
        ref_r.push_back(r.narrow(0, 1, r.size(0) - 1));
      }
      auto lp = packed_logps(m, ex, torch::stack(f));
      std::vector<torch::Tensor> pc, pr;
      for (auto& t : lp) {
        pc.push_back(t[0]);
        pr.push_back(t.narrow(0, 1, t.size(0) - 1));
      }
      auto out = dpo_loss(torch::stack(pc), torch::stack(pr), torch::stack(ref_c), torch::stack(ref_r), o.loss);
      double k = static_cast<double>(ex.size());
      double lv = out.loss.item<double>();
      if (!std::isfinite(lv))
        throw std::runtime_error("non-finite loss at step " + std::to_string(step) + " (pair " + pairs[order[mb]].source +
                                 "); the last good checkpoint is in " + ckpt);
      (out.loss * (k / n)).backward();
      loss_sum += lv * k;
      rc += out.reward_chosen.sum().item<double>();
      rr += out.reward_rejected.sum().item<double>();
      acc += out.accuracy.sum().item<double>();
      lpc += torch::stack(pc).sum().item<double>();
      lpr += torch::stack(pr).mean(1).sum().item<double>();
    }
    torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
    opt.step();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json row = {{"step", step + 1},          {"loss", loss_sum / n},         {"rewards/chosen", rc / n},
                          {"rewards/rejected", rr / n}, {"rewards/margins", (rc - rr) / n}, {"rewards/accuracies", acc / n},
                          {"logps/chosen", lpc / n},   {"logps/rejected", lpr / n},    {"lr", lr},
                          {"pairs_per_s", n * 1.0 / std::max(1e-9, secs)}};
    t0 = std::chrono::steady_clock::now();
    metrics.write(row);
    if (!o.quiet)
      std::fprintf(stderr, "step %lld/%lld loss %.4f margin %.4f acc %.2f lr %.3g %.2f pairs/s\n",
                   static_cast<long long>(step + 1), static_cast<long long>(total_steps), loss_sum / n, (rc - rr) / n,
                   acc / n, lr, row["pairs_per_s"].get<double>());
    if (o.save_every > 0 && (step + 1) % o.save_every == 0 && step + 1 < last_step) save(step + 1);
  }
  save(step);
  std::string final_dir = io::join_path(o.out, "adapter");
  make_dir(final_dir);
  model::save_adapter(m, o.lora, final_dir, o.model.model_dir);
  return step;
}

}  // namespace seva::train
