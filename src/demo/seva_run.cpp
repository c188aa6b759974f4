// One SeVa run on a base, as the paper runs it: sample questions from the pool, answer them on
// the original image and on augmented views, pair the differing answers, train LoRA adapters with
// DPO, evaluate. Or, as the paper's Table 3 controls, continued SFT on the same questions.
#include "demo/data_transforms.h"
#include "demo/recipe.h"

#include "io/files.h"
#include "method/flags.h"
#include "synth/world.h"
#include "train/flags.h"

#include <algorithm>
#include <cmath>

namespace seva::demo {
namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// The paths of one run, in RUN_DIR/dir_rel.
struct RunPaths {
  std::string dir, questions, gen, pairs, train, adapter, eval, sft_data;
  RunPaths(const std::string& run_dir, const std::string& dir_rel)
      : dir(io::join_path(run_dir, dir_rel)),
        questions(io::join_path(dir, "questions.jsonl")),
        gen(io::join_path(dir, "gen")),
        pairs(io::join_path(dir, "pairs.jsonl")),
        train(io::join_path(dir, "train")),
        adapter(io::join_path(train, "adapter")),
        eval(io::join_path(dir, "eval")),
        sft_data(io::join_path(dir, "sft.json")) {}
};

std::vector<std::string> sample_command(const Sizes& sz, const std::string& world, const SevaSettings& s,
                                        uint64_t seed, const RunPaths& p) {
  method::SampleOptions q;
  q.instructions = io::join_path(world, synth::kPoolFile);
  // Above 1x the pool has no more images: two questions per image instead of one.
  q.per_image = s.pool_fraction > 1.0 ? 2 : 1;
  q.count = s.pool_fraction > 1.0 ? sz.pool_images : std::max<int64_t>(1, std::llround(s.pool_fraction * sz.pool_images));
  q.seed = seed;
  q.out = p.questions;
  return command("sample", method::sample_flags, q);
}

std::vector<std::string> generate_command(const DemoOptions& o, const std::string& world, const std::string& base,
                                          const SevaSettings& s, uint64_t seed, const RunPaths& p) {
  method::GenerateCommandOptions g;
  g.model = model_options(o, base);
  g.gen.sampling.max_new_tokens = kMaxAnswerTokens;
  g.gen.sampling.seed = seed;
  g.gen.questions = p.questions;
  g.gen.images_dir = io::join_path(world, synth::kImagesDir);
  g.gen.out_dir = p.gen;
  g.gen.augs = split(s.aug, '|');
  g.gen.batch_size = 64;
  return command("generate", method::generate_flags, g);
}

std::vector<std::string> pair_command(const SevaSettings& s, const RunPaths& p) {
  method::PairCommandOptions c;
  c.answers = io::join_path(p.gen, "answers.jsonl");
  c.out = p.pairs;
  c.pair.min_chosen_prob = s.min_chosen_prob;
  c.pair.max_chosen_prob = s.max_chosen_prob;
  c.pair.balance = s.balance;
  return command("pair", method::pair_flags, c);
}

// The adapters both trainings put on the base.
model::LoraConfig lora_config(const SevaSettings& s) {
  model::LoraConfig l;
  l.r = s.lora_r;
  l.alpha = s.lora_alpha;
  l.dropout = 0.05;
  if (s.lora_projector) l.target_modules.insert(l.target_modules.end(), {"linear_1", "linear_2"});
  return l;
}

std::vector<std::string> dpo_command(const DemoOptions& o, const std::string& world, const std::string& base,
                                     const SevaSettings& s, uint64_t seed, const RunPaths& p) {
  train::TrainOptions t;
  t.model = model_options(o, base);
  t.pairs = p.pairs;
  t.images = io::join_path(world, synth::kImagesDir);
  t.loss.type = train::parse_loss(s.loss);
  t.loss.beta = s.beta;
  t.loss.nll_weight = s.nll;
  t.lora = lora_config(s);
  t.loop.out = p.train;
  t.loop.lr = s.lr;
  t.loop.warmup_ratio = 0.03;
  t.loop.epochs = s.epochs;
  t.loop.repeat = 1;
  t.loop.batch_size = s.batch_size;
  t.loop.micro_batch_size = s.batch_size;
  t.loop.seed = seed;
  resumable(t.loop);
  return command("train", train::train_flags, t);
}

// The same trainable weights as the DPO run: the adapters only (seva sft would otherwise train
// the projector whole beside them).
std::vector<std::string> sft_control_command(const DemoOptions& o, const std::string& world, const std::string& base,
                                             const SevaSettings& s, uint64_t seed, const RunPaths& p) {
  train::SftOptions t;
  t.model = model_options(o, base);
  t.data = {p.sft_data};
  t.images = io::join_path(world, synth::kImagesDir);
  t.lora = true;
  t.train = {"language"};
  t.lora_config = lora_config(s);
  t.loop.out = p.train;
  t.loop.lr = s.lr;
  t.loop.epochs = s.epochs;
  t.loop.batch_size = s.batch_size;
  t.loop.micro_batch_size = s.batch_size;
  t.loop.seed = seed;
  resumable(t.loop);
  return command("sft", train::sft_flags, t);
}

json settings_json(const SevaSettings& s) {
  return {{"aug", s.aug}, {"loss", s.loss}, {"lr", s.lr}, {"beta", s.beta}, {"epochs", s.epochs}, {"mode", s.mode},
          {"pool_fraction", s.pool_fraction}, {"lora_r", s.lora_r}, {"nll", s.nll},
          {"min_chosen_prob", s.min_chosen_prob}, {"max_chosen_prob", s.max_chosen_prob}, {"balance", s.balance},
          {"lora_projector", s.lora_projector}};
}

}  // namespace

json seva_run(Runner& r, const DemoOptions& o, const Sizes& sz, const std::string& world, const std::string& base,
              const SevaSettings& s, uint64_t seed, const std::string& dir_rel) {
  const RunPaths p(o.out, dir_rel);
  io::make_dir(p.dir);
  const std::string in = " (" + dir_rel + ")";
  r.phase(dir_rel + "/sample", "sample questions" + in, {sample_command(sz, world, s, seed, p)});
  r.phase(dir_rel + "/generate", "answer original and augmented views" + in,
          {generate_command(o, world, base, s, seed, p)});
  r.phase(dir_rel + "/pair", "pair differing answers" + in, {pair_command(s, p)});
  if (s.mode == "seva") {
    r.phase(dir_rel + "/train", "DPO with LoRA" + in, {dpo_command(o, world, base, s, seed, p)});
  } else {
    r.step(dir_rel + "/sft-data", "SFT data from the kept pairs" + in, [&] {
      write_sft_from_pairs(p.pairs, io::join_path(world, synth::kPoolLabels), s.mode == "sft-labels", p.sft_data);
    });
    r.phase(dir_rel + "/train", "continued SFT with LoRA" + in, {sft_control_command(o, world, base, s, seed, p)});
  }
  r.phase(dir_rel + "/eval", "evaluate the aligned model" + in, eval_commands(o, sz, world, base, p.adapter, p.eval));
  return {{"dir", dir_rel},
          {"seed", seed},
          {"settings", settings_json(s)},
          {"questions", count_lines(p.questions)},
          {"pairs", count_lines(p.pairs)}};
}

}  // namespace seva::demo
