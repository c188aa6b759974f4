// Multi-process runs on loopback (2 processes, Gloo) through `seva launch`: the same adapter as one
// process, byte-identical generation and evaluation outputs, and a dying rank stopping the run.
// Without Gloo (an NCCL-only build): the TCPStore rendezvous between 2 processes, and a CPU run
// with WORLD_SIZE=2 refused in one line.
#include "dist/dist.h"
#include "dist/parts.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "seva_features.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

using namespace seva;
using test::run_seva;
using test::run_shell;
using test::shell_quote;

namespace {

// These runs are CPU processes, so they need c10d's Gloo; an NCCL-only build (a pip PyTorch's
// libtorch) runs several processes on GPUs only.
#define REQUIRE_MULTIPROCESS()                                                                             \
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";                           \
  if (!SEVA_HAS_C10D || !SEVA_HAS_GLOO)                                                                     \
  GTEST_SKIP() << "built without c10d's Gloo: no multi-process CPU runs (" << (SEVA_HAS_NCCL ? "NCCL-only build" \
                                                                               : "install libgloo-dev") << ")"

std::string model() { return test::fixture_path("model_A"); }

std::string write_pairs(const std::string& dir) {
  std::string path = dir + "/pairs.jsonl";
  io::JsonlWriter w(path, false);
  const char* images[] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};
  for (int i = 0; i < 8; ++i)
    w.write({{"id", "q" + std::to_string(i)}, {"image", images[i % 3]}, {"question", "What colour is the shape?"},
             {"chosen", i % 2 ? "Red." : "A blue circle."}, {"rejected", {i % 2 ? "Green." : "Two squares."}}});
  return path;
}

// Global batch 4 in micro-batches of 1: each of 2 ranks takes 2 per step. Dropout is on
// (0.05): its masks are seeded per micro-batch, so they do not depend on the process count.
std::string train_args(const std::string& pairs, const std::string& out, const std::string& extra = "") {
  return "train --model " + model() + " --pairs " + pairs + " --images " + test::fixture_path("images") + " --out " + out +
         " --lora-r 4 --lora-alpha 8 --lr 1e-2 --batch-size 4 --micro-batch-size 1 --repeat 1 --threads 1 " + extra;
}

torch::Tensor adapter(const std::string& run) {
  io::SafetensorsFile f(run + "/adapter/adapter_model.safetensors");
  std::vector<torch::Tensor> all;
  for (const auto& k : f.keys()) all.push_back(f.get(k).view(-1));
  return torch::cat(all);
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / a.abs().max().item<double>();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

std::string launch2(const std::string& args) { return "launch -n 2 -- seva " + args; }

}  // namespace

TEST(DistMultiprocess, TwoProcessTrainingGivesTheOneProcessAdapter) {
  REQUIRE_MULTIPROCESS();
  auto dir = test::temp_dir("dist_train");
  auto pairs = write_pairs(dir);
  auto one = run_seva(train_args(pairs, dir + "/one"));
  ASSERT_EQ(one.status, 0) << one.out;
  auto two = run_seva(launch2(train_args(pairs, dir + "/two")));
  ASSERT_EQ(two.status, 0) << two.out;
  EXPECT_NE(two.out.find("[rank 0] "), std::string::npos) << two.out;
  auto a = adapter(dir + "/one"), b = adapter(dir + "/two");
  EXPECT_GT(a.abs().max().item<double>(), 0.0);
  EXPECT_LE(rel_diff(a, b), 1e-5);
  auto m1 = io::read_jsonl(dir + "/one/metrics.jsonl"), m2 = io::read_jsonl(dir + "/two/metrics.jsonl");
  ASSERT_EQ(m1.size(), 2u);
  ASSERT_EQ(m2.size(), 2u);  // rank 0 alone writes the metrics
  for (size_t i = 0; i < m1.size(); ++i)
    for (const char* k : {"loss", "rewards/margins", "logps/chosen"})
      EXPECT_NEAR(m1[i][k].get<double>(), m2[i][k].get<double>(), 1e-5) << k << " at step " << i + 1;

  // Resume with another world size: 2 processes stop after 1 step, 1 process finishes.
  auto cut = run_seva(launch2(train_args(pairs, dir + "/cut", "--max-steps 1")));
  ASSERT_EQ(cut.status, 0) << cut.out;
  auto rest = run_seva(train_args(pairs, dir + "/cut", "--resume"));
  ASSERT_EQ(rest.status, 0) << rest.out;
  EXPECT_LE(rel_diff(a, adapter(dir + "/cut")), 1e-5);
}

