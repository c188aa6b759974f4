#include "model/checkpoint.h"

#include "io/files.h"
#include "model/qwen2_vl.h"
#include "util/strings.h"

#include <torch/torch.h>

#include <set>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

namespace seva::model {
namespace {

using util::ends_with;
using util::starts_with;

std::string list_some(const std::vector<std::string>& names) {
  std::ostringstream ss;
  for (size_t i = 0; i < names.size() && i < 5; ++i) ss << (i ? ", " : "") << names[i];
  if (names.size() > 5) ss << ", ... (" << names.size() << " in all)";
  return ss.str();
}

}  // namespace

std::string canonical_key(const std::string& key) {
  if (ends_with(key, ".position_ids") || ends_with(key, "rotary_emb.inv_freq")) return "";
  // Newer transformers layout -> Hub layout.
  static const std::pair<const char*, const char*> kRenames[] = {
      {"model.language_model.", "language_model.model."},
      {"model.vision_tower.", "vision_tower."},
      {"model.multi_modal_projector.", "multi_modal_projector."},
      {"lm_head.", "language_model.lm_head."},
  };
  for (const auto& [from, to] : kRenames)
    if (starts_with(key, from)) return std::string(to) + key.substr(std::string(from).size());
  return key;
}

void load_parameters(torch::nn::Module& module, const io::Checkpoint& ckpt, torch::ScalarType dtype,
                     const std::function<std::string(const std::string&)>& to_name) {
  std::map<std::string, std::string> by_name;  // our name -> checkpoint key
  for (const auto& key : ckpt.keys()) {
    auto name = to_name(key);
    if (!name.empty()) by_name[name] = key;
  }
  auto params = module.named_parameters(/*recurse=*/true);
  std::vector<std::string> missing;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& item : params) {
    auto it = by_name.find(item.key());
    if (it == by_name.end()) {
      missing.push_back(item.key());
      continue;
    }
    const auto& key = it->second;
    const auto& info = ckpt.info(key);
    auto& param = item.value();
    if (std::vector<int64_t>(param.sizes().begin(), param.sizes().end()) != info.shape) {
      std::ostringstream ss;
      ss << ckpt.file_of(key) << ": tensor '" << key << "' has shape " << c10::IntArrayRef(info.shape)
         << " but the config needs " << param.sizes();
      throw std::runtime_error(ss.str());
    }
    param.copy_(ckpt.get(key, dtype));
    used.insert(it->first);
  }
  if (!missing.empty())
    throw std::runtime_error((ckpt.keys().empty() ? std::string("checkpoint") : ckpt.file_of(ckpt.keys()[0])) +
                             ": missing tensors the config needs: " + list_some(missing));
  std::vector<std::string> unexpected;
  for (const auto& [name, key] : by_name)
    if (!used.count(name)) unexpected.push_back(key);
  if (!unexpected.empty())
    throw std::runtime_error(ckpt.file_of(unexpected[0]) + ": unexpected tensors for this config: " +
                             list_some(unexpected));
}

namespace {

template <typename Model, typename Config>
std::shared_ptr<typename Model::Impl> build_and_load(const Config& cfg, const std::string& dir, const LoadOptions& opts) {
  io::Checkpoint ckpt(dir);
  Model model{nullptr};
  {
    SkipInit skip(opts.dtype);
    model = Model(cfg);
  }
  model->to(opts.device);
  load_parameters(*model, ckpt, opts.dtype, [&](const std::string& key) { return model->canonical_key(key); });
  model->eval();
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  return model.ptr();
}

}  // namespace

LlavaForConditionalGeneration load_llava(const std::string& dir, const LoadOptions& opts) {
  return LlavaForConditionalGeneration(build_and_load<LlavaForConditionalGeneration>(LlavaConfig::load(dir), dir, opts));
}

std::string model_type_of(const std::string& dir) {
  std::string path = io::join_path(dir, "config.json");
  if (!io::file_exists(path)) throw std::runtime_error(path + ": no config.json in the model directory");
  auto j = io::read_json(path);
  if (!j.is_object()) throw std::runtime_error(path + ": config is not a JSON object");
  auto it = j.find("model_type");
  if (it == j.end() || it->is_null()) return "llava";
  if (!it->is_string()) throw std::runtime_error(path + ": field 'model_type' has the wrong type: " + it->dump());
  return it->get<std::string>();
}

VisionLanguageModel load_model(const std::string& dir, const LoadOptions& opts) {
  const auto type = model_type_of(dir);
  if (type == "llava") return load_llava(dir, opts).ptr();
  if (type == "qwen2_vl" || type == "qwen2_5_vl") {
    std::string path = io::join_path(dir, "config.json");
    return build_and_load<Qwen2VLForConditionalGeneration>(Qwen2VLConfig::from_json(io::read_json(path), path), dir, opts);
  }
  throw std::runtime_error(io::join_path(dir, "config.json") + ": model_type '" + type +
                           "' is not supported (supported: llava, qwen2_vl, qwen2_5_vl)");
}

void save_model(VisionLanguageModelImpl& model, const std::string& dir, uint64_t max_shard_bytes) {
  ::mkdir(dir.c_str(), 0755);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& item : model.named_parameters(true))
    tensors.emplace_back(model.checkpoint_key(item.key()), item.value().detach().cpu());
  io::save_checkpoint(dir, tensors, max_shard_bytes);
  io::write_file_atomic(io::join_path(dir, "config.json"), model.config_json().dump(2) + "\n");
}

void copy_processor_files(const std::string& from_dir, const std::string& to_dir) {
  for (const char* f : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "added_tokens.json", "vocab.json", "merges.txt", "preprocessor_config.json",
                        "processor_config.json", "chat_template.json", "chat_template.jinja", "generation_config.json",
                        "seva.json"}) {
    auto src = io::join_path(from_dir, f);
    if (io::file_exists(src)) io::write_file_atomic(io::join_path(to_dir, f), io::read_file(src));
  }
}

void save_llava(LlavaForConditionalGenerationImpl& model, const std::string& dir, uint64_t max_shard_bytes) {
  save_model(model, dir, max_shard_bytes);
}

}  // namespace seva::model
