#include "train/sft.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "text/conversation.h"
#include "train/image_features.h"
#include "train/ref_cache.h"
#include "train/trainer.h"
#include "util/strings.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

namespace seva::train {
namespace {


bool starts_with(const std::vector<int64_t>& whole, const std::vector<int64_t>& prefix) {
  return prefix.size() <= whole.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

}  // namespace

int64_t SftTokens::label_count() const { return std::count(labels.begin(), labels.end(), true); }

std::string sft_conversation_text(const text::ChatTemplate& chat, const SftExample& ex) {
  std::string s = chat.prefix();
  bool first = true;
  for (const auto& [q, a] : ex.turns) {
    s += chat.user_turn(first ? chat.place_image(q) : q) + chat.answer_lead() + a + chat.answer_end_token() + chat.after_answer();
    first = false;
  }
  return s;
}

SftTokens tokenize_dialogue(const text::Tokenizer& tok, const text::ChatTemplate& chat, const SftExample& ex) {
  SftTokens out;
  std::string text = chat.prefix();
  std::vector<std::pair<std::string, std::string>> spans;  // (text before answer, text through its end token)
  bool first = true;
  for (const auto& [q, a] : ex.turns) {
    text += chat.user_turn(first ? chat.place_image(q) : q);
    first = false;
    std::string before = text;
    text += chat.answer_lead() + a + chat.answer_end_token();
    spans.emplace_back(before, text);
    text += chat.after_answer();
  }
  out.ids = tok.encode(text);
  out.labels.assign(out.ids.size(), false);
  for (const auto& [before, through] : spans) {
    auto b = tok.encode(before), t = tok.encode(through);
    if (!starts_with(out.ids, b) || !starts_with(out.ids, t) || t.size() <= b.size())
      throw std::runtime_error(ex.source + ": the dialogue's tokens do not split at an answer boundary");
    if (t.back() != tok.token_to_id(chat.answer_end_token()))
      throw std::runtime_error(ex.source + ": the tokenizer does not read " + chat.answer_end_token() + " as one token");
    for (size_t j = b.size(); j < t.size(); ++j) out.labels[j] = true;
  }
  const auto marker = chat.format == text::ChatTemplate::Format::ChatML ? "<|image_pad|>" : "<image>";
  int64_t images = std::count(out.ids.begin(), out.ids.end(), tok.token_to_id(marker));
  if (images != 1) throw std::runtime_error(ex.source + std::string(": the dialogue must hold exactly one ") + marker + " token");
  return out;
}

torch::Tensor sft_logps(model::VisionLanguageModelImpl& model, const std::vector<SftTokens>& examples,
                        const std::vector<torch::Tensor>& image_features) {
  std::vector<std::vector<int64_t>> ids;
  for (const auto& e : examples) ids.push_back(e.ids);
  auto batch = model.merge_prompts(ids, image_features, model::Padding::Right);
  const int64_t B = batch.embeds.size(0), T = batch.embeds.size(1), C = batch.embeds.size(2);
  auto device = model.device();
  auto bias = model::causal_bias(batch.mask, T, model.dtype());
  auto hidden = model.language_model->model->forward(batch.embeds, batch.positions, bias);
  std::vector<int64_t> from, target, owner;
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = examples[static_cast<size_t>(b)];
    // The <image> token became P embeddings: later tokens shift by the difference in length.
    const int64_t shift = batch.lengths[b] - static_cast<int64_t>(e.ids.size());
    size_t img = std::find(e.ids.begin(), e.ids.end(), model.image_token_id()) - e.ids.begin();
    for (size_t j = 1; j < e.ids.size(); ++j) {
      if (!e.labels[j]) continue;
      int64_t m = static_cast<int64_t>(j) + (j > img ? shift : 0);
      from.push_back(b * T + m - 1);
      target.push_back(e.ids[j]);
      owner.push_back(b);
    }
  }
  auto h = hidden.reshape({B * T, C}).index_select(0, torch::tensor(from, torch::kInt64).to(device));
  auto logits = model.language_model->logits(h);
  if (logits.scalar_type() != torch::kFloat64) logits = logits.to(torch::kFloat32);
  auto tok = torch::log_softmax(logits, -1).gather(1, torch::tensor(target, torch::kInt64).to(device).unsqueeze(1)).squeeze(1);
  return torch::zeros({B}, tok.options()).index_add(0, torch::tensor(owner, torch::kInt64).to(device), tok);
}

namespace {

// The parts that train in full: any of vision, projector, language (LoRA replaces language).
std::set<std::string> full_parts(const SftOptions& o) {
  std::set<std::string> parts;
  for (const auto& p : o.train) {
    if (p != "vision" && p != "projector" && p != "language")
      throw std::runtime_error("--train: unknown part '" + p + "' (vision, projector, language)");
    parts.insert(p);
  }
  if (o.lora) parts.erase("language");
  if (parts.empty() && !o.lora) throw std::runtime_error("--train names no part to train");
  return parts;
}

// The trained parameters and, for bfloat16/float16 ones trained in full, their float32 masters:
// AdamW updates the master and the model's copy is refreshed from it after each step.
struct Trainables {
  std::vector<torch::Tensor> params;                               // the model's
  std::vector<std::pair<torch::Tensor, torch::Tensor>> masters;    // (model parameter, float32 master)
  std::map<std::string, torch::Tensor> master_by_name;
  std::vector<torch::Tensor> opt_params;                           // what AdamW updates