TEST(DistMultiprocess, TwoProcessSftGivesTheOneProcessWeights) {
  REQUIRE_MULTIPROCESS();
  auto dir = test::temp_dir("dist_sft");
  auto turn = [](const char* from, const char* value) { return nlohmann::json{{"from", from}, {"value", value}}; };
  nlohmann::json data = nlohmann::json::array();
  data.push_back({{"id", "a"}, {"image", "img0_97x61.png"},
                  {"conversations", {turn("human", "<image>\nWhat colour?"), turn("gpt", "A blue circle."),
                                     turn("human", "How many?"), turn("gpt", "One.")}}});
  data.push_back({{"id", "b"}, {"image", "img1_40x120.jpg"},
                  {"conversations", {turn("human", "Describe.\n<image>"), turn("gpt", "Red stripes on white.")}}});
  data.push_back({{"id", "c"}, {"image", "img2_64x64.png"},
                  {"conversations", {turn("human", "<image>\nIs it square?"), turn("gpt", "Yes, it is square.")}}});
  io::write_file_atomic(dir + "/sft.json", data.dump());
  // LoRA on the language model and the projector fully trained; 6 examples, global batch 4.
  auto args = [&](const std::string& out) {
    return "sft --model " + model() + " --data " + dir + "/sft.json --images " + test::fixture_path("images") +
           " --lr 1e-2 --batch-size 4 --micro-batch-size 1 --epochs 2 --threads 1 --lora --lora-r 4 --train projector --out " + out;
  };
  auto one = run_seva(args(dir + "/one"));
  ASSERT_EQ(one.status, 0) << one.out;
  auto two = run_seva(launch2(args(dir + "/two")));
  ASSERT_EQ(two.status, 0) << two.out;
  for (const char* f : {"adapter_model.safetensors", "non_lora_trainables.safetensors"}) {
    io::SafetensorsFile a(dir + "/one/adapter/" + f), b(dir + "/two/adapter/" + f);
    ASSERT_EQ(a.keys(), b.keys());
    for (const auto& k : a.keys()) {
      auto x = a.get(k), y = b.get(k);
      EXPECT_LE((x - y).abs().max().item<double>(), 1e-5 * std::max(1e-3, x.abs().max().item<double>())) << f << " " << k;
    }
  }
}

