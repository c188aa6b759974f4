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
  // Building the model checks the config and every key and shape against it.
  model::LoadOptions lo;
  auto m = model::load_model(o.model.model_dir, lo);
  io::Checkpoint ckpt(o.model.model_dir);
  std::map<std::string, int64_t> params;  // part -> count
  std::map<std::string, int64_t> dtypes;  // stored dtype -> tensor count
  int64_t total = 0;
  for (const auto& key : ckpt.keys()) {
    auto name = m->canonical_key(key);
    if (name.empty()) continue;
    const auto& info = ckpt.info(key);
    int64_t n = 1;
    for (auto d : info.shape) n *= d;
    std::string part = name.substr(0, name.find('.'));
    params[part] += n;
    dtypes[info.dtype] += 1;
    total += n;
  }
  if (o.json) {
    nlohmann::json j = {{"model_type", m->model_type()}, {"config", m->config_json()}, {"parameters", params},
                        {"total_parameters", total}, {"stored_dtypes", dtypes}};
    if (m->fixed_image_size() > 0) j["image_tokens"] = m->image_tokens(m->fixed_image_size(), m->fixed_image_size());
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model        " << o.model.model_dir << " (" << m->model_type() << ")\n"
            << m->describe() << "parameters   " << human(total) << " (" << total << ")";
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