  // The tensor AdamW holds for model parameter p.
  torch::Tensor target_of(const torch::Tensor& p) const {
    for (auto& [model_p, master] : masters)
      if (model_p.is_same(p)) return master;
    return p;
  }
};

Trainables make_trainables(model::VisionLanguageModelImpl& m, const SftOptions& o,
                           const std::set<std::string>& parts) {
  Trainables t;
  for (auto& p : m.parameters()) p.set_requires_grad(false);
  torch::manual_seed(o.loop.seed);
  if (o.lora) t.params = model::add_lora(m, o.lora_config, model::training_lora_dtype(m.dtype()));  // freezes the rest again
  auto enable = [&](torch::nn::Module& mod) {
    for (auto& p : mod.parameters()) {
      p.set_requires_grad(true);
      t.params.push_back(p);
    }
  };
  if (parts.count("vision")) enable(m.vision_encoder());
  if (parts.count("projector")) enable(m.projector());
  if (parts.count("language")) enable(*m.language_model);
  for (auto& p : t.params) {
    if (p.scalar_type() == torch::kBFloat16 || p.scalar_type() == torch::kFloat16) {
      auto master = p.detach().to(torch::kFloat32).set_requires_grad(true);
      t.masters.emplace_back(p, master);
      t.opt_params.push_back(master);
    } else {
      t.opt_params.push_back(p);
    }
  }
  if (!t.masters.empty())
    for (auto& item : m.named_parameters(true))
      for (auto& [p, master] : t.masters)
        if (p.is_same(item.value())) t.master_by_name[item.key()] = master;
  return t;
}

// AdamW with two parameter groups: weight matrices decay; biases, norms and embedding tables do not.
std::unique_ptr<torch::optim::AdamW> make_optimizer(model::VisionLanguageModelImpl& m, const Trainables& t,
                                                    const SftOptions& o) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& item : m.named_parameters(true)) {
    const auto& p = item.value();
    if (!p.requires_grad()) continue;
    const std::string& name = item.key();
    const bool table = name.find("embed_tokens") != std::string::npos ||
                       name.find("position_embedding") != std::string::npos ||
                       name.find("class_embedding") != std::string::npos;
    (p.dim() >= 2 && !table ? decay : no_decay).push_back(t.target_of(p));
  }
  if (decay.size() + no_decay.size() != t.opt_params.size())
    throw std::runtime_error("seva sft: internal error: trainable parameters not all named");
  auto adam = [&](double wd) {
    return torch::optim::AdamWOptions(o.loop.lr).weight_decay(wd).betas({0.9, o.adam_beta2}).eps(1e-8);
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(adam(o.weight_decay)));
  if (!no_decay.empty()) groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(adam(0.0)));
  return std::make_unique<torch::optim::AdamW>(groups, adam(o.weight_decay));
}

