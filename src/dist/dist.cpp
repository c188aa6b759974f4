#include "dist/dist.h"

#include "seva_features.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>

#if SEVA_HAS_C10D
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if SEVA_HAS_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace seva::dist {
namespace {

int int_var(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi)
    throw std::runtime_error(std::string("environment variable ") + name + "='" + v + "' is not an integer in [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(x);
}

#if SEVA_HAS_C10D
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;  // 2.x: a process group dispatches to per-device backends
#else
using Backend = c10d::ProcessGroup;
#endif
#endif

struct State {
  Env env;
  bool initialised = false;
  torch::Device comm_device{torch::kCPU};  // where collectives' tensors live (CUDA for NCCL)
  std::string backend = "none";
  int64_t collectives = 0;  // for the test hook below
#if SEVA_HAS_C10D
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> group;
#endif
};

State& state() {
  // Never destroyed: a process group's threads must not be joined during static destruction
  // (at exit after a peer died they could wait forever).
  static State* s = [] {
    auto* st = new State;
    st->env = read_env();
    return st;
  }();
  return *s;
}

std::string where() {
  const auto& e = state().env;
  return "rank " + std::to_string(e.rank) + " of " + std::to_string(e.world_size);
}

std::string error_text(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// Hidden test hook: SEVA_TEST_EXIT_RANK=r SEVA_TEST_EXIT_AT=n makes rank r exit (status 3) when
// it reaches its n-th collective, as a crashed process would.
void test_hook() {
  auto& s = state();
  ++s.collectives;
  const char* r = std::getenv("SEVA_TEST_EXIT_RANK");
  const char* n = std::getenv("SEVA_TEST_EXIT_AT");
  if (r && n && std::atoi(r) == s.env.rank && std::atoll(n) == s.collectives) {
    std::fprintf(stderr, "seva: test hook: %s exits at collective %lld\n", where().c_str(),
                 static_cast<long long>(s.collectives));
    std::fflush(stderr);
    std::_Exit(3);
  }
}

#if SEVA_HAS_C10D
// Runs one collective and waits for it; any failure becomes one clear line.
template <class F>
void collective(const char* what, F&& start) {
  test_hook();
  try {
    auto work = start(*state().group);
    if (!work->wait(timeout()))
      throw std::runtime_error("timed out after " + std::to_string(timeout().count() / 1000) + " s");
  } catch (const std::exception& e) {
    throw std::runtime_error(where() + ": " + what + " failed: " + error_text(e) +
                             " (another process of this run has died, hangs or cannot be reached; stopping)");
  }
}
#endif

constexpr int64_t kBucketBytes = 25ll << 20;

}  // namespace

Env read_env() {
  Env e;
  e.world_size = int_var("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = int_var("RANK", 0, 0, 1 << 20);
  e.local_rank = int_var("LOCAL_RANK", e.rank, 0, 1 << 20);
  if (e.rank >= e.world_size)
    throw std::runtime_error("environment: RANK=" + std::to_string(e.rank) + " is not below WORLD_SIZE=" +
                             std::to_string(e.world_size));
  if (e.world_size > 1) {
    const char* addr = std::getenv("MASTER_ADDR");
    if (!addr || !*addr) throw std::runtime_error("environment: WORLD_SIZE > 1 but MASTER_ADDR is not set");
    e.master_addr = addr;
    if (!std::getenv("MASTER_PORT")) throw std::runtime_error("environment: WORLD_SIZE > 1 but MASTER_PORT is not set");
    e.master_port = int_var("MASTER_PORT", 0, 1, 65535);
  }
  return e;
}

std::chrono::milliseconds timeout() {
  static const int seconds = int_var("SEVA_DIST_TIMEOUT", 1800, 1, 7 * 24 * 3600);
  return std::chrono::milliseconds(int64_t{seconds} * 1000);
}

int rank() { return state().env.rank; }
int world_size() { return state().env.world_size; }
int local_rank() { return state().env.local_rank; }

std::string local_device(const std::string& device) {
  if (device == "cuda" && world_size() > 1) return "cuda:" + std::to_string(local_rank());
  return device;
}

void init(const std::string& device) {
  auto& s = state();
  if (s.initialised || s.env.world_size == 1) {
    s.initialised = true;
    return;
  }
#if !SEVA_HAS_C10D
  (void)device;
  throw std::runtime_error("WORLD_SIZE=" + std::to_string(s.env.world_size) +
                           ": this build of seva has no multi-process support (torch c10d with Gloo was not found "
                           "at configure time; install libgloo-dev and reconfigure)");
#else
  const auto& e = s.env;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(e.master_port);
    so.isServer = e.rank == 0;
    so.numWorkers = static_cast<size_t>(e.world_size);
    so.waitWorkers = true;
    so.timeout = timeout();
    s.store = c10::make_intrusive<c10d::TCPStore>(e.master_addr, so);
  } catch (const std::exception& ex) {
    throw std::runtime_error(where() + ": cannot meet the other ranks at MASTER_ADDR:MASTER_PORT = " + e.master_addr +
                             ":" + std::to_string(e.master_port) + " within " +
                             std::to_string(timeout().count() / 1000) + " s (SEVA_DIST_TIMEOUT): " + error_text(ex));
  }
  torch::Device dev(local_device(device));
  try {
#if SEVA_HAS_NCCL
    if (dev.is_cuda() && std::getenv("SEVA_DIST_BACKEND") == nullptr) {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout();
      s.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s.store, e.rank, e.world_size, opts);
      s.comm_device = dev;
      s.backend = "nccl";
    }
#endif
    if (!s.group) {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout());
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      bool loopback = e.master_addr == "localhost" || e.master_addr.rfind("127.", 0) == 0;
      if (ifname && *ifname) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (loopback) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, e.rank, e.world_size, opts);
      s.comm_device = torch::Device(torch::kCPU);
      s.backend = "gloo";
    }
  } catch (const std::exception& ex) {
    throw std::runtime_error(where() + ": cannot set up the process group: " + error_text(ex));
  }
  s.initialised = true;
  if (e.rank == 0 && !std::getenv("SEVA_DIST_QUIET"))
    std::cerr << "seva: " << e.world_size << " processes (" << s.backend << "), rendezvous at " << e.master_addr << ":"
              << e.master_port << "\n";
