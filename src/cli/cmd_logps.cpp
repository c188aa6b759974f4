// `seva logps`: summed log-probabilities of each pair's chosen and rejected answers.
#include "cli/commands.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "train/logps.h"
#include "train/pairs.h"

namespace seva::cli {
namespace {

struct LogpsOptions {
  generate::ModelOptions model;
  std::string pairs, images, out;
  int64_t batch_size = 4;
};

int run_logps(const LogpsOptions& o) {
  auto vlm = generate::Vlm::load(o.model);
  auto pairs = train::read_pairs(o.pairs);
  io::JsonlWriter w(o.out, false);
  torch::NoGradGuard ng;
  for (size_t i = 0; i < pairs.size(); i += static_cast<size_t>(o.batch_size)) {
    std::vector<train::PackedExample> ex;
    std::vector<torch::Tensor> px;
    size_t end = std::min(pairs.size(), i + static_cast<size_t>(o.batch_size));
    for (size_t j = i; j < end; ++j) {
      ex.push_back(train::tokenize_pair(vlm.tokenizer, vlm.chat, pairs[j]));
      px.push_back(vlm.pixels(io::join_path(o.images, pairs[j].image)));
    }
    auto lp = train::packed_logps(*vlm.model, ex, vlm.model->image_features(px));
    for (size_t j = i; j < end; ++j) {
      auto v = lp[j - i].cpu().to(torch::kFloat64);
      const auto& e = ex[j - i];
      std::vector<double> rej(v.data_ptr<double>() + 1, v.data_ptr<double>() + v.numel());
      std::vector<size_t> rej_n;
      for (size_t k = 1; k < e.answers.size(); ++k) rej_n.push_back(e.answers[k].size());
      w.write({{"id", pairs[j].id}, {"chosen_logp", v[0].item<double>()}, {"rejected_logps", rej},
               {"chosen_tokens", e.answers[0].size()}, {"rejected_tokens", rej_n}});
    }
  }
  return 0;
}

}  // namespace

Action register_logps(CLI::App& app) {
  auto o = std::make_shared<LogpsOptions>();
  auto* cmd = app.add_subcommand("logps", "Log-probabilities of each pair's answers (one JSON line per pair)");
  add_model_options(*cmd, o->model);
  cmd->add_option("--pairs", o->pairs, "pairs file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--images", o->images, "image directory")->required();
  cmd->add_option("--out", o->out, "output JSONL")->required();
  cmd->add_option("--batch-size", o->batch_size, "pairs per forward")->capture_default_str();
  return [o] { return run_logps(*o); };
}

}  // namespace seva::cli