// The weights that train: an adapter (plus the non-LoRA trainables, LLaVA-style) or a full
// llava-hf checkpoint with the model's processor files; float32 masters beside them.
void write_weights(model::VisionLanguageModelImpl& m, const SftOptions& o, const std::set<std::string>& parts,
                   const std::string& dir) {
  if (o.lora) {
    model::save_adapter(m, o.lora_config, dir, o.model.model_dir);
    if (parts.empty()) return;
    std::vector<std::pair<std::string, torch::Tensor>> extra;
    for (auto& item : m.named_parameters(true))
      if ((parts.count("vision") && item.key().rfind(m.vision_prefix(), 0) == 0) ||
          (parts.count("projector") && item.key().rfind(m.projector_prefix(), 0) == 0))
        extra.emplace_back(item.key(), item.value().detach().cpu());
    io::save_safetensors(io::join_path(dir, "non_lora_trainables.safetensors"), extra);
    return;
  }
  model::save_model(m, dir);
  model::copy_processor_files(o.model.model_dir, dir);
}

void write_masters(const Trainables& t, const std::string& dir) {
  if (t.master_by_name.empty()) return;
  std::vector<std::pair<std::string, torch::Tensor>> ms;
  for (auto& [name, master] : t.master_by_name) ms.emplace_back(name, master.detach().cpu());
  io::save_safetensors(io::join_path(dir, "masters.safetensors"), ms);
}

// Restores what write_weights and write_masters wrote (exact with the masters).
void load_weights(model::VisionLanguageModelImpl& m, const SftOptions& o, Trainables& t, const std::string& dir) {
  torch::NoGradGuard ng;
  std::unique_ptr<io::SafetensorsFile> adapter, extra;
  std::unique_ptr<io::Checkpoint> full;
  if (o.lora) {
    adapter = std::make_unique<io::SafetensorsFile>(io::join_path(dir, "adapter_model.safetensors"));
    auto extra_path = io::join_path(dir, "non_lora_trainables.safetensors");
    if (io::file_exists(extra_path)) extra = std::make_unique<io::SafetensorsFile>(extra_path);
  } else {
    full = std::make_unique<io::Checkpoint>(dir);
  }
  for (auto& item : m.named_parameters(true)) {
    auto& p = item.value();
    if (!p.requires_grad()) continue;
    const auto& name = item.key();
    const auto key = m.checkpoint_key(name), peft = model::adapter_key(m, name);
    if (adapter && adapter->contains(peft)) p.copy_(adapter->get(peft, p.scalar_type()));
    else if (extra && extra->contains(name)) p.copy_(extra->get(name, p.scalar_type()));
    else if (full && full->contains(key)) p.copy_(full->get(key, p.scalar_type()));
    else throw std::runtime_error(dir + ": the checkpoint holds no weights for " + name);
  }
  if (t.master_by_name.empty()) return;
  io::SafetensorsFile mf(io::join_path(dir, "masters.safetensors"));
  for (auto& [name, master] : t.master_by_name) master.copy_(mf.get(name, torch::kFloat32));
  for (auto& [p, master] : t.masters) p.copy_(master);
}

// The examples of the run: every --data file's entries with an image, in order.
std::vector<SftExample> read_all_data(const SftOptions& o, bool quiet) {
  int64_t skipped = 0;
  std::vector<SftExample> data;
  for (const auto& f : o.data) {
    auto part = read_sft_data(f, &skipped);
    if (part.empty()) throw std::runtime_error(f + ": no entries with an image");
    data.insert(data.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  if (data.empty()) throw std::runtime_error("seva sft: no --data file given");
  if (!quiet && skipped > 0) std::cerr << "seva sft: skipped " << skipped << " text-only entries\n";
  return data;
}

// What an SFT checkpoint's meaning depends on, beyond the loop's own settings.
nlohmann::json sft_identity(const SftOptions& o, const std::vector<SftExample>& data) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : o.data) {
    const std::string bytes = io::read_file(f);
    files.push_back({{"fnv1a", fnv1a_hex(bytes)}, {"size", bytes.size()}});
  }
  return {{"trainer", "sft"},
          {"data", files},
          {"examples", data.size()},
          {"model", run_identity_of(model_identity(o.model))},
          {"adapter", o.model.adapter_dir},
          {"train", o.train},
          {"lora", o.lora ? o.lora_config.to_peft_json() : nlohmann::json(nullptr)},
          {"weight_decay", o.weight_decay},
          {"adam_beta2", o.adam_beta2}};
}

}  // namespace

