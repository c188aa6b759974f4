#include "model/lora.h"

#include "io/files.h"
#include "io/safetensors.h"
#include "util/strings.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace seva::model {
namespace {

// PEFT's target_modules as a regular expression comes from a file a stranger may have written,
// and std::regex compiles it recursively and matches by backtracking. So the pattern is bounded
// first: at most 1024 characters (PEFT's own are a few hundred), no backreferences, no repetition
// count over 1000 (a 20-digit one overflowed inside libstdc++'s parser: fuzz_peft_adapter); and
// libstdc++ matches it with its polynomial executor, so no pattern can take exponential time.
std::regex compile_target_regex(const std::string& pattern) {
  constexpr size_t kMaxLength = 1024;
  constexpr int64_t kMaxCount = 1000;
  if (pattern.size() > kMaxLength)
    throw std::invalid_argument("a pattern of " + std::to_string(pattern.size()) + " characters (at most " +
                                std::to_string(kMaxLength) + ")");
  bool in_count = false;  // between { and }
  int64_t n = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9') throw std::invalid_argument("backreferences are not supported");
      ++i;
    } else if (c == '{' || (c == ',' && in_count)) {
      in_count = true;
      n = 0;
    } else if (c == '}') {
      in_count = false;
    } else if (in_count && std::isdigit(static_cast<unsigned char>(c))) {
      n = n * 10 + (c - '0');
      if (n > kMaxCount) throw std::invalid_argument("a repetition count over " + std::to_string(kMaxCount));
    }
  }
  auto flags = std::regex::ECMAScript;
#ifdef __GLIBCXX__
  flags |= std::regex_constants::__polynomial;
#endif
  return std::regex(pattern, flags);
}

const std::string kPeftPrefix = "base_model.model.";

using util::starts_with;

// Maps an adapter key to our parameter name, or "" when it is not a LoRA weight we know.
std::string adapter_key_to_name(std::string key) {
  if (!starts_with(key, kPeftPrefix)) return "";
  key = key.substr(kPeftPrefix.size());
  for (const char* tag : {".lora_A.", ".lora_B."}) {  // drop an adapter name: lora_A.default.weight
    auto pos = key.find(tag);
    if (pos == std::string::npos) continue;
    auto rest = key.substr(pos + std::string(tag).size());
    if (rest != "weight") key = key.substr(0, pos + std::string(tag).size()) + "weight";
  }
  if (starts_with(key, "model.layers.")) return "language_model." + key;                 // wrapped the LM only
  if (starts_with(key, "model.language_model.")) return "language_model.model." + key.substr(21);  // newer layout
  if (starts_with(key, "language_model.")) return key;                                    // wrapped LLaVA
  if (starts_with(key, "multi_modal_projector.")) return key;
  if (starts_with(key, "model.multi_modal_projector.")) return key.substr(6);             // newer layout
  return "";
}

}  // namespace

std::string adapter_key(const VisionLanguageModelImpl& model, const std::string& name) {
  return kPeftPrefix + model.adapter_name(name);
}

bool LoraConfig::targets_projector() const {
  for (const auto& t : target_modules)
    if (t == "linear_1" || t == "linear_2") return true;
  return false;
}

double LoraConfig::scaling() const { return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r; }

nlohmann::json LoraConfig::to_peft_json() const {
  nlohmann::json targets = target_modules;
  if (!target_regex.empty()) {
    targets = target_regex;
  } else {
    auto sorted = target_modules;
    std::sort(sorted.begin(), sorted.end());
    targets = sorted;
  }
  return {{"peft_type", "LORA"},       {"task_type", "CAUSAL_LM"},   {"r", r},
          {"lora_alpha", alpha},       {"lora_dropout", dropout},    {"use_rslora", use_rslora},
          {"target_modules", targets}, {"bias", "none"},             {"fan_in_fan_out", false},
          {"inference_mode", true},    {"init_lora_weights", true},  {"modules_to_save", nullptr},
          {"rank_pattern", nlohmann::json::object()}, {"alpha_pattern", nlohmann::json::object()},
          {"use_dora", false},         {"base_model_name_or_path", ""}};
}

