// Flags defined once (util/flags.h): what the argv writer writes from a filled option struct, the
// CLI adapter parses back into the same values, so `seva demo`'s phases mean what their structs say.
#include <gtest/gtest.h>

#include "cli/cli_flags.h"
#include "io/files.h"
#include "method/flags.h"
#include "test_helpers.h"
#include "train/flags.h"
#include "util/flags.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace seva;

namespace {

// Parses `seva NAME argv...` into `options` with the command's flags registered as `seva` does.
template <class Options, class ListFlags>
void parse(const std::string& name, ListFlags&& list_flags, const std::vector<std::string>& argv, Options& options) {
  CLI::App app;
  auto* cmd = app.add_subcommand(name);
  cli::add_flags(*cmd, list_flags, options);
  std::vector<std::string> args(argv.rbegin(), argv.rend());  // CLI11 takes them last first
  args.push_back(name);
  app.parse(args);
}

bool has(const std::vector<std::string>& argv, const std::string& s) {
  return std::find(argv.begin(), argv.end(), s) != argv.end();
}

}  // namespace

TEST(Flags, TrainArgvRoundTripsThroughTheCli) {
  const std::string dir = test::temp_dir("flags_train");
  const std::string model = io::join_path(dir, "model"), adapter = io::join_path(dir, "adapter");
  io::make_dir(model);
  io::make_dir(adapter);
  const std::string pairs = io::join_path(dir, "pairs.jsonl");
  io::write_file_atomic(pairs, "");

  train::TrainOptions t;
  t.model.model_dir = model;
  t.model.adapter_dir = adapter;
  t.model.image_aspect = "none";
  t.model.threads = 3;
  t.model.device = "cuda:1";
  t.model.dtype = "bf16";
  t.pairs = pairs;
  t.images = "dir with spaces/images";
  t.loss.type = train::LossType::Ipo;
  t.loss.beta = 0.25;
  t.loss.label_smoothing = 0.1;
  t.loss.nll_weight = 0.1 + 0.2;  // not 0.3: only all 17 digits give it back
  t.weight_decay = 1e-2;
  t.loop.out = io::join_path(dir, "run");
  t.loop.lr = 1.0 / 3.0 * 1e-5;
  t.loop.warmup_ratio = 0.07;
  t.loop.warmup_steps = 7;
  t.loop.min_lr_ratio = 0.3;
  t.loop.max_grad_norm = 0.5;
  t.loop.batch_size = 32;
  t.loop.micro_batch_size = 8;
  t.loop.epochs = 3;
  t.loop.repeat = 1;
  t.loop.max_steps = 100;
  t.loop.save_every = 10;
  t.loop.seed = 12345678901234567890ULL;
  t.loop.resume = true;
  t.lora.r = 16;
  t.lora.alpha = 32.5;
  t.lora.dropout = 0.1;
  t.lora.target_modules = {"q_proj", "v_proj", "linear_1"};
  t.gradient_checkpointing = true;
  t.bf16 = true;

  const auto argv = util::write_argv(train::train_flags, t);
  EXPECT_TRUE(has(argv, "--lora-targets") && has(argv, "q_proj,v_proj,linear_1"));  // one value, joined
  EXPECT_TRUE(has(argv, "--loss") && has(argv, "ipo"));
  train::TrainOptions b;
  parse("train", train::train_flags, argv, b);

  EXPECT_EQ(b.model.model_dir, t.model.model_dir);
  EXPECT_EQ(b.model.adapter_dir, t.model.adapter_dir);
  EXPECT_EQ(b.model.image_aspect, t.model.image_aspect);
  EXPECT_EQ(b.model.threads, t.model.threads);
  EXPECT_EQ(b.model.device, t.model.device);
  EXPECT_EQ(b.model.dtype, t.model.dtype);
  EXPECT_EQ(b.pairs, t.pairs);
  EXPECT_EQ(b.images, t.images);
  EXPECT_EQ(b.loss.type, t.loss.type);
  EXPECT_EQ(b.loss.beta, t.loss.beta);
  EXPECT_EQ(b.loss.label_smoothing, t.loss.label_smoothing);
  EXPECT_EQ(b.loss.nll_weight, t.loss.nll_weight);  // exactly, not near
  EXPECT_EQ(b.weight_decay, t.weight_decay);
  EXPECT_EQ(b.loop.out, t.loop.out);
  EXPECT_EQ(b.loop.lr, t.loop.lr);
  EXPECT_EQ(b.loop.warmup_ratio, t.loop.warmup_ratio);
  EXPECT_EQ(b.loop.warmup_steps, t.loop.warmup_steps);
  EXPECT_EQ(b.loop.min_lr_ratio, t.loop.min_lr_ratio);
  EXPECT_EQ(b.loop.max_grad_norm, t.loop.max_grad_norm);
  EXPECT_EQ(b.loop.batch_size, t.loop.batch_size);
  EXPECT_EQ(b.loop.micro_batch_size, t.loop.micro_batch_size);
  EXPECT_EQ(b.loop.epochs, t.loop.epochs);
  EXPECT_EQ(b.loop.repeat, t.loop.repeat);
  EXPECT_EQ(b.loop.max_steps, t.loop.max_steps);
  EXPECT_EQ(b.loop.save_every, t.loop.save_every);
  EXPECT_EQ(b.loop.seed, t.loop.seed);
  EXPECT_EQ(b.loop.resume, t.loop.resume);
  EXPECT_EQ(b.lora.r, t.lora.r);
  EXPECT_EQ(b.lora.alpha, t.lora.alpha);
  EXPECT_EQ(b.lora.dropout, t.lora.dropout);
  EXPECT_EQ(b.lora.target_modules, t.lora.target_modules);
  EXPECT_EQ(b.gradient_checkpointing, t.gradient_checkpointing);
  EXPECT_EQ(b.bf16, t.bf16);
  // And the parsed struct writes the same command line.
  EXPECT_EQ(util::write_argv(train::train_flags, b), argv);
}

