// The studies of `seva demo --study`: the settings each compares, and the directory a run of one
// setting and seed keeps, shared by every study that holds the same setting.
#include "demo/pipeline.h"

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace seva::demo {
namespace {

// A number as a directory name or a label shows it: the stream's default form ("5e-05", "0.25").
std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

// A study run's directory name: the settings that differ from the built-in defaults, then the
// seed ("default-s0", "aug_flip-s1", "balance_0-pool_fraction_0.25-s2"). Two studies that hold the
// same setting (the defaults are in every one: diffusion:500 in `aug`, t=500 in `noise`, 1x in
// `scale`) share its run in one RUN_DIR instead of repeating it.
std::string study_run_dir(const SevaSettings& s, uint64_t seed) {
  const SevaSettings d;
  std::string slug;
  auto add = [&](const char* key, const std::string& v, bool differs) {
    if (differs) slug += (slug.empty() ? "" : "-") + std::string(key) + "_" + v;
  };
  add("aug", s.aug, s.aug != d.aug);
  add("loss", s.loss, s.loss != d.loss);
  add("lr", fmt(s.lr), s.lr != d.lr);
  add("beta", fmt(s.beta), s.beta != d.beta);
  add("nll", fmt(s.nll), s.nll != d.nll);
  add("min_chosen_prob", fmt(s.min_chosen_prob), s.min_chosen_prob != d.min_chosen_prob);
  add("max_chosen_prob", fmt(s.max_chosen_prob), s.max_chosen_prob != d.max_chosen_prob);
  add("balance", fmt(s.balance), s.balance != d.balance);
  add("epochs", std::to_string(s.epochs), s.epochs != d.epochs);
  add("batch_size", std::to_string(s.batch_size), s.batch_size != d.batch_size);
  add("lora_r", std::to_string(s.lora_r), s.lora_r != d.lora_r);
  add("lora_alpha", fmt(s.lora_alpha), s.lora_alpha != d.lora_alpha);
  add("pool_fraction", fmt(s.pool_fraction), s.pool_fraction != d.pool_fraction);
  add("mode", s.mode, s.mode != d.mode);
  add("lora_projector", "1", s.lora_projector != d.lora_projector);
  std::string rel = "study-runs/";
  for (char c : slug.empty() ? std::string("default") : slug)
    rel += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') ? c : '_';
  return rel + "-s" + std::to_string(seed);
}

std::vector<std::pair<std::string, SevaSettings>> study_settings(const std::string& study, const SevaSettings& base) {
  std::vector<std::pair<std::string, SevaSettings>> out;
  auto with = [&](const std::string& name, auto&& edit) {
    SevaSettings s = base;
    edit(s);
    out.emplace_back(name, s);
  };
  if (study == "aug") {
    for (const char* a : {"flip", "rrcrop", "autoaug", "moco", "diffusion:200", "diffusion:500", "diffusion:800"})
      with(a, [&](SevaSettings& s) { s.aug = a; });
  } else if (study == "noise") {
    for (int t : {100, 300, 500, 700, 900})
      with("t=" + std::to_string(t), [&](SevaSettings& s) { s.aug = "diffusion:" + std::to_string(t); });
  } else if (study == "scale") {
    for (double f : {0.25, 0.5, 1.0, 2.0})
      with(f == 2.0 ? "2x" : f == 1.0 ? "1x" : f == 0.5 ? "1/2" : "1/4", [&](SevaSettings& s) { s.pool_fraction = f; });
  } else if (study == "sft") {
    with("seva", [](SevaSettings&) {});
    with("sft-labels", [](SevaSettings& s) { s.mode = "sft-labels"; });
    with("sft-chosen", [](SevaSettings& s) { s.mode = "sft-chosen"; });
  } else if (study == "multi") {
    with("1 negative", [](SevaSettings&) {});
    with("3 negatives", [&](SevaSettings& s) {
      s.aug = base.aug + "|diffusion:800|rrcrop";
      s.loss = "multi";
    });
  } else if (study == "balance") {
    // Ours: seva pair --balance, off and at several caps (an answer rejected at most R times as
    // often as it is chosen).
    for (double b : {0.0, 1.0, 2.0, 3.0})
      with(b == 0 ? std::string("off") : "R=" + fmt(b), [&](SevaSettings& s) { s.balance = b; });
  } else if (study == "nll") {
    // Not in the paper (plain DPO there): an NLL term on the chosen answer, as a regulariser.
    with("nll 0", [](SevaSettings& s) { s.nll = 0; });
    with("nll 1", [](SevaSettings& s) { s.nll = 1; });
  } else if (study == "lora") {
    // Not in the paper (adapters on the decoder only there): the projector adapted too.
    with("decoder", [](SevaSettings& s) { s.lora_projector = false; });
    with("decoder + projector", [](SevaSettings& s) { s.lora_projector = true; });
  } else {
    throw std::runtime_error("--study: unknown study '" + study + "' (aug, noise, scale, sft, multi, balance, nll, lora)");
  }
  return out;
}

}  // namespace seva::demo