#endif
}

void all_reduce_sum(const std::vector<torch::Tensor>& tensors) {
  if (!active() || tensors.empty()) return;
#if SEVA_HAS_C10D
  init();
  const auto dev = state().comm_device;
  // Buckets: consecutive tensors of one dtype up to kBucketBytes (a larger tensor is its own).
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, list] : by_dtype) {
    size_t at = 0;
    while (at < list.size()) {
      std::vector<torch::Tensor> bucket;
      int64_t bytes = 0;
      while (at < list.size() && (bucket.empty() || bytes + list[at].nbytes() <= kBucketBytes)) {
        bytes += static_cast<int64_t>(list[at].nbytes());
        bucket.push_back(list[at++]);
      }
      std::vector<torch::Tensor> flat_parts;
      for (const auto& t : bucket) flat_parts.push_back(t.detach().reshape({-1}).to(dev));
      std::vector<torch::Tensor> io{torch::cat(flat_parts)};
      collective("all-reduce", [&](Backend& g) { return g.allreduce(io); });
      int64_t off = 0;
      torch::NoGradGuard ng;
      for (auto& t : bucket) {
        auto n = t.numel();
        t.copy_(io[0].narrow(0, off, n).view(t.sizes()));
        off += n;
      }
    }
  }
#endif
}

void all_reduce_grads(const std::vector<torch::Tensor>& params) {
  if (!active()) return;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params) {
    auto& g = const_cast<torch::Tensor&>(p).mutable_grad();
    if (!g.defined()) g = torch::zeros_like(p);
    grads.push_back(g);
  }
  all_reduce_sum(grads);
}

void broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  if (!active() || tensors.empty()) return;
#if SEVA_HAS_C10D
  init();
  const auto dev = state().comm_device;
  // One flat tensor per dtype.
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, list] : by_dtype) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : list) flat_parts.push_back(t.detach().reshape({-1}).to(dev));
    std::vector<torch::Tensor> io{torch::cat(flat_parts)};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    collective("broadcast", [&](Backend& g) { return g.broadcast(io, opts); });
    torch::NoGradGuard ng;
    int64_t off = 0;
    for (const auto& t : list) {
      auto n = t.numel();
      const_cast<torch::Tensor&>(t).copy_(io[0].narrow(0, off, n).view(t.sizes()));
      off += n;
    }
  }
#else
  (void)root;
#endif
}

void barrier() {
  if (!active()) return;
#if SEVA_HAS_C10D
  init();
  // A barrier as a one-element all-reduce: the same on every backend and device.
  std::vector<torch::Tensor> io{torch::zeros({1}, torch::TensorOptions().device(state().comm_device))};
  collective("barrier", [&](Backend& g) { return g.allreduce(io); });
#endif
}

std::vector<std::string> all_gather_bytes(const std::string& mine) {
  if (!active()) return {mine};
  std::vector<std::string> out;
#if SEVA_HAS_C10D
  init();
  const auto dev = state().comm_device;
  const int W = world_size();
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(dev);
  // Lengths first, then the bytes padded to the longest (as int64 words: every backend has them).
  std::vector<torch::Tensor> len_in{torch::full({1}, static_cast<int64_t>(mine.size()), opts)};
  std::vector<std::vector<torch::Tensor>> len_out(1);
  for (int r = 0; r < W; ++r) len_out[0].push_back(torch::zeros({1}, opts));
  collective("all-gather", [&](Backend& g) { return g.allgather(len_out, len_in); });
  int64_t longest = 0;
  std::vector<int64_t> lens;
  for (auto& t : len_out[0]) {
    lens.push_back(t.cpu().item<int64_t>());
    longest = std::max(longest, lens.back());
  }
  const int64_t words = (longest + 7) / 8 + 1;
  auto buf = torch::zeros({words}, torch::kInt64);
  std::memcpy(buf.data_ptr<int64_t>(), mine.data(), mine.size());
  std::vector<torch::Tensor> data_in{buf.to(dev)};
  std::vector<std::vector<torch::Tensor>> data_out(1);
  for (int r = 0; r < W; ++r) data_out[0].push_back(torch::zeros({words}, opts));
  collective("all-gather", [&](Backend& g) { return g.allgather(data_out, data_in); });
  for (int r = 0; r < W; ++r) {
    auto t = data_out[0][r].cpu().contiguous();
    out.emplace_back(reinterpret_cast<const char*>(t.data_ptr<int64_t>()), static_cast<size_t>(lens[r]));
  }
#endif
  return out;
}

}  // namespace seva::dist
