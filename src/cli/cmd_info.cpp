// `seva info`: architecture, parameter counts and dtypes of a checkpoint.
#include "cli/commands.h"

#include "io/safetensors.h"
#include "model/checkpoint.h"

#include <iomanip>
#include <iostream>
#include <map>

namespace seva::cli {
namespace {

struct InfoOptions {
  generate::ModelOptions model;
  bool json = false;
};

std::string human(int64_t n) {
  std::ostringstream ss;
  if (n >= 1000000000) ss << std::fixed << std::setprecision(2) << n / 1e9 << "B";
  else if (n >= 1000000) ss << std::fixed << std::setprecision(2) << n / 1e6 << "M";
  else if (n >= 1000) ss << std::fixed << std::setprecision(1) << n / 1e3 << "K";
  else ss << n;
  return ss.str();
}

int run_info(const InfoOptions& o) {
  generate::set_threads(o.model.threads);
  auto cfg = model::LlavaConfig::load(o.model.model_dir);
  io::Checkpoint ckpt(o.model.model_dir);
  std::map<std::string, int64_t> params;  // part -> count
  std::map<std::string, int64_t> dtypes;  // stored dtype -> tensor count
  int64_t total = 0;
  for (const auto& key : ckpt.keys()) {
    auto name = model::canonical_key(key);
    if (name.empty()) continue;
    const auto& info = ckpt.info(key);
    int64_t n = 1;
    for (auto d : info.shape) n *= d;
    std::string part = name.substr(0, name.find('.'));
    params[part] += n;
    dtypes[info.dtype] += 1;
    total += n;
  }
  // Building the model checks every key and shape against the config.
  model::LoadOptions lo;
  auto m = model::load_llava(o.model.model_dir, lo);
  const auto& t = cfg.text;
  const auto& v = cfg.vision;
  if (o.json) {
    nlohmann::json j = {{"config", cfg.to_json()}, {"parameters", params}, {"total_parameters", total},
                        {"stored_dtypes", dtypes}, {"image_tokens", cfg.image_tokens()}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model        " << o.model.model_dir << "\n"
            << "vision tower CLIP ViT: " << v.num_hidden_layers << " layers, width " << v.hidden_size << ", "
            << v.num_attention_heads << " heads, MLP " << v.intermediate_size << " (" << v.hidden_act << "), "
            << v.image_size << " px / patch " << v.patch_size << " -> " << v.num_patches() << " patches\n"
            << "             features from layer " << cfg.vision_feature_layer << " ("
            << cfg.vision_layers_needed() << " of " << v.num_hidden_layers << " run), strategy "
            << cfg.vision_feature_select_strategy << " -> " << cfg.image_tokens() << " image tokens\n"
            << "projector    " << v.hidden_size << " -> " << t.hidden_size << " (" << cfg.projector_hidden_act
            << ") -> " << t.hidden_size << "\n"
            << "language     LLaMA: " << t.num_hidden_layers << " layers, width " << t.hidden_size << ", "
            << t.num_attention_heads << " heads (" << t.kv_heads() << " kv), head dim " << t.dim_per_head()
            << ", MLP " << t.intermediate_size << " (" << t.hidden_act << "), vocab " << t.vocab_size
            << ", rope theta " << t.rope_theta << ", eps " << t.rms_norm_eps
            << (t.tie_word_embeddings ? ", tied embeddings" : ", untied lm_head") << "\n"
            << "image token  " << cfg.image_token_index << "\n"
            << "parameters   " << human(total) << " (" << total << ")";
  for (const auto& [part, n] : params) std::cout << "; " << part << " " << human(n);
  std::cout << "\nstored as   ";
  for (const auto& [dt, n] : dtypes) std::cout << " " << dt << " x" << n;
  std::cout << "\n";
  return 0;
}

}  // namespace

Action register_info(CLI::App& app) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Print a checkpoint's architecture, parameter counts and dtypes");
  add_model_options(*cmd, opts->model);
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  return [opts] { return run_info(*opts); };
}

}  // namespace seva::cli
