// The base trained from scratch (seva demo --from-scratch): the tokenizer and a random model,
// then LLaVA's caption and question SFT stages in five passes and three of multiple choice (two
// stages in all with --quick).
#include "demo/recipe.h"

#include "io/files.h"
#include "synth/world.h"
#include "train/flags.h"

namespace seva::demo {
namespace {

// One SFT stage of the base. A small model from scratch trains stably with AdamW betas (0.9,
// 0.98), weight decay 0.01 on weight matrices only, warm-up then cosine to 0.1x.
struct Stage {
  std::vector<std::string> data;  // world files, one mixture
  std::vector<std::string> parts = {"vision", "projector", "language"};
  double lr = 0;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  int64_t batch = 64;             // the micro-batch too
  int64_t steps = 0;              // 0: one epoch
};

std::vector<std::string> sft_command(const DemoOptions& o, const std::string& world, const std::string& model,
                                     const std::string& out, const Stage& st) {
  train::SftOptions s;
  s.model = model_options(o, model);
  for (const auto& d : st.data) s.data.push_back(io::join_path(world, d));
  s.images = io::join_path(world, synth::kImagesDir);
  s.train = st.parts;
  s.weight_decay = 0.01;
  s.adam_beta2 = 0.98;
  s.loop.out = out;
  s.loop.lr = st.lr;
  s.loop.warmup_steps = st.warmup_steps;
  s.loop.min_lr_ratio = st.min_lr_ratio;
  s.loop.batch_size = st.batch;
  s.loop.micro_batch_size = st.batch;
  s.loop.epochs = 1;
  s.loop.max_steps = st.steps > 0 ? st.steps : -1;
  s.loop.seed = o.seed;
  resumable(s.loop);
  return command("sft", train::sft_flags, s);
}

Stage plain_stage(const char* data, double lr, int64_t warmup_steps, int64_t steps) {
  Stage st;
  st.data = {data};
  st.lr = lr;
  st.warmup_steps = warmup_steps;
  st.steps = steps;
  return st;
}

// Stages 3 to 8, after the first two (the full run only). Returns the last stage's directory.
std::string later_stages(Runner& r, const DemoOptions& o, const std::string& world, std::string prev) {
  auto run_stage = [&](const char* key, const std::string& title, const Stage& st) {
    const std::string out = io::join_path(o.out, std::string("base-") + key);
    r.phase(key, title, {sft_command(o, world, io::join_path(prev, "model"), out, st)});
    prev = out;
  };
  // Three more stages at half the rate. After the first two the base could tell colours, counts
  // and the layout but not yet shapes: one more pass of captions, then of questions. After those,
  // existence was still 7 points above chance (POPE yes-ratio 0.69) while every other family was
  // far above: a third pass of questions took it from 57% to 73%.
  run_stage("sft3", "base SFT stage 3 (captions again)", plain_stage(synth::kSftStage1, 1e-3, 15, 0));
  run_stage("sft4", "base SFT stage 4 (questions again)", plain_stage(synth::kSftStage2, 1e-3, 15, 0));
  run_stage("sft5", "base SFT stage 5 (questions, third pass)", plain_stage(synth::kSftStage2, 1e-3, 15, 0));
  // Multiple choice (choice_drill.h). After stage 5 the base answers every MMBench question
  // with one letter (chance): binding "the option that says X" to its letter is an
  // induction-like circuit that needs no vision, and its loss sits at chance for hundreds of
  // steps before it falls, sooner with two options than with two to four
  // (docs/tiny-world-base.md). So stage 6 drills it on stated answers with two options, stage 7
  // with two to four, vision frozen in both; stage 8 trains the world's MC questions (half
  // after their open twin) mixed one to one with the question families, every part, so the
  // families are not forgotten.
  Stage drill = plain_stage(synth::kSftChoiceDrill2, 1e-3, 15, 0);
  drill.parts = {"projector", "language"};
  drill.min_lr_ratio = 0.5;
  drill.batch = 32;
  run_stage("sft6", "base SFT stage 6 (multiple-choice drill, two options)", drill);
  drill.data = {synth::kSftChoiceDrill};
  run_stage("sft7", "base SFT stage 7 (multiple-choice drill, two to four options)", drill);
  Stage mixed = plain_stage(synth::kSftStage2, 5e-4, 15, 0);
  mixed.data.push_back(synth::kSftChoice);
  run_stage("sft8", "base SFT stage 8 (question families + multiple choice)", mixed);
  return prev;
}

}  // namespace

std::string train_base(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world) {
  const std::string init = io::join_path(o.out, "base-init");
  train::InitOptions i;
  i.model.corpus = io::join_path(world, synth::kCorpusFile);
  i.model.out = init;
  i.model.seed = o.seed;
  r.phase("init", "tokenizer and random base", {command("init", train::init_flags, i)});
  const std::string sft1 = io::join_path(o.out, "base-sft1"), sft2 = io::join_path(o.out, "base-sft2");
  r.phase("sft1", "base SFT stage 1 (captions)",
          {sft_command(o, world, init, sft1, plain_stage(synth::kSftStage1, 2e-3, sz.warmup_steps, sz.sft1_steps))});
  r.phase("sft2", "base SFT stage 2 (questions)",
          {sft_command(o, world, io::join_path(sft1, "model"), sft2,
                       plain_stage(synth::kSftStage2, 2e-3, sz.warmup_steps, sz.sft2_steps))});
  const std::string last = o.quick ? sft2 : later_stages(r, o, world, sft2);
  return io::join_path(last, "model");
}

}  // namespace seva::demo
