// Data-parallel runs over torch's c10d process groups (NCCL for CUDA runs when this libtorch has
// it, Gloo for CPU runs when it has that), set up from torchrun's environment contract: RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT. A world of one (no variables, or WORLD_SIZE=1) creates
// no process group at all: every helper below is then a no-op or the identity.
#pragma once
#include <torch/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace seva::dist {

// The torchrun variables of this process. Unset: a world of one. A malformed or inconsistent
// value (RANK >= WORLD_SIZE, a port out of range, WORLD_SIZE > 1 without MASTER_ADDR/PORT)
// throws naming the variable.
struct Env {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;
  int master_port = 0;
};
Env read_env();

// How long a rendezvous or a collective may wait for the other ranks before every rank stops:
// SEVA_DIST_TIMEOUT seconds, default 1800 (torch's default). A rank that dies is noticed at once
// (its connections close); the timeout bounds a rank that hangs or never arrives.
std::chrono::milliseconds timeout();

// Joins the process group of this run (once; later calls do nothing). `device` is the model's
// device. The rendezvous is c10d's TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT; the
// collectives go over NCCL when the device is CUDA and this build has NCCL
// (SEVA_DIST_BACKEND=gloo forces Gloo), over Gloo otherwise. Throws a one-line error when the
// rendezvous fails or times out, when the ranks disagree on the backend, or when this build cannot
// run several processes on that device: no c10d at all, or NCCL-only (a pip PyTorch's libtorch,
// which has no Gloo) with a CPU device.
void init(const std::string& device = "cpu");

// The rendezvous alone, as init() does it: meets the other ranks of `env` at its TCPStore and
// returns every rank's `mine`, in rank order, without making a process group (so it needs neither
// Gloo nor a GPU). A world of one returns {mine}.
std::vector<std::string> rendezvous_exchange(const Env& env, const std::string& mine);

// After init (or before it: the environment's values).
int rank();
int world_size();
int local_rank();
inline bool active() { return world_size() > 1; }
inline bool is_main() { return rank() == 0; }
// Item i of a list belongs to rank i % world_size: a deterministic partition.
inline bool mine(size_t i) { return static_cast<int>(i % static_cast<size_t>(world_size())) == rank(); }

// "cuda" becomes "cuda:LOCAL_RANK" in a multi-process run (one GPU per process); anything else as is.
std::string local_device(const std::string& device);

// Sums each tensor over the ranks, in place. Tensors are flattened into buckets of about 25 MB
// per dtype, one collective per bucket.
void all_reduce_sum(const std::vector<torch::Tensor>& tensors);
// Sums the gradients of `params` over the ranks, in place (an undefined gradient counts as zeros
// and is made a zero tensor first, so every rank reduces the same buckets).
void all_reduce_grads(const std::vector<torch::Tensor>& params);
// Copies rank `root`'s values of each tensor into every rank's, in place.
void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
void barrier();
// Every rank's bytes, in rank order (for merging small outputs: ids, keys, JSON).
std::vector<std::string> all_gather_bytes(const std::string& mine);

}  // namespace seva::dist
