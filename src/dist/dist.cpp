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

#include <unistd.h>

#if SEVA_HAS_C10D
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
#endif
#if SEVA_HAS_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SEVA_HAS_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <thread>

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
  // Where collectives' tensors live: the CPU for Gloo, this rank's GPU for NCCL. The helpers below
  // take tensors anywhere and copy them here. Host-side data (the bytes of all_gather_bytes, a
  // barrier) goes through NCCL on the GPU too rather than through the TCPStore: one ordered stream
  // of collectives on one communicator, each with the same failure detection and timeout, no store
  // keys to name uniquely and clean up, and no funnelling of every rank's bytes (reference log-probs
  // can be megabytes) through rank 0's store server. Its cost, a host-device copy of a few
  // kilobytes, is nothing next to a training step.
  torch::Device comm_device{torch::kCPU};
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
// it reaches its n-th collective, as a crashed process would; with SEVA_TEST_HANG=1 it stops
// there instead, its connections open, as a hung process would.
void test_hook() {
  auto& s = state();
  ++s.collectives;
  const char* r = std::getenv("SEVA_TEST_EXIT_RANK");
  const char* n = std::getenv("SEVA_TEST_EXIT_AT");
  if (r && n && std::atoi(r) == s.env.rank && std::atoll(n) == s.collectives) {
    const bool hang = std::getenv("SEVA_TEST_HANG") != nullptr;
    std::fprintf(stderr, "seva: test hook: %s %s at collective %lld\n", where().c_str(), hang ? "hangs" : "exits",
                 static_cast<long long>(s.collectives));
    std::fflush(stderr);
    while (hang) ::pause();
    std::_Exit(3);
  }
}