LoraConfig LoraConfig::from_peft_json(const nlohmann::json& j, const std::string& src) {
  LoraConfig c;
  if (j.value("peft_type", "LORA") != "LORA") throw std::runtime_error(src + ": peft_type '" + j.value("peft_type", "") + "' is not LORA");
  if (j.contains("r")) {  // checked as a double first: an integer conversion of 4e85 is undefined
    const double r = j["r"].is_number() ? j["r"].get<double>() : 0.0;
    if (!(r >= 1 && r <= double(1 << 20)) || r != std::floor(r))
      throw std::runtime_error(src + ": r " + j["r"].dump() + " is not a LoRA rank (a whole number, 1 to 1048576)");
    c.r = static_cast<int64_t>(r);
  } else {
    c.r = 8;  // PEFT's default
  }
  c.alpha = j.value("lora_alpha", 8.0);
  c.dropout = j.value("lora_dropout", 0.0);
  c.use_rslora = j.value("use_rslora", false);
  if (j.value("use_dora", false)) throw std::runtime_error(src + ": DoRA adapters (use_dora) are not supported");
  if (j.value("fan_in_fan_out", false)) throw std::runtime_error(src + ": fan_in_fan_out adapters are not supported");
  if (j.contains("bias") && j["bias"] != "none") throw std::runtime_error(src + ": bias '" + j["bias"].dump() + "' is not supported (none)");
  for (const char* k : {"rank_pattern", "alpha_pattern"})
    if (j.contains(k) && j[k].is_object() && !j[k].empty())
      throw std::runtime_error(src + ": per-module " + k + " is not supported");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty())
    throw std::runtime_error(src + ": modules_to_save is not supported");
  if (j.contains("target_modules")) {
    const auto& t = j["target_modules"];
    if (t.is_string()) {
      c.target_regex = t.get<std::string>();
      try {
        (void)compile_target_regex(c.target_regex);
      } catch (const std::exception& e) {  // std::regex_error, or one of compile_target_regex's bounds
        throw std::runtime_error(src + ": target_modules '" + c.target_regex.substr(0, 200) +
                                 "' is not a regular expression seva reads (" + e.what() + ")");
      }
    } else if (t.is_array() && std::all_of(t.begin(), t.end(), [](const nlohmann::json& x) { return x.is_string(); })) {
      c.target_modules = t.get<std::vector<std::string>>();
    } else {
      throw std::runtime_error(src + ": target_modules must be a list of names or a regular expression");
    }
  }
  return c;
}

std::vector<std::pair<std::string, LinearImpl*>> lora_targets(VisionLanguageModelImpl& model,
                                                              const LoraConfig& cfg) {
  std::vector<std::pair<std::string, LinearImpl*>> out;
  const std::regex regex = compile_target_regex(cfg.target_regex);
  auto scan = [&](torch::nn::Module& root, const std::string& prefix) {
    for (auto& item : root.named_modules(prefix)) {
      auto* lin = item.value()->as<LinearImpl>();
      if (!lin) continue;
      const auto& name = item.key();
      auto last = name.substr(name.rfind('.') + 1);
      if (last == "lora_A" || last == "lora_B") continue;
      const bool hit = cfg.target_regex.empty()
                           ? std::find(cfg.target_modules.begin(), cfg.target_modules.end(), last) != cfg.target_modules.end()
                           : std::regex_match(model.adapter_name(name), regex);  // PEFT matches its own names
      if (hit) out.emplace_back(name, lin);
    }
  };
  scan(*model.language_model->model->layers, "language_model.model.layers");
  auto projector = model.projector_prefix();
  scan(model.projector(), projector.substr(0, projector.size() - 1));  // without the trailing '.' 
  return out;
}

torch::ScalarType training_lora_dtype(torch::ScalarType base) {
  return base == torch::kBFloat16 || base == torch::kFloat16 ? torch::kFloat32 : base;
}

std::vector<torch::Tensor> add_lora(VisionLanguageModelImpl& model, const LoraConfig& cfg,
                                    c10::optional<torch::ScalarType> dtype) {
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  auto targets = lora_targets(model, cfg);
  if (targets.empty()) throw std::runtime_error("LoRA target_modules match no linear layer of the language model or the projector");
  std::vector<torch::Tensor> trainable;
  for (auto& [name, lin] : targets) {
    lin->add_lora(cfg.r, cfg.scaling(), cfg.dropout, dtype);
    lin->lora_A->weight.set_requires_grad(true);
    lin->lora_B->weight.set_requires_grad(true);
    trainable.push_back(lin->lora_A->weight);
    trainable.push_back(lin->lora_B->weight);
  }
  return trainable;
}