TEST(Flags, ArgvHoldsTheRequiredFlagsAndWhatDiffersFromTheDefaults) {
  const std::string dir = test::temp_dir("flags_defaults");
  method::SampleOptions s;
  s.instructions = io::join_path(dir, "pool.json");
  s.out = io::join_path(dir, "q.jsonl");
  EXPECT_EQ(util::write_argv(method::sample_flags, s),
            (std::vector<std::string>{"--instructions", s.instructions, "--out", s.out}));
  s.count = 40;
  s.sources = {"a/", "b/"};  // no delimiter: the flag repeated
  EXPECT_EQ(util::write_argv(method::sample_flags, s),
            (std::vector<std::string>{"--instructions", s.instructions, "--source", "a/", "--source", "b/", "--count", "40",
                                      "--out", s.out}));
  // A default of the struct (TrainOptions' repeat 2) is left out; the LoopOptions default (1) is not one.
  train::TrainOptions t;
  t.model.model_dir = dir;
  t.pairs = s.instructions;
  t.images = dir;
  t.loop.out = dir;
  EXPECT_FALSE(has(util::write_argv(train::train_flags, t), "--repeat"));
  t.loop.repeat = 1;
  EXPECT_TRUE(has(util::write_argv(train::train_flags, t), "--repeat"));
  // What cannot be written is refused, naming the flag.
  t.loop.out.clear();
  EXPECT_THROW(util::write_argv(train::train_flags, t), std::invalid_argument);
  t.loop.out = dir;
  t.lora.target_modules = {};
  EXPECT_THROW(util::write_argv(train::train_flags, t), std::invalid_argument);
}

TEST(Flags, DoublesAreWrittenShortAndReadBackExactly) {
  EXPECT_EQ(util::format_double(1e-4), "0.0001");
  EXPECT_EQ(util::format_double(2e-6), "2e-06");
  EXPECT_EQ(util::format_double(0.5), "0.5");
  EXPECT_EQ(util::format_double(16), "16");
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 2.5e-300, -7.25, 123456789.123456789})
    EXPECT_EQ(static_cast<double>(std::strtold(util::format_double(v).c_str(), nullptr)), v);
  EXPECT_THROW(util::format_double(NAN), std::invalid_argument);
}
