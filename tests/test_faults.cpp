// The faults a long run meets, through the binary on the tiny fixture model: the disk filling up
// while an answers file or a checkpoint is written, a kill between a checkpoint's two renames, and
// a parent killed with SIGKILL (its children go with it). Nothing finished is lost and nothing
// half-written is read later: the rerun's files equal an uninterrupted run's.
//
// A full disk is a file-size limit here (ulimit -f with SIGXFSZ ignored): writes past it fail with
// EFBIG exactly where a full disk fails them with ENOSPC, and no test needs root or a tmpfs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "seva_test_paths.h"
#include "test_helpers.h"
#include "train/loop.h"

namespace {

using seva::test::run_seva;
using seva::test::shell_quote;
namespace io = seva::io;

#define REQUIRE_BINARY() \
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI (SEVA_PARTS)"

// `seva ARGS` with writes limited to `kib` KiB per file.
seva::test::RunResult run_seva_limited(const std::string& args, int kib) {
  const std::string cmd = "trap '' XFSZ; ulimit -f " + std::to_string(kib) + "; " + shell_quote(SEVA_BINARY) + " " + args;
  return seva::test::run_shell(cmd);
}

std::string images() { return seva::test::fixture_path("images"); }
std::string model() { return seva::test::fixture_path("model_A"); }

std::string write_questions(const std::string& dir) {
  std::string q;
  const char* files[] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};
  for (int i = 0; i < 12; ++i)
    q += nlohmann::json{{"id", "q" + std::to_string(i)}, {"image", files[i % 3]}, {"text", "What is shown here?"}}.dump() + "\n";
  io::write_file_atomic(dir + "/questions.jsonl", q);
  return dir + "/questions.jsonl";
}

std::string generate_args(const std::string& questions, const std::string& out) {
  return "generate --model " + model() + " --questions " + questions + " --images " + images() +
         " --aug diffusion:500 --out " + out + " --max-new-tokens 8 --seed 3 --batch-size 2 --threads 2";
}

