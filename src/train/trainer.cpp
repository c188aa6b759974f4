#include "train/trainer.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "train/logps.h"
#include "train/pairs.h"
#include "train/ref_cache.h"

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


uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t micro_batch) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(micro_batch));
}

generate::ModelOptions training_model_options(const generate::ModelOptions& model, bool bf16) {
  auto m = model;
  if (!bf16) return m;
  if (m.dtype != "auto" && m.dtype != "bfloat16" && m.dtype != "bf16")
    throw std::runtime_error("--bf16 trains on a bfloat16 base; it contradicts --dtype " + m.dtype);
  m.dtype = "bfloat16";
  return m;
}

void keep_metrics_until(const std::string& path, int64_t step) {
  if (!io::file_exists(path)) return;
  std::string kept;
  if (step > 0)
    io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t) {
      if (row.value("step", int64_t{0}) <= step) kept += row.dump() + "\n";
    }, true);
  io::write_file_atomic(path, kept);
}

double cosine_lr(double base_lr, int64_t step, int64_t total, int64_t warmup, double min_ratio) {
  if (step < warmup) return base_lr * static_cast<double>(step) / std::max<int64_t>(1, warmup);
  double progress = static_cast<double>(step - warmup) / std::max<int64_t>(1, total - warmup);
  double cosine = std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
  return base_lr * (min_ratio + (1.0 - min_ratio) * cosine);
}