TEST(DistMultiprocess, TwoProcessGenerationAndEvalAreByteIdentical) {
  REQUIRE_MULTIPROCESS();
  auto dir = test::temp_dir("dist_gen");
  std::string images = test::fixture_path("images");
  std::string q;
  const char* rows[][3] = {{"a", "img0_97x61.png", "What is shown?"},  {"b", "img1_40x120.jpg", "Read it."},
                           {"c", "missing.png", "Where?"},              {"d", "img2_64x64.png", "Describe it."},
                           {"e", "img0_97x61.png", "What colour?"},     {"f", "img2_64x64.png", "How many?"},
                           {"g", "img1_40x120.jpg", "Is it tall?"}};
  for (auto& r : rows) q += nlohmann::json{{"id", r[0]}, {"image", r[1]}, {"text", r[2]}}.dump() + "\n";
  io::write_file_atomic(dir + "/questions.jsonl", q);
  auto gen = [&](const std::string& out) {
    return "generate --model " + model() + " --questions " + dir + "/questions.jsonl --images " + images +
           " --aug flip --aug diffusion:300 --batch-size 2 --max-new-tokens 5 --seed 3 --threads 1 --out " + out;
  };
  auto one = run_seva(gen(dir + "/one"));
  ASSERT_EQ(one.status, 0) << one.out;
  auto two = run_seva(launch2(gen(dir + "/two")));
  ASSERT_EQ(two.status, 0) << two.out;
  auto want = io::read_file(dir + "/one/answers.jsonl");
  EXPECT_EQ(io::read_jsonl(dir + "/one/answers.jsonl").size(), 6u * 3u);
  EXPECT_EQ(io::read_file(dir + "/two/answers.jsonl"), want);
  EXPECT_EQ(io::read_file(dir + "/two/skipped.jsonl"), io::read_file(dir + "/one/skipped.jsonl"));
  EXPECT_TRUE(dist::existing_parts(dir + "/two/answers.jsonl").empty());
  EXPECT_NE(two.out.find("6 answered now"), std::string::npos) << two.out;  // rank 0 reports the totals

  // Resumable per rank: a kill left rank 1's part half-written; the rerun completes the same file.
  std::filesystem::create_directories(dir + "/resumed");
  auto lines = dist::read_lines(dir + "/one/answers.jsonl");
  std::string part0, part1;
  for (size_t i = 0; i < 6; ++i) part0 += lines[i].text + "\n";  // the first batch, rank 0's
  part1 = lines[6].text + "\n" + lines[7].text.substr(0, 20);     // some of rank 1's, torn
  io::write_file_atomic(dir + "/resumed/answers.part-0.jsonl", part0);
  io::write_file_atomic(dir + "/resumed/answers.part-1.jsonl", part1);
  auto again = run_seva(launch2(gen(dir + "/resumed")));
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(io::read_file(dir + "/resumed/answers.jsonl"), want);

  // POPE through seva eval: the same answers file and metrics.
  const char* pope =
      R"({"question_id": 1, "image": "img0_97x61.png", "text": "Is there a dog?", "label": "yes", "category": "random"}
{"question_id": 2, "image": "img1_40x120.jpg", "text": "Is there a cat?", "label": "no", "category": "adversarial"}
{"question_id": 3, "image": "nothere.png", "text": "Is there a car?", "label": "yes", "category": "random"}
{"question_id": 4, "image": "img2_64x64.png", "text": "Is there a car?", "label": "yes", "category": "popular"}
{"question_id": 5, "image": "img0_97x61.png", "text": "Is there a tree?", "label": "no", "category": "random"}
)";
  io::write_file_atomic(dir + "/pope.jsonl", pope);
  auto ev = [&](const std::string& out) {
    return "eval --model " + model() + " --pope " + dir + "/pope.jsonl --images " + images +
           " --max-new-tokens 4 --batch-size 1 --threads 1 --out " + out;
  };
  auto e1 = run_seva(ev(dir + "/eval1"));
  ASSERT_EQ(e1.status, 0) << e1.out;
  auto e2 = run_seva(launch2(ev(dir + "/eval2")));
  ASSERT_EQ(e2.status, 0) << e2.out;
  EXPECT_EQ(io::read_file(dir + "/eval2/pope/answers.jsonl"), io::read_file(dir + "/eval1/pope/answers.jsonl"));
  EXPECT_EQ(io::read_file(dir + "/eval2/metrics.json"), io::read_file(dir + "/eval1/metrics.json"));
  EXPECT_EQ(io::read_file(dir + "/eval2/pope/skipped.jsonl"), io::read_file(dir + "/eval1/pope/skipped.jsonl"));
  EXPECT_EQ(io::read_jsonl(dir + "/eval2/pope/answers.jsonl").size(), 4u);
}