int64_t train_sft(const SftOptions& o) {
  effective_micro_batch(o.loop.batch_size, o.loop.micro_batch_size);  // refused before loading
  const auto parts = full_parts(o);
  auto model_opts = training_model_options(o.model, o.bf16);
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  io::make_dir(o.loop.out);
  std::unique_ptr<io::DirLock> lock;  // one rank holds it for the job
  if (dist::is_main()) lock = std::make_unique<io::DirLock>(o.loop.out, "seva sft");
  auto vlm = generate::Vlm::load(model_opts);
  auto& m = *vlm.model;
  const auto data = read_all_data(o, o.loop.quiet || !dist::is_main());
  std::vector<SftTokens> tokens;
  for (const auto& e : data) tokens.push_back(tokenize_dialogue(vlm.tokenizer, vlm.chat, e));

  auto trainables = make_trainables(m, o, parts);
  m.train();
  m.language_model->model->gradient_checkpointing = o.gradient_checkpointing;
  auto opt = make_optimizer(m, trainables, o);
  ImageFeatures features(vlm, o.images, /*tower_trains=*/parts.count("vision") > 0);

  TrainerParts t;
  t.sum_count = 1;  // the summed log-probability of the answer tokens
  t.micro_step = [&](const std::vector<size_t>& items, const std::vector<size_t>& batch) {
    int64_t n_tokens = 0;  // the loss is the mean over the whole batch's answer tokens
    for (size_t i : batch) n_tokens += tokens[i].label_count();
    std::vector<SftTokens> ex;
    std::vector<std::string> images;
    for (size_t i : items) {
      ex.push_back(tokens[i]);
      images.push_back(data[i].image);
    }
    auto lp = sft_logps(m, ex, features(images)).sum();
    return MicroResult{-lp / static_cast<double>(n_tokens), {lp.item<double>()}};
  };
  t.describe = [&](const std::vector<size_t>& items) { return "entry " + data[items[0]].source; };
  t.before_reduce = [&] {
    for (auto& [p, master] : trainables.masters) {
      master.mutable_grad() = p.grad().defined() ? p.grad().to(torch::kFloat32) : torch::zeros_like(master);
      p.mutable_grad() = torch::Tensor();
    }
  };
  t.after_step = [&] {
    torch::NoGradGuard ng;
    for (auto& [p, master] : trainables.masters) p.copy_(master);
  };
  t.save_weights = [&](const std::string& dir) {
    write_weights(m, o, parts, dir);
    write_masters(trainables, dir);
  };
  t.load_weights = [&](const std::string& dir) { load_weights(m, o, trainables, dir); };
  auto n_tokens_of = [&](const StepReport& r) {
    int64_t n = 0;
    for (size_t i : *r.batch) n += tokens[i].label_count();
    return n;
  };
  t.row = [&](const StepReport& r) {
    const int64_t n = n_tokens_of(r);
    return nlohmann::json{{"step", r.step},         {"loss", -r.sums[0] / static_cast<double>(n)},
                          {"lr", r.lr},             {"grad_norm", r.grad_norm},
                          {"tokens", n},            {"tokens_per_s", n / r.seconds},
                          {"examples_per_s", static_cast<double>(r.batch->size()) / r.seconds}};
  };
  t.line = [&](const StepReport& r) {
    const int64_t n = n_tokens_of(r);
    char buf[160];
    std::snprintf(buf, sizeof buf, "step %lld/%lld loss %.4f lr %.3g %.1f tokens/s", static_cast<long long>(r.step),
                  static_cast<long long>(r.total_steps), -r.sums[0] / static_cast<double>(n), r.lr, n / r.seconds);
    return std::string(buf);
  };
  t.identity = sft_identity(o, data);
  t.final_dir = o.lora ? "adapter" : "model";
  return run_training(o.loop, data.size(), t, *opt, trainables.opt_params);
}

}  // namespace seva::train
