// The shared training loop: the portable visit order, the micro-batch size, and resume that refuses
// a checkpoint made with other settings.
#include "io/files.h"
#include "io/jsonl.h"
#include "test_helpers.h"
#include "train/loop.h"
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

using namespace seva;

namespace {

train::TrainOptions tiny_run(const std::string& dir) {
  const std::string pairs = dir + "/pairs.jsonl";
  io::JsonlWriter w(pairs, false);
  for (int i = 0; i < 4; ++i)
    w.write({{"id", "q" + std::to_string(i)}, {"image", "img2_64x64.png"}, {"question", "What is it?"},
             {"chosen", "A red square."}, {"rejected", {"Two circles."}}});
  train::TrainOptions o;
  o.model.model_dir = test::fixture_path("model_A");
  o.model.threads = 1;
  o.pairs = pairs;
  o.images = test::fixture_path("images");
  o.lora.r = 2;
  o.lora.alpha = 4;
  o.loop.out = dir + "/run";
  o.loop.lr = 1e-3;
  o.loop.batch_size = 2;
  o.loop.repeat = 1;
  o.loop.quiet = true;
  return o;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TrainLoop, VisitOrderIsTheSameWithEveryStandardLibrary) {
  // Drawn with util::Rng (its own Fisher-Yates over mt19937_64), not std::shuffle, whose output
  // differs between standard libraries: these numbers hold everywhere.
  const std::vector<size_t> expected = {4, 1, 3, 1, 2, 2, 0, 4, 3, 0, 2, 2, 0, 3, 4, 4, 1, 1, 0, 3};
  EXPECT_EQ(train::visit_order(5, 2, 2, 42), expected);
  auto one_epoch = train::visit_order(7, 1, 3, 1);
  std::vector<size_t> counts(7, 0);
  for (size_t i : one_epoch) ++counts[i];
  EXPECT_EQ(counts, std::vector<size_t>(7, 3));  // `repeat` copies of every example per epoch
  EXPECT_NE(train::visit_order(7, 1, 1, 1), train::visit_order(7, 1, 1, 2));
}

TEST(TrainLoop, MicroBatchLargerThanTheBatchIsTheBatch) {
  EXPECT_EQ(train::effective_micro_batch(2, 4), 2);
  EXPECT_EQ(train::effective_micro_batch(8, 4), 4);
  EXPECT_EQ(train::effective_micro_batch(1, 128), 1);
  EXPECT_NE(error_of([] { train::effective_micro_batch(6, 4); }).find("multiple of --micro-batch-size 4"),
            std::string::npos);
  EXPECT_THROW(train::effective_micro_batch(0, 4), std::runtime_error);
}

TEST(TrainLoop, StateRecordsTheRunAndResumeRefusesOtherSettings) {
  auto o = tiny_run(test::temp_dir("loop_resume"));
  o.loop.micro_batch_size = 4;  // larger than the batch: runs as 2
  o.loop.max_steps = 1;
  EXPECT_EQ(train::train_dpo(o), 1);
  auto state = io::read_json(o.loop.out + "/checkpoint/state.json");
  EXPECT_EQ(state["format"], 2);
  EXPECT_EQ(state["step"], 1);
  EXPECT_EQ(state["total_steps"], 2);
  EXPECT_EQ(state["run"]["batch_size"], 2);
  EXPECT_DOUBLE_EQ(state["run"]["lr"].get<double>(), 1e-3);
  EXPECT_EQ(state["run"]["trainer"], "dpo");
  EXPECT_TRUE(state["run"]["data"].contains("fnv1a"));

  auto other = o;
  other.loop.resume = true;
  other.loop.max_steps = -1;
  other.loop.lr = 2e-3;
  other.loop.batch_size = 1;
  const std::string err = error_of([&] { train::train_dpo(other); });
  EXPECT_NE(err.find("state.json: the run was made with other settings"), std::string::npos) << err;
  EXPECT_NE(err.find("lr 0.001 (now 0.002)"), std::string::npos) << err;
  EXPECT_NE(err.find("batch_size 2 (now 1)"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);  // one line

  auto same = o;
  same.loop.resume = true;
  same.loop.max_steps = -1;
  same.loop.micro_batch_size = 1;  // not part of the run's meaning: may change on resume
  EXPECT_EQ(train::train_dpo(same), 2);
  EXPECT_EQ(io::read_jsonl(o.loop.out + "/metrics.jsonl").size(), 2u);
  EXPECT_TRUE(io::read_jsonl(o.loop.out + "/metrics.jsonl")[1].contains("grad_norm"));
}