TEST(DistMultiprocess, ADyingRankStopsTheRunWithAClearError) {
  REQUIRE_MULTIPROCESS();
  auto dir = test::temp_dir("dist_die");
  auto pairs = write_pairs(dir);
  // Collectives before training: a barrier, two all-gathers (reference log-probs), a broadcast
  // (LoRA init); then per step a gradient all-reduce and a metrics all-reduce. So the 7th is step
  // 2's gradient all-reduce.
  // Through seva launch: rank 1 exits there; launch stops rank 0 and returns rank 1's status.
  auto r = run_seva("launch -n 2 -- env SEVA_TEST_EXIT_RANK=1 SEVA_TEST_EXIT_AT=7 " +
                    std::string(SEVA_BINARY) + " " + train_args(pairs, dir + "/launched", "--save-every 1"));
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_NE(r.out.find("rank 1 exited with status 3"), std::string::npos) << r.out;
  EXPECT_FALSE(io::file_exists(dir + "/launched/adapter/adapter_model.safetensors"));
  // The next --resume continues from step 1's checkpoint and ends where an uninterrupted run ends.
  auto resumed = run_seva(launch2(train_args(pairs, dir + "/launched", "--save-every 1 --resume")));
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("at step 1"), std::string::npos) << resumed.out;
  auto whole = run_seva(train_args(pairs, dir + "/whole"));
  ASSERT_EQ(whole.status, 0) << whole.out;
  EXPECT_LE(rel_diff(adapter(dir + "/whole"), adapter(dir + "/launched")), 1e-5);

  // Without a launcher (torchrun-style processes started by hand): rank 0 notices on its own.
  const int port = free_port();
  auto env = [&](int rank) {
    return "RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank) + " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
           std::to_string(port) + " SEVA_DIST_TIMEOUT=60 SEVA_TEST_EXIT_RANK=1 SEVA_TEST_EXIT_AT=7 ";
  };
  auto t0 = std::chrono::steady_clock::now();
  auto out = run_shell("(" + env(1) + shell_quote(SEVA_BINARY) + " " + train_args(pairs, dir + "/byhand") +
                       " >/dev/null 2>&1 &) ; " + env(0) + shell_quote(SEVA_BINARY) + " " + train_args(pairs, dir + "/byhand"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(out.status, 1) << out.out;
  EXPECT_NE(out.out.find("rank 0 of 2"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("another process of this run has died"), std::string::npos) << out.out;
  EXPECT_LT(secs, 50.0);  // noticed when the connection closed, not at the 60 s timeout

  // A rank that cannot meet the others: a clear error after SEVA_DIST_TIMEOUT.
  auto lonely = run_shell("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
                          " SEVA_DIST_TIMEOUT=2 " + shell_quote(SEVA_BINARY) + " " + train_args(pairs, dir + "/lonely"));
  EXPECT_EQ(lonely.status, 1) << lonely.out;
  EXPECT_NE(lonely.out.find("cannot meet the other ranks"), std::string::npos) << lonely.out;
}

TEST(DistMultiprocess, AHungRankStopsTheRunWithinTheTimeout) {
  REQUIRE_MULTIPROCESS();
  auto dir = test::temp_dir("dist_hang");
  auto pairs = write_pairs(dir);
  // Rank 1 stops answering at step 2's gradient all-reduce (its 7th collective), its connections
  // open: rank 0 waits SEVA_DIST_TIMEOUT, says so in one line, and the launcher stops rank 1.
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_seva("launch -n 2 -- env SEVA_DIST_TIMEOUT=5 SEVA_TEST_EXIT_RANK=1 SEVA_TEST_EXIT_AT=7 SEVA_TEST_HANG=1 " +
                    std::string(SEVA_BINARY) + " " + train_args(pairs, dir + "/run", "--save-every 1"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("rank 0 of 2: all-reduce failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timed out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 0 exited with status 1"), std::string::npos) << r.out;
  EXPECT_LT(secs, 60.0) << r.out;
  EXPECT_FALSE(io::file_exists(dir + "/run/adapter/adapter_model.safetensors"));
  auto resumed = run_seva(launch2(train_args(pairs, dir + "/run", "--save-every 1 --resume")));
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("at step 1"), std::string::npos) << resumed.out;
}

TEST(Dist, EnvironmentContract) {
  // This process has no torchrun variables: a world of one, no process group.
  EXPECT_EQ(dist::world_size(), 1);
  EXPECT_EQ(dist::rank(), 0);
  EXPECT_FALSE(dist::active());
  EXPECT_TRUE(dist::mine(5));
  EXPECT_EQ(dist::local_device("cuda"), "cuda");
  auto t = torch::ones({3});
  dist::all_reduce_sum({t});  // identity
  EXPECT_TRUE(torch::equal(t, torch::ones({3})));
  EXPECT_EQ(dist::all_gather_bytes("abc"), std::vector<std::string>{"abc"});
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_THROW(dist::read_env(), std::runtime_error);  // RANK not below WORLD_SIZE
  ::setenv("RANK", "1", 1);
  ::unsetenv("MASTER_ADDR");
  try {
    dist::read_env();
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("MASTER_ADDR"), std::string::npos) << e.what();
  }
  ::setenv("MASTER_ADDR", "10.0.0.1", 1);
  ::setenv("MASTER_PORT", "70000", 1);
  EXPECT_THROW(dist::read_env(), std::runtime_error);
  ::setenv("MASTER_PORT", "29500", 1);
  auto e = dist::read_env();
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_port, 29500);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
}