#if SEVA_HAS_C10D
// Runs one collective and waits for it; any failure becomes one clear line.
template <class F>
void collective(const char* what, F&& start) {
  test_hook();
  auto& s = state();
  try {
    auto work = start(*s.group);
    if (s.backend == "nccl") {
      // NCCL's wait() only orders the caller's CUDA stream after the collective and returns at
      // once; a peer that is gone would then hang the next host copy. Polling for completion keeps
      // the host bounded by SEVA_DIST_TIMEOUT and turns an error NCCL reports (a peer's closed
      // connection) into this line, before torch's own watchdog (given more time) tears the
      // process down with its own report.
      const auto deadline = std::chrono::steady_clock::now() + timeout();
      while (!work->isCompleted()) {
        if (std::chrono::steady_clock::now() > deadline)
          throw std::runtime_error("timed out after " + std::to_string(timeout().count() / 1000) + " s");
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      work->wait();  // rethrows what the collective failed with; orders this stream after it
    } else if (!work->wait(timeout())) {
      throw std::runtime_error("timed out after " + std::to_string(timeout().count() / 1000) + " s");
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(where() + ": " + what + " failed: " + error_text(e) +
                             " (another process of this run has died, hangs or cannot be reached; stopping)");
  }
}

// Every rank's `mine`, in rank order, through the TCPStore (before any process group exists).
std::vector<std::string> store_exchange(c10d::Store& store, const Env& e, const std::string& key,
                                        const std::string& mine) {
  store.set(key + "/" + std::to_string(e.rank), std::vector<uint8_t>(mine.begin(), mine.end()));
  std::vector<std::string> all;
  for (int r = 0; r < e.world_size; ++r) {
    auto v = store.get(key + "/" + std::to_string(r));
    all.emplace_back(v.begin(), v.end());
  }
  return all;
}

c10::intrusive_ptr<c10d::Store> make_store(const Env& e) {
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(e.master_port);
    so.isServer = e.rank == 0;
    so.numWorkers = static_cast<size_t>(e.world_size);
    so.waitWorkers = true;
    so.timeout = timeout();
    return c10::make_intrusive<c10d::TCPStore>(e.master_addr, so);
  } catch (const std::exception& ex) {
    throw std::runtime_error("rank " + std::to_string(e.rank) + " of " + std::to_string(e.world_size) +
                             ": cannot meet the other ranks at MASTER_ADDR:MASTER_PORT = " + e.master_addr + ":" +
                             std::to_string(e.master_port) + " within " + std::to_string(timeout().count() / 1000) +
                             " s (SEVA_DIST_TIMEOUT): " + error_text(ex));
  }
}

// The process-group backend for a run on `dev` in this build, or a one-line error saying why
// there is none and what to do.
std::string choose_backend(const torch::Device& dev) {
  const char* forced_env = std::getenv("SEVA_DIST_BACKEND");
  const std::string forced = forced_env ? forced_env : "";
  if (!forced.empty() && forced != "gloo" && forced != "nccl")
    throw std::runtime_error("environment variable SEVA_DIST_BACKEND='" + forced + "' is not gloo or nccl");
  const std::string ws = "WORLD_SIZE=" + std::to_string(world_size());
  const bool has_gloo = SEVA_HAS_GLOO, has_nccl = SEVA_HAS_NCCL;
  if (forced == "nccl" && !dev.is_cuda())
    throw std::runtime_error(ws + ": SEVA_DIST_BACKEND=nccl needs --device cuda (NCCL moves CUDA tensors only)");
  if (forced == "nccl" && !has_nccl)
    throw std::runtime_error(ws + ": SEVA_DIST_BACKEND=nccl, but this build of seva has no NCCL (it comes with a "
                                  "CUDA libtorch and nccl.h at configure time)");
  if (dev.is_cuda() && has_nccl && forced != "gloo") return "nccl";
  if (has_gloo) return "gloo";  // CPU runs; CUDA runs without NCCL move tensors through the host
  if (forced == "gloo")
    throw std::runtime_error(ws + ": SEVA_DIST_BACKEND=gloo, but this build of seva has no Gloo (its libtorch ships "
                                  "no Gloo headers); unset it to use NCCL with --device cuda");
  if (has_nccl)
    throw std::runtime_error(
        ws + " with --device " + dev.str() +
        ": this build of seva runs several processes over NCCL only, which moves CUDA tensors (its libtorch has no "
        "Gloo for CPU tensors); use --device cuda (one GPU per process), or for CPU processes a build against a "
        "libtorch with Gloo (Debian's libtorch-dev + libgloo-dev, scripts/install-deps.sh)");
  throw std::runtime_error(ws + ": this build of seva has no multi-process support (its libtorch has neither c10d's "
                                "Gloo nor NCCL: for CPU processes install libgloo-dev, for GPUs build against a CUDA "
                                "libtorch, then reconfigure)");
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
  const auto& e = s.env;
  torch::Device dev(local_device(device));
#if !SEVA_HAS_C10D
  (void)dev;
  throw std::runtime_error("WORLD_SIZE=" + std::to_string(e.world_size) +
                           ": this build of seva has no multi-process support (torch c10d was not found at configure "
                           "time: install libgloo-dev for CPU processes, or build against a CUDA libtorch, and "
                           "reconfigure)");
#else
  // Decided before the rendezvous: a run this build cannot do stops at once on every rank.
  const std::string backend = choose_backend(dev);
#if SEVA_HAS_NCCL
  if (backend == "nccl") {
    const int gpus = static_cast<int>(c10::cuda::device_count());
    if (gpus == 0)
      throw std::runtime_error(where() + ": --device " + dev.str() +
                               ", but no CUDA device is visible to this process (driver, CUDA_VISIBLE_DEVICES)");
    if (!dev.has_index() || dev.index() >= gpus)
      throw std::runtime_error(where() + ": --device " + dev.str() + " (LOCAL_RANK=" + std::to_string(e.local_rank) +
                               "), but this machine has " + std::to_string(gpus) +
                               " CUDA device(s): start at most that many processes per machine");
    // Before anything touches CUDA: every rank's context and NCCL's streams on its own GPU,
    // not all on GPU 0.
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(dev.index()));
  }
#endif
  s.store = make_store(e);
  // Every rank must make the same kind of group: a mismatch (one rank on CPU, another on CUDA)
  // would otherwise hang in the first collective.
  std::vector<std::string> chosen;
  try {
    chosen = store_exchange(*s.store, e, "seva/backend", backend);
  } catch (const std::exception& ex) {
    throw std::runtime_error(where() + ": the rendezvous at " + e.master_addr + ":" + std::to_string(e.master_port) +
                             " failed: " + error_text(ex));
  }
  for (int r = 0; r < e.world_size; ++r)
    if (chosen[r] != backend)
      throw std::runtime_error(where() + " uses " + backend + " (--device " + dev.str() + ") but rank " +
                               std::to_string(r) + " uses " + chosen[r] +
                               ": give every process the same --device and SEVA_DIST_BACKEND");
  try {
#if SEVA_HAS_NCCL
    if (backend == "nccl") {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      // The collectives poll with timeout() themselves (see collective()); torch's watchdog, which
      // ends the process with its own report, gets a minute more.
      opts->timeout = timeout() + std::chrono::minutes(1);
      s.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s.store, e.rank, e.world_size, opts);
      s.comm_device = dev;
    }
#endif
#if SEVA_HAS_GLOO
    if (backend == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout());
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      bool loopback = e.master_addr == "localhost" || e.master_addr.rfind("127.", 0) == 0;
      if (ifname && *ifname) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (loopback) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, e.rank, e.world_size, opts);
      s.comm_device = torch::Device(torch::kCPU);
    }
#endif
  } catch (const std::exception& ex) {
    throw std::runtime_error(where() + ": cannot set up the process group (" + backend + "): " + error_text(ex));
  }
  if (!s.group) throw std::logic_error("dist: no process group for backend " + backend);
  s.backend = backend;
  s.initialised = true;
  if (e.rank == 0 && !std::getenv("SEVA_DIST_QUIET"))
    std::cerr << "seva: " << e.world_size << " processes (" << s.backend << "), rendezvous at " << e.master_addr << ":"
              << e.master_port << "\n";
#endif
}

std::vector<std::string> rendezvous_exchange(const Env& e, const std::string& mine) {
  if (e.world_size == 1) return {mine};
#if !SEVA_HAS_C10D
  throw std::runtime_error("this build of seva has no torch c10d");
#else
  auto store = make_store(e);
  auto all = store_exchange(*store, e, "seva/exchange", mine);
  // Rank 0 serves the store: it leaves only after every rank has read everything.
  store->add("seva/exchange/done", 1);
  const auto deadline = std::chrono::steady_clock::now() + timeout();
  while (e.rank == 0 && store->add("seva/exchange/done", 0) < e.world_size) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("rendezvous: timed out");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return all;
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