std::string write_pairs(const std::string& dir) {
  io::JsonlWriter w(dir + "/pairs.jsonl", false);
  const char* files[] = {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"};
  for (int i = 0; i < 8; ++i)
    w.write({{"id", "p" + std::to_string(i)}, {"image", files[i % 3]}, {"question", "What colour is the shape?"},
             {"chosen", i % 2 ? "Red." : "A blue circle."}, {"rejected", {i % 2 ? "Green." : "Two squares."}}});
  return dir + "/pairs.jsonl";
}

// One thread, so that the runs sum in one order: a resumed run's adapter is then byte for byte
// the uninterrupted run's.
std::string train_args(const std::string& pairs, const std::string& out, const std::string& extra = "",
                       const std::string& lr = "1e-2") {
  return "train --model " + model() + " --pairs " + pairs + " --images " + images() + " --out " + out +
         " --lora-r 4 --lora-alpha 8 --lr " + lr + " --batch-size 2 --repeat 1 --save-every 1 --threads 1 " + extra;
}

int error_lines(const std::string& out) {
  int n = 0;
  for (size_t p = out.find("seva: error:"); p != std::string::npos; p = out.find("seva: error:", p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Faults, AFullDiskStopsGenerationInOneLineAndTheRerunCompletesTheFile) {
  REQUIRE_BINARY();
  auto dir = seva::test::temp_dir("fault_gen");
  auto questions = write_questions(dir);
  auto full = run_seva(generate_args(questions, dir + "/full"));
  ASSERT_EQ(full.status, 0) << full.out;
  const std::string want = io::read_file(dir + "/full/answers.jsonl");
  ASSERT_GT(want.size(), 3000u);  // larger than the limit below

  auto r = run_seva_limited(generate_args(questions, dir + "/cut"), 2);
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_EQ(error_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("answers.jsonl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Exception raised from"), std::string::npos) << r.out;  // no libtorch backtrace
  const std::string partial = io::read_file(dir + "/cut/answers.jsonl");
  EXPECT_LE(partial.size(), 2048u);
  EXPECT_GT(partial.size(), 0u);
  EXPECT_EQ(want.compare(0, partial.rfind('\n') + 1, partial, 0, partial.rfind('\n') + 1), 0);

  r = run_seva(generate_args(questions, dir + "/cut"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(io::read_file(dir + "/cut/answers.jsonl"), want);
}

TEST(Faults, AFullDiskWhileCheckpointingKeepsTheLastCheckpointAndResumeFinishes) {
  REQUIRE_BINARY();
  auto dir = seva::test::temp_dir("fault_ckpt");
  auto pairs = write_pairs(dir);
  auto whole = run_seva(train_args(pairs, dir + "/whole"));
  ASSERT_EQ(whole.status, 0) << whole.out;
  auto r = run_seva(train_args(pairs, dir + "/cut", "--max-steps 1"));
  ASSERT_EQ(r.status, 0) << r.out;

  // A disk too small for step 2's checkpoint (its optimizer state).
  const std::string state_1 = io::read_file(dir + "/cut/checkpoint/state.json");
  const std::string adapter_1 = io::read_file(dir + "/cut/checkpoint/adapter_model.safetensors");
  const auto optimizer_kib = std::filesystem::file_size(dir + "/cut/checkpoint/optimizer.pt") / 1024;
  ASSERT_GE(optimizer_kib, 4u);
  r = run_seva_limited(train_args(pairs, dir + "/cut", "--resume"), static_cast<int>(optimizer_kib / 2));
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_EQ(error_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("checkpoint"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Exception raised from"), std::string::npos) << r.out;
  EXPECT_EQ(io::read_file(dir + "/cut/checkpoint/state.json"), state_1);
  EXPECT_EQ(io::read_file(dir + "/cut/checkpoint/adapter_model.safetensors"), adapter_1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/cut/checkpoint.tmp"));

  r = run_seva(train_args(pairs, dir + "/cut", "--resume"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("at step 1"), std::string::npos) << r.out;
  EXPECT_EQ(io::read_file(dir + "/cut/adapter/adapter_model.safetensors"),
            io::read_file(dir + "/whole/adapter/adapter_model.safetensors"));
  EXPECT_EQ(io::read_jsonl(dir + "/cut/metrics.jsonl").size(), 4u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/cut/checkpoint.tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/cut/checkpoint.old"));
}

TEST(Faults, AKillBetweenTheCheckpointRenamesLosesNoCheckpoint) {
  auto dir = seva::test::temp_dir("fault_rename");
  const std::string ckpt = dir + "/checkpoint";
  auto fill = [](const std::string& step) {
    return [step](const std::string& d) { io::write_file_atomic(d + "/state.json", step); };
  };
  seva::train::write_dir_atomic(ckpt, fill("1"));
  EXPECT_EQ(io::read_file(ckpt + "/state.json"), "1");
  seva::train::write_dir_atomic(ckpt, fill("2"));
  EXPECT_EQ(io::read_file(ckpt + "/state.json"), "2");
  EXPECT_FALSE(std::filesystem::exists(ckpt + ".old"));

  // Killed after the old one moved aside, the new one whole in .tmp: the new one is taken.
  std::filesystem::rename(ckpt, ckpt + ".old");
  io::make_dir(ckpt + ".tmp");
  io::write_file_atomic(ckpt + ".tmp/state.json", "3");
  seva::train::recover_dir(ckpt, "state.json");
  EXPECT_EQ(io::read_file(ckpt + "/state.json"), "3");
  EXPECT_FALSE(std::filesystem::exists(ckpt + ".old"));

  // Killed while the new one was still being written (no state.json yet): the old one comes back.
  std::filesystem::rename(ckpt, ckpt + ".old");
  io::make_dir(ckpt + ".tmp");
  io::write_file_atomic(ckpt + ".tmp/adapter_model.safetensors", "half");
  seva::train::recover_dir(ckpt, "state.json");
  EXPECT_EQ(io::read_file(ckpt + "/state.json"), "3");
  EXPECT_FALSE(std::filesystem::exists(ckpt + ".tmp"));

  // Nothing to recover: nothing changes.
  seva::train::recover_dir(dir + "/none", "state.json");
  EXPECT_FALSE(std::filesystem::exists(dir + "/none"));
}

TEST(Faults, ALauncherKilledWithSigkillTakesItsChildrenWithIt) {
  REQUIRE_BINARY();
  auto dir = seva::test::temp_dir("fault_parent");
  const std::string pid_file = dir + "/child.pid";
  // The child records its pid and sleeps; the launcher is killed; the child must be gone.
  auto r = seva::test::run_shell(shell_quote(SEVA_BINARY) + " launch -n 1 -- sh -c " +
                          shell_quote("echo $$ > " + pid_file + "; exec sleep 60") +
                          " >/dev/null 2>&1 & L=$!; for i in $(seq 100); do [ -s " + pid_file +
                          " ] && break; sleep 0.1; done; kill -9 $L; wait $L 2>/dev/null; "
                          "for i in $(seq 50); do kill -0 $(cat " + pid_file +
                          ") 2>/dev/null || { echo gone; exit 0; }; sleep 0.1; done; kill -9 $(cat " + pid_file +
                          "); echo alive");
  EXPECT_NE(r.out.find("gone"), std::string::npos) << r.out;
}

TEST(Faults, ANonFiniteLossIsRefusedAndTheCheckpointKeepsFiniteWeights) {
  REQUIRE_BINARY();
  auto dir = seva::test::temp_dir("fault_nan");
  auto pairs = write_pairs(dir);
  // A learning rate of 1e30 makes step 1's LoRA weights ~1e30: step 2's forward overflows.
  auto r = run_seva(train_args(pairs, dir + "/run", "--warmup-ratio 0", "1e30"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(error_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("non-finite"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("at step 2 (micro-batch 0, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no weights were updated"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/run/adapter"));
  EXPECT_NE(io::read_file(dir + "/run/checkpoint/state.json").find("\"step\":1"), std::string::npos);
  io::SafetensorsFile ckpt(dir + "/run/checkpoint/adapter_model.safetensors");
  for (const auto& k : ckpt.keys()) EXPECT_TRUE(torch::isfinite(ckpt.get(k)).all().item<bool>()) << k;
}