TEST(Dist, PartsMergeInInputOrderKeepingBytes) {
  auto dir = test::temp_dir("dist_parts");
  std::string path = dir + "/answers.jsonl";
  EXPECT_EQ(dist::part_path(path, 3), dir + "/answers.part-3.jsonl");
  io::write_file_atomic(path, "{\"k\": 1, \"x\": 1.50}\n");
  io::write_file_atomic(dist::part_path(path, 0), "{\"k\": 3}\n{\"k\": 0}\n");
  io::write_file_atomic(dist::part_path(path, 1), "{\"k\": 2}\n{\"k\": 3, \"dup\": true}\n{\"k\": 4");  // torn tail
  io::write_file_atomic(dir + "/answers.part-x.jsonl", "not a part\n");
  EXPECT_EQ(dist::existing_parts(path).size(), 2u);
  dist::merge_parts(
      path, [](const nlohmann::json& j) { return j["k"].dump(); },
      [](const nlohmann::json& j) { return j["k"].get<int64_t>(); });
  EXPECT_EQ(io::read_file(path), "{\"k\": 0}\n{\"k\": 1, \"x\": 1.50}\n{\"k\": 2}\n{\"k\": 3}\n");
  EXPECT_TRUE(dist::existing_parts(path).empty());
  EXPECT_TRUE(io::file_exists(dir + "/answers.part-x.jsonl"));
}

