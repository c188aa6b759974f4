#include "train/loop.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "util/rng.h"

#include <torch/serialize.h>
#include <torch/nn/utils/clip_grad.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace seva::train {
namespace {

// The layout of checkpoint/state.json; 2 added the run's settings ("run").
constexpr int kStateFormat = 2;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The run as the loop shapes it: order, schedule and where it stops.
struct Plan {
  int64_t micro = 0;
  std::vector<size_t> order;
  int64_t total_steps = 0, warmup = 0, last_step = 0;
};

Plan plan_for(const LoopOptions& o, size_t n) {
  Plan p;
  p.micro = effective_micro_batch(o.batch_size, o.micro_batch_size);
  p.order = visit_order(n, o.epochs, o.repeat, o.seed);
  p.total_steps = static_cast<int64_t>((p.order.size() + o.batch_size - 1) / o.batch_size);
  p.warmup = o.warmup_steps >= 0 ? o.warmup_steps : static_cast<int64_t>(std::ceil(o.warmup_ratio * p.total_steps));
  p.last_step = o.max_steps > 0 ? std::min(o.max_steps, p.total_steps) : p.total_steps;
  return p;
}

// The settings a checkpoint's meaning depends on: the loop's and the trainer's.
nlohmann::json run_identity(const LoopOptions& o, const Plan& p, const nlohmann::json& trainer) {
  nlohmann::json loop = {{"batch_size", o.batch_size}, {"lr", o.lr},         {"warmup_steps", p.warmup},
                         {"min_lr_ratio", o.min_lr_ratio}, {"epochs", o.epochs}, {"repeat", o.repeat},
                         {"seed", o.seed},             {"max_grad_norm", o.max_grad_norm},
                         {"total_steps", p.total_steps}};
  nlohmann::json run = trainer.is_object() ? trainer : nlohmann::json::object();
  for (auto& [k, v] : loop.items()) run[k] = v;
  return run;
}

// "lr 0.0001 (now 0.0002), batch_size 16 (now 32)": the settings that differ.
std::string differences(const nlohmann::json& saved, const nlohmann::json& now) {
  std::string out;
  auto add = [&](const std::string& k, const nlohmann::json& a, const nlohmann::json& b) {
    out += (out.empty() ? "" : ", ") + k + " " + a.dump() + " (now " + b.dump() + ")";
  };
  for (auto& [k, v] : now.items()) {
    if (!saved.contains(k)) add(k, nullptr, v);
    else if (saved[k] != v) add(k, saved[k], v);
  }
  for (auto& [k, v] : saved.items())
    if (!now.contains(k)) add(k, v, nullptr);
  return out;
}

// Restores the last checkpoint of `o.out` when resuming; returns the step it holds (0 for none).
int64_t restore(const LoopOptions& o, const TrainerParts& t, torch::optim::AdamW& opt, const nlohmann::json& run,
                bool quiet) {
  const std::string ckpt = io::join_path(o.out, "checkpoint"), state_path = io::join_path(ckpt, "state.json");
  if (!o.resume) return 0;
  recover_dir(ckpt, "state.json");  // state.json is written last: a checkpoint.tmp with it is whole
  if (!io::file_exists(state_path)) return 0;
  auto state = io::read_json(state_path);
  if (state.contains("run") && state["run"] != run)
    throw std::runtime_error(state_path + ": the run was made with other settings: " + differences(state["run"], run) +
                             "; resume with the same ones or use a new --out");
  if (!state.contains("run") && !quiet)
    std::cerr << state_path << ": an older checkpoint without its settings; resuming without checking them\n";
  const int64_t step = state.at("step").get<int64_t>();
  t.load_weights(ckpt);
  torch::load(opt, io::join_path(ckpt, "optimizer.pt"));
  if (!quiet) std::cerr << "resuming " << o.out << " at step " << step << "\n";
  return step;
}

void save_checkpoint(const LoopOptions& o, const TrainerParts& t, torch::optim::AdamW& opt, const nlohmann::json& run,
                     int64_t step, int64_t total_steps) {
  write_dir_atomic(io::join_path(o.out, "checkpoint"), [&](const std::string& dir) {
    t.save_weights(dir);
    torch::save(opt, io::join_path(dir, "optimizer.pt"));
    nlohmann::json state = {{"format", kStateFormat}, {"step", step}, {"total_steps", total_steps},
                            {"seed", o.seed},         {"run", run}};
    io::write_file_atomic(io::join_path(dir, "state.json"), state.dump() + "\n");
  });
}

// One optimizer step's gradients: this rank's micro-batches of the batch, then the sums over ranks.
std::vector<double> accumulate(const LoopOptions& o, const Plan& p, const TrainerParts& t,
                               const std::vector<size_t>& batch, int64_t step) {
  std::vector<double> sums(t.sum_count, 0.0);
  int64_t micro = 0;
  for (size_t mb = 0; mb < batch.size(); mb += static_cast<size_t>(p.micro), ++micro) {
    if (!dist::mine(static_cast<size_t>(micro))) continue;  // data parallel: micro-batch k on rank k % world
    torch::manual_seed(micro_batch_seed(o.seed, step, micro));
    std::vector<size_t> items(batch.begin() + static_cast<long>(mb),
                              batch.begin() + static_cast<long>(std::min(batch.size(), mb + static_cast<size_t>(p.micro))));
    auto r = t.micro_step(items, batch);
    for (double v : r.sums)
      if (!std::isfinite(v))
        throw std::runtime_error("non-finite loss at step " + std::to_string(step + 1) + " (micro-batch " + std::to_string(micro) +
                                 ", " + t.describe(items) + "); no weights were updated; the last good checkpoint is in " +
                                 io::join_path(o.out, "checkpoint"));
    if (r.sums.size() != t.sum_count)
      throw std::logic_error("a micro-step returned " + std::to_string(r.sums.size()) + " sums, not " +
                             std::to_string(t.sum_count));
    r.loss.backward();
    for (size_t k = 0; k < r.sums.size(); ++k) sums[k] += r.sums[k];
  }
  if (dist::active()) {
    auto all = torch::tensor(sums, torch::kFloat64);
    dist::all_reduce_sum({all});
    sums.assign(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
  }
  return sums;
}

}  // namespace

std::vector<size_t> visit_order(size_t n, int64_t epochs, int64_t repeat, uint64_t seed) {
  std::vector<size_t> order;
  const size_t copies = static_cast<size_t>(std::max<int64_t>(1, repeat));
  for (int64_t e = 0; e < epochs; ++e) {
    util::Rng rng(seed * 1000003ull + static_cast<uint64_t>(e));
    for (size_t i : rng.permutation(n * copies)) order.push_back(i % n);
  }
  return order;
}

int64_t effective_micro_batch(int64_t batch_size, int64_t micro_batch_size) {
  if (batch_size < 1) throw std::runtime_error("--batch-size must be at least 1");
  if (micro_batch_size < 1) throw std::runtime_error("--micro-batch-size must be at least 1");
  const int64_t micro = std::min(batch_size, micro_batch_size);
  if (batch_size % micro != 0)
    throw std::runtime_error("--batch-size " + std::to_string(batch_size) + " must be a multiple of --micro-batch-size " +
                             std::to_string(micro));
  return micro;
}

uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t micro_batch) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(micro_batch));
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

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string&)>& fill) {
  const std::string tmp = dir + ".tmp", old = dir + ".old";
  io::remove_tree(tmp);
  io::make_dir(tmp);
  try {
    fill(tmp);
  } catch (...) {  // a full disk: the half-written dir goes, the previous one stays as it was
    io::remove_tree(tmp);
    throw;
  }
  // The previous dir stays whole until the new one is in place: a kill between the two renames
  // leaves both, and recover_dir finds them.
  io::remove_tree(old);
  if (io::file_exists(dir) && std::rename(dir.c_str(), old.c_str()) != 0)
    throw std::runtime_error("cannot move " + dir + " to " + old + ": " + std::strerror(errno));
  if (std::rename(tmp.c_str(), dir.c_str()) != 0)
    throw std::runtime_error("cannot move " + tmp + " to " + dir + ": " + std::strerror(errno));
  io::remove_tree(old);
}