int64_t train_dpo(const TrainOptions& o) {
  if (o.batch_size % o.micro_batch_size != 0)
    throw std::runtime_error("--batch-size must be a multiple of --micro-batch-size");
  auto model_opts = training_model_options(o.model, o.bf16);
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  const bool main_rank = dist::is_main(), quiet = o.quiet || !main_rank;
  make_dir(o.out);
  auto vlm = generate::Vlm::load(model_opts);
  auto& m = *vlm.model;
  auto pairs = read_pairs(o.pairs);
  if (pairs.empty()) throw std::runtime_error(o.pairs + ": no pairs");
  std::vector<PackedExample> examples;
  for (const auto& p : pairs) examples.push_back(tokenize_pair(vlm.tokenizer, p));
  for (const auto& p : pairs)
    if (p.rejected.size() != pairs[0].rejected.size() && o.loss.type != LossType::Multi)
      throw std::runtime_error(p.source + ": pairs have different numbers of rejected answers; use --loss multi");

  // Image features: the tower is frozen, so an image's tower output is kept once computed, up
  // to a memory budget (LLaVA-1.5-7B: 576 × 1024 values, ~1.2 MB in bf16, per image). Past the
  // budget it is recomputed each time. The projector runs at each use (a few GFLOP against the
  // decoder's TFLOPs), so LoRA on linear_1 / linear_2 trains like any other adapter.
  constexpr int64_t kFeatureCacheBytes = int64_t{2} << 30;
  int64_t cached_bytes = 0;
  std::map<std::string, torch::Tensor> features;
  auto tower_features_of = [&](const PreferencePair& p) {
    auto it = features.find(p.image);
    if (it != features.end()) return it->second;
    torch::NoGradGuard ng;
    auto f = m.vision_features(vlm.pixels(io::join_path(o.images, p.image)).unsqueeze(0))[0];
    int64_t bytes = f.numel() * static_cast<int64_t>(f.element_size());
    if (cached_bytes + bytes <= kFeatureCacheBytes) {
      features[p.image] = f;
      cached_bytes += bytes;
    }
    return f;
  };
  auto features_of = [&](const PreferencePair& p) { return m.multi_modal_projector(tower_features_of(p)); };

  // Reference log-probabilities, once, with no adapter (the base model is the reference),
  // cached next to the pairs under a key of the pairs' and the model's identity.
  const auto key = ref_cache_key(o.pairs, model_opts, m.dtype(), o.images);
  std::string ref_path = ref_cache_path(o.pairs, key);
  std::vector<torch::Tensor> ref;
  bool valid = read_ref_cache(ref_path, key, pairs, ref);
  std::unique_ptr<io::JsonlWriter> ref_writer;
  auto write_ref = [&](size_t i) {
    auto v = ref[i].to(torch::kFloat64);
    ref_writer->write({{"index", i}, {"id", pairs[i].id},
                       {"logps", std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel())}});
  };
  auto open_ref_writer = [&] {
    if (ref_writer) return;
    auto open = [&](const std::string& path, bool append) {
      ref_writer = std::make_unique<io::JsonlWriter>(path, append);
      if (!append) ref_writer->write({{"seva_ref_logps", 1}, {"key", key}});
    };
    try {
      open(ref_path, valid);
    } catch (const std::exception&) {  // the pairs' directory is read-only: keep the cache in the run
      ref_path = ref_cache_path(o.pairs, key, o.out);
      std::vector<torch::Tensor> there;
      read_ref_cache(ref_path, key, pairs, there);  // what an earlier run kept there, if anything
      for (size_t i = 0; i < ref.size(); ++i)
        if (!ref[i].defined()) ref[i] = there[i];
      open(ref_path, false);
      for (size_t i = 0; i < ref.size(); ++i)
        if (ref[i].defined()) write_ref(i);
    }
  };
  dist::barrier();  // every rank has read the cache before rank 0 writes to it
  {
    torch::NoGradGuard ng;
    size_t reused = 0;
    for (const auto& r : ref) reused += r.defined();
    if (!quiet && reused > 0) std::cerr << "reference log-probs: " << reused << " from " << ref_path << "\n";
    // Chunks of micro-batch size, chunk c on rank c % world (all of them in one process, each
    // row written as it comes so a killed run keeps them); several ranks gather theirs at the end.
    nlohmann::json mine = nlohmann::json::array();
    int64_t chunk = 0;
    for (size_t i = 0; i < pairs.size(); i += static_cast<size_t>(o.micro_batch_size), ++chunk) {
      std::vector<size_t> todo;
      for (size_t j = i; j < std::min(pairs.size(), i + static_cast<size_t>(o.micro_batch_size)); ++j)
        if (!ref[j].defined()) todo.push_back(j);
      if (todo.empty() || !dist::mine(static_cast<size_t>(chunk))) continue;
      std::vector<PackedExample> ex;
      std::vector<torch::Tensor> f;
      for (auto j : todo) {
        ex.push_back(examples[j]);
        f.push_back(features_of(pairs[j]));
      }
      auto lp = packed_logps(m, ex, torch::stack(f));
      for (size_t k = 0; k < todo.size(); ++k) {
        ref[todo[k]] = lp[k].cpu().to(torch::kFloat32);
        if (dist::active()) {
          auto v = ref[todo[k]].to(torch::kFloat64);
          mine.push_back({todo[k], std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel())});
        } else {
          open_ref_writer();
          write_ref(todo[k]);
        }
      }
    }
    if (dist::active()) {
      std::vector<size_t> fresh;
      for (const auto& bytes : dist::all_gather_bytes(mine.dump()))
        for (const auto& row : nlohmann::json::parse(bytes)) {
          size_t i = row[0].get<size_t>();
          ref[i] = torch::tensor(row[1].get<std::vector<double>>(), torch::kFloat32);
          fresh.push_back(i);
        }
      std::sort(fresh.begin(), fresh.end());
      if (main_rank && !fresh.empty()) {
        open_ref_writer();
        for (auto i : fresh) write_ref(i);
      }
    }
    ref_writer.reset();
  }

  torch::manual_seed(o.seed);
  auto params = model::add_lora(m, o.lora, model::training_lora_dtype(m.dtype()));
  dist::broadcast(params);  // the same seed made them equal already; this makes sure
  m.train();
  m.language_model->model->gradient_checkpointing = o.gradient_checkpointing;
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
    if (!quiet) std::cerr << "resuming " << o.out << " at step " << step << "\n";
  }
  if (main_rank) keep_metrics_until(io::join_path(o.out, "metrics.jsonl"), step);

  auto save = [&](int64_t at_step) {  // rank 0 only
    std::string tmp = ckpt + ".tmp";
    remove_tree(tmp);
    make_dir(tmp);
    model::save_adapter(m, o.lora, tmp, o.model.model_dir);
    torch::save(opt, io::join_path(tmp, "optimizer.pt"));
    io::write_file_atomic(io::join_path(tmp, "state.json"),
                          nlohmann::json{{"step", at_step}, {"total_steps", total_steps}, {"seed", o.seed}}.dump() + "\n");
    remove_tree(ckpt);
    if (std::rename(tmp.c_str(), ckpt.c_str()) != 0) throw std::runtime_error("cannot move " + tmp + " to " + ckpt);
  };

  std::unique_ptr<io::JsonlWriter> metrics;
  if (main_rank) metrics = std::make_unique<io::JsonlWriter>(io::join_path(o.out, "metrics.jsonl"), true);
  auto t0 = std::chrono::steady_clock::now();
  for (; step < last_step; ++step) {
    double lr = cosine_lr(o.lr, step, total_steps, warmup);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    opt.zero_grad();
    size_t begin = static_cast<size_t>(step * o.batch_size), end = std::min(order.size(), begin + static_cast<size_t>(o.batch_size));
    double n = static_cast<double>(end - begin);
    double loss_sum = 0, rc = 0, rr = 0, acc = 0, lpc = 0, lpr = 0, nll_sum = 0;
    int64_t micro = 0;
    for (size_t mb = begin; mb < end; mb += static_cast<size_t>(o.micro_batch_size), ++micro) {
      if (!dist::mine(static_cast<size_t>(micro))) continue;  // data parallel: micro-batch k on rank k % world
      torch::manual_seed(micro_batch_seed(o.seed, step, micro));
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
      // The logged sums in one host transfer (each .item() is a device sync on a GPU).
      auto sums = torch::stack({f64(out.loss), f64(nll), f64(out.reward_chosen.sum()), f64(out.reward_rejected.sum()),
                                f64(out.accuracy.sum()), f64(chosen.sum()), torch::stack(rej_means).sum()})
                      .cpu();
      auto v = sums.accessor<double, 1>();
      const double k = static_cast<double>(ex.size()), lv = v[0];
      if (!std::isfinite(lv))
        throw std::runtime_error("non-finite loss at step " + std::to_string(step) + " (pair " + pairs[order[mb]].source +
                                 "); the last good checkpoint is in " + ckpt);
      (out.loss * (k / n)).backward();
      loss_sum += lv * k;
      nll_sum += v[1] * k;
      rc += v[2];
      rr += v[3];
      acc += v[4];
      lpc += v[5];
      lpr += v[6];
    }
    // The sum over ranks of their micro-batches' gradients is the one-process gradient.
    dist::all_reduce_grads(params);
    if (dist::active()) {
      auto sums = torch::tensor({loss_sum, rc, rr, acc, lpc, lpr, nll_sum}, torch::kFloat64);
      dist::all_reduce_sum({sums});
      auto v = sums.accessor<double, 1>();
      loss_sum = v[0], rc = v[1], rr = v[2], acc = v[3], lpc = v[4], lpr = v[5], nll_sum = v[6];
    }
    torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
    opt.step();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json row = {{"step", step + 1},          {"loss", loss_sum / n},         {"rewards/chosen", rc / n},
                          {"rewards/rejected", rr / n}, {"rewards/margins", (rc - rr) / n}, {"rewards/accuracies", acc / n},
                          {"logps/chosen", lpc / n},   {"logps/rejected", lpr / n},    {"lr", lr},
                          {"pairs_per_s", n * 1.0 / std::max(1e-9, secs)}};
    if (o.loss.nll_weight > 0) row["nll/chosen"] = nll_sum / n;
    t0 = std::chrono::steady_clock::now();
    if (metrics) metrics->write(row);
    if (!quiet)
      std::fprintf(stderr, "step %lld/%lld loss %.4f margin %.4f acc %.2f lr %.3g %.2f pairs/s\n",
                   static_cast<long long>(step + 1), static_cast<long long>(total_steps), loss_sum / n, (rc - rr) / n,
                   acc / n, lr, row["pairs_per_s"].get<double>());
    if (main_rank && o.save_every > 0 && (step + 1) % o.save_every == 0 && step + 1 < last_step) save(step + 1);
  }
  if (main_rank) {
    save(step);
    std::string final_dir = io::join_path(o.out, "adapter");
    make_dir(final_dir);
    model::save_adapter(m, o.lora, final_dir, o.model.model_dir);
  }
  dist::barrier();  // the run's files are complete when any rank returns
  return step;
}

}  // namespace seva::train