TEST(DistStore, TwoProcessRendezvousOnLoopback) {
  // The rendezvous needs c10d's TCPStore only, not Gloo or a GPU: it works in every build with c10d.
  if (!SEVA_HAS_C10D) GTEST_SKIP() << "built without torch c10d";
  dist::Env env;
  env.world_size = 2;
  env.master_addr = "127.0.0.1";
  env.master_port = free_port();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::setenv("SEVA_DIST_TIMEOUT", "30", 1);  // read once per process: before the fork, for both
  dist::timeout();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // rank 1: reports what it received through the pipe; no gtest in here
    ::close(fds[0]);
    std::string got;
    try {
      dist::Env e1 = env;
      e1.rank = e1.local_rank = 1;
      for (const auto& v : dist::rendezvous_exchange(e1, "from rank 1")) got += v + ";";
    } catch (const std::exception& e) {
      got = std::string("error: ") + e.what();
    }
    (void)!::write(fds[1], got.data(), got.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<std::string> mine;
  try {
    mine = dist::rendezvous_exchange(env, "from rank 0");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "rank 0: " << e.what();
  }
  std::string theirs;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) theirs.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::unsetenv("SEVA_DIST_TIMEOUT");
  EXPECT_EQ(mine, (std::vector<std::string>{"from rank 0", "from rank 1"}));
  EXPECT_EQ(theirs, "from rank 0;from rank 1;");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(DistMultiprocess, AnUnsupportedBackendStopsInOneLine) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  if (!SEVA_HAS_C10D) GTEST_SKIP() << "built without torch c10d";
  auto dir = test::temp_dir("dist_backend");
  auto pairs = write_pairs(dir);
  // One rank of two, started alone: a run this build cannot do stops before the rendezvous, at
  // once (not after SEVA_DIST_TIMEOUT), and says why in one line.
  auto rank0 = [&](const std::string& extra_env) {
    return run_shell("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
                     " SEVA_DIST_TIMEOUT=20 " + extra_env + " " + shell_quote(SEVA_BINARY) + " " +
                     train_args(pairs, dir + "/run") + " --device cpu");
  };
  auto error_lines = [](const std::string& out) {
    int n = 0;
    for (size_t at = out.find("seva: error:"); at != std::string::npos; at = out.find("seva: error:", at + 1)) ++n;
    return n;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto forced = rank0("SEVA_DIST_BACKEND=nccl");
  EXPECT_EQ(forced.status, 1) << forced.out;
  EXPECT_EQ(error_lines(forced.out), 1) << forced.out;
  EXPECT_NE(forced.out.find("SEVA_DIST_BACKEND=nccl needs --device cuda"), std::string::npos) << forced.out;
  auto bad = rank0("SEVA_DIST_BACKEND=mpi");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find("SEVA_DIST_BACKEND='mpi' is not gloo or nccl"), std::string::npos) << bad.out;
  if (!SEVA_HAS_GLOO) {
    // An NCCL-only build (a pip PyTorch's libtorch): CPU processes cannot talk.
    auto cpu = rank0("");
    EXPECT_EQ(cpu.status, 1) << cpu.out;
    EXPECT_EQ(error_lines(cpu.out), 1) << cpu.out;
    EXPECT_NE(cpu.out.find("WORLD_SIZE=2 with --device cpu: this build of seva runs several processes over NCCL only"),
              std::string::npos)
        << cpu.out;
    EXPECT_NE(cpu.out.find("use --device cuda"), std::string::npos) << cpu.out;
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
}

// One rank of DistCollectives.TwoProcessesOverTheBuildsBackend, run in a child process of its own
// (the process group is per process): every helper once, the results checked here, status 0 if right.
TEST(DistCollectives, DISABLED_Rank) {
  dist::init(std::getenv("SEVA_TEST_DEVICE") ? std::getenv("SEVA_TEST_DEVICE") : "cpu");
  const int r = dist::rank();
  ASSERT_EQ(dist::world_size(), 2);
  auto a = torch::full({3}, static_cast<double>(r + 1), torch::kFloat64);
  auto b = torch::arange(5, torch::kInt64) * (r + 1);
  dist::all_reduce_sum({a, b});
  EXPECT_TRUE(torch::equal(a, torch::full({3}, 3.0, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(b, torch::arange(5, torch::kInt64) * 3));
  auto c = torch::full({2, 2}, static_cast<float>(r));
  dist::broadcast({c}, 1);
  EXPECT_TRUE(torch::equal(c, torch::ones({2, 2})));
  dist::barrier();
  EXPECT_EQ(dist::all_gather_bytes(r == 0 ? std::string("zero") : std::string(1000, 'x')),
            (std::vector<std::string>{"zero", std::string(1000, 'x')}));
}

TEST(DistCollectives, TwoProcessesOverTheBuildsBackend) {
  if (!SEVA_HAS_C10D || !SEVA_HAS_GLOO)
    GTEST_SKIP() << "built without c10d's Gloo (" << (SEVA_HAS_NCCL ? "NCCL-only build: its collectives need two GPUs"
                                                                    : "install libgloo-dev")
                 << ")";
  const int port = free_port();
  auto rank = [&](int r) {
    return "RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) +
           " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
           " SEVA_DIST_TIMEOUT=60 SEVA_DIST_QUIET=1 /proc/" + std::to_string(::getpid()) +
           "/exe --gtest_also_run_disabled_tests --gtest_filter=DistCollectives.DISABLED_Rank";
  };
  auto out = run_shell("(" + rank(1) + " > /dev/null 2>&1; echo \"rank 1 status $?\") & " + rank(0) +
                       "; echo \"rank 0 status $?\"; wait");
  EXPECT_NE(out.out.find("[  PASSED  ] 1 test."), std::string::npos) << out.out;  // rank 0 ran it
  EXPECT_NE(out.out.find("rank 0 status 0"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("rank 1 status 0"), std::string::npos) << out.out;
}