void recover_dir(const std::string& dir, const std::string& last_file) {
  if (io::file_exists(dir)) return;
  const std::string tmp = dir + ".tmp", old = dir + ".old";
  const bool whole = io::file_exists(io::join_path(tmp, last_file));
  const std::string& from = whole ? tmp : old;
  if (!io::file_exists(from)) return;
  if (std::rename(from.c_str(), dir.c_str()) != 0)
    throw std::runtime_error("cannot move " + from + " to " + dir + ": " + std::strerror(errno));
  io::remove_tree(whole ? old : tmp);  // superseded, or half-written
}

int64_t run_training(const LoopOptions& o, size_t n, const TrainerParts& t, torch::optim::AdamW& opt,
                     std::vector<torch::Tensor>& params) {
  const Plan p = plan_for(o, n);
  const bool main_rank = dist::is_main(), quiet = o.quiet || !main_rank;
  const auto run = run_identity(o, p, t.identity);
  int64_t step = restore(o, t, opt, run, quiet);
  const std::string metrics_path = io::join_path(o.out, "metrics.jsonl");
  std::unique_ptr<io::JsonlWriter> metrics;
  if (main_rank) {
    keep_metrics_until(metrics_path, step);
    metrics = std::make_unique<io::JsonlWriter>(metrics_path, true);
  }
  for (; step < p.last_step; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    StepReport r;
    r.lr = cosine_lr(o.lr, step, p.total_steps, p.warmup, o.min_lr_ratio);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(r.lr);
    opt.zero_grad();
    const size_t begin = static_cast<size_t>(step * o.batch_size);
    const std::vector<size_t> batch(p.order.begin() + static_cast<long>(begin),
                                    p.order.begin() + static_cast<long>(std::min(p.order.size(), begin + static_cast<size_t>(o.batch_size))));
    r.sums = accumulate(o, p, t, batch, step);
    if (t.before_reduce) t.before_reduce();
    // The sum over ranks of their micro-batches' gradients is the one-process gradient.
    dist::all_reduce_grads(params);
    r.grad_norm = torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
    if (!std::isfinite(r.grad_norm))
      throw std::runtime_error("non-finite gradients at step " + std::to_string(step + 1) +
                               "; no weights were updated; the last good checkpoint is in " + io::join_path(o.out, "checkpoint"));
    opt.step();
    if (t.after_step) t.after_step();
    r.step = step + 1;
    r.total_steps = p.total_steps;
    r.batch = &batch;
    r.seconds = std::max(1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (metrics) metrics->write(t.row(r));
    if (!quiet) std::fprintf(stderr, "%s\n", t.line(r).c_str());
    if (main_rank && o.save_every > 0 && (step + 1) % o.save_every == 0 && step + 1 < p.last_step)
      save_checkpoint(o, t, opt, run, step + 1, p.total_steps);
  }
  if (main_rank) {
    save_checkpoint(o, t, opt, run, step, p.total_steps);
    write_dir_atomic(io::join_path(o.out, t.final_dir), t.save_weights);
  }
  dist::barrier();  // the run's files are complete when any rank returns
  return step;
}

}  // namespace seva::train