void set_lora_enabled(VisionLanguageModelImpl& model, bool enabled) {
  for (auto& m : model.modules())
    if (auto* lin = m->as<LinearImpl>()) lin->lora_enabled = enabled;
}

void merge_lora(VisionLanguageModelImpl& model) {
  for (auto& m : model.modules())
    if (auto* lin = m->as<LinearImpl>()) lin->merge_lora();
}

std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(VisionLanguageModelImpl& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& item : model.named_parameters(true))
    if (item.key().find(".lora_A.") != std::string::npos || item.key().find(".lora_B.") != std::string::npos)
      out.emplace_back(item.key(), item.value());
  return out;
}

void save_adapter(VisionLanguageModelImpl& model, const LoraConfig& cfg, const std::string& dir,
                  const std::string& base_model) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& [name, t] : lora_parameters(model)) tensors.emplace_back(adapter_key(model, name), t.detach().cpu());
  if (tensors.empty()) throw std::runtime_error("save_adapter: the model has no LoRA adapter");
  io::save_safetensors(io::join_path(dir, "adapter_model.safetensors"), tensors, {{"format", "pt"}});
  auto written = cfg;
  if (written.target_regex.empty()) written.target_regex = model.peft_target_regex(cfg.target_modules);
  auto j = written.to_peft_json();
  j["base_model_name_or_path"] = base_model;
  io::write_file_atomic(io::join_path(dir, "adapter_config.json"), j.dump(2) + "\n");
}

LoraConfig load_adapter(VisionLanguageModelImpl& model, const std::string& dir) {
  auto cfg_path = io::join_path(dir, "adapter_config.json");
  auto w_path = io::join_path(dir, "adapter_model.safetensors");
  if (!io::file_exists(cfg_path)) throw std::runtime_error(cfg_path + ": no adapter_config.json in the adapter directory");
  if (!io::file_exists(w_path))
    throw std::runtime_error(w_path + ": no adapter_model.safetensors in the adapter directory (pickled .bin adapters are not loaded)");
  auto cfg = LoraConfig::from_peft_json(io::read_json(cfg_path), cfg_path);
  io::SafetensorsFile file(w_path);
  std::map<std::string, std::string> by_name;
  for (const auto& key : file.keys()) {
    auto name = adapter_key_to_name(key);
    if (name.empty()) throw std::runtime_error(w_path + ": tensor '" + key + "' is not a LoRA weight of this model's decoder or projector");
    by_name[name] = key;
  }
  auto dtype = model.dtype();
  add_lora(model, cfg);
  size_t used = 0;
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : lora_parameters(model)) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw std::runtime_error(w_path + ": missing adapter tensor for " + name);
    auto t = file.get(it->second, dtype);
    if (t.sizes() != param.sizes()) {
      std::ostringstream ss;
      ss << w_path << ": tensor '" << it->second << "' has shape " << t.sizes() << " but r=" << cfg.r
         << " needs " << param.sizes();
      throw std::runtime_error(ss.str());
    }
    param.copy_(t);
    ++used;
  }
  if (used != by_name.size())
    throw std::runtime_error(w_path + ": " + std::to_string(by_name.size() - used) +
                             " adapter tensors target modules outside target_modules");
  const auto extra_path = io::join_path(dir, "non_lora_trainables.safetensors");
  if (io::file_exists(extra_path)) {
    io::SafetensorsFile extra(extra_path);
    auto params = model.named_parameters(true);
    for (const auto& key : extra.keys()) {
      auto name = starts_with(key, kPeftPrefix) ? key.substr(kPeftPrefix.size()) : key;
      auto* p = params.find(name);
      if (!p) throw std::runtime_error(extra_path + ": tensor '" + key + "' is not a parameter of the model");
      auto t = extra.get(key, p->scalar_type());
      if (t.sizes() != p->sizes()) {
        std::ostringstream ss;
        ss << extra_path << ": tensor '" << key << "' has shape " << t.sizes() << " but the model's is " << p->sizes();
        throw std::runtime_error(ss.str());
      }
      p->copy_(t);
    }
  }
  return cfg;
}

}  // namespace seva::model
