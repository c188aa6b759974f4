#include "train/sft.h"

#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "text/conversation.h"
#include "train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <sys/stat.h>

namespace seva::train {
namespace {

using io::make_dir;
using io::remove_tree;

std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// LLaVA's preprocess_multimodal: the marker is removed and put first, "<image>\nQ".
std::string image_first(const std::string& q) {
  std::string s = q;
  for (size_t at; (at = s.find("<image>")) != std::string::npos;) s.erase(at, 7);
  return "<image>\n" + strip(s);
}

std::string text_field(const nlohmann::json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a string");
  return it->get<std::string>();
}

// Returns false for a text-only entry (skipped).
bool parse_entry(const nlohmann::json& e, const std::string& where, SftExample& ex) {
  if (!e.is_object()) throw std::runtime_error(where + ": an entry must be a JSON object");
  ex.source = where;
  auto id = e.find("id");
  ex.id = id == e.end() ? "" : id->is_string() ? id->get<std::string>() : id->dump();
  auto img = e.find("image");
  if (img == e.end() || img->is_null()) return false;
  if (!img->is_string()) throw std::runtime_error(where + ": field 'image' must be a string");
  ex.image = img->get<std::string>();
  auto conv = e.find("conversations");
  if (conv == e.end() || !conv->is_array() || conv->empty())
    throw std::runtime_error(where + ": field 'conversations' must be a non-empty list");
  if (conv->size() % 2 != 0)
    throw std::runtime_error(where + ": 'conversations' must alternate human and gpt turns (odd count)");
  for (size_t t = 0; t < conv->size(); t += 2) {
    const auto& h = (*conv)[t];
    const auto& g = (*conv)[t + 1];
    std::string tw = where + ": turn " + std::to_string(t);
    if (!h.is_object() || !g.is_object()) throw std::runtime_error(tw + ": a turn must be a JSON object");
    if (text_field(h, "from", tw) != "human")
      throw std::runtime_error(tw + ": expected a 'human' turn");
    std::string gw = where + ": turn " + std::to_string(t + 1);
    if (text_field(g, "from", gw) != "gpt") throw std::runtime_error(gw + ": expected a 'gpt' turn");
    std::string q = text_field(h, "value", tw);
    if (t == 0) q = image_first(q);
    else if (q.find("<image>") != std::string::npos)
      throw std::runtime_error(tw + ": only the first question may hold <image>");
    ex.turns.emplace_back(q, text_field(g, "value", gw));
  }
  return true;
}

bool starts_with(const std::vector<int64_t>& whole, const std::vector<int64_t>& prefix) {
  return prefix.size() <= whole.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

// Restores the trained weights of a checkpoint written by train_sft's save: the adapter, the
// non-LoRA trainables or the full model, and the float32 masters when there are any (exact).
int64_t resume_from(const std::string& ckpt, model::LlavaForConditionalGenerationImpl& m, bool lora,
                    std::map<std::string, torch::Tensor>& masters) {
  auto state = io::read_json(io::join_path(ckpt, "state.json"));
  torch::NoGradGuard ng;
  std::unique_ptr<io::SafetensorsFile> adapter, extra;
  std::unique_ptr<io::Checkpoint> full;
  if (lora) {
    adapter = std::make_unique<io::SafetensorsFile>(io::join_path(ckpt, "adapter_model.safetensors"));
    auto extra_path = io::join_path(ckpt, "non_lora_trainables.safetensors");
    if (io::file_exists(extra_path)) extra = std::make_unique<io::SafetensorsFile>(extra_path);
  } else {
    full = std::make_unique<io::Checkpoint>(ckpt);
  }
  for (auto& item : m.named_parameters(true)) {
    auto& p = item.value();
    if (!p.requires_grad()) continue;
    const auto& name = item.key();
    torch::Tensor t;
    if (adapter && adapter->contains("base_model.model." + name)) t = adapter->get("base_model.model." + name, p.scalar_type());
    else if (extra && extra->contains(name)) t = extra->get(name, p.scalar_type());
    else if (full && full->contains(name)) t = full->get(name, p.scalar_type());
    else throw std::runtime_error(ckpt + ": the checkpoint holds no weights for " + name);
    p.copy_(t);
  }
  if (!masters.empty()) {
    io::SafetensorsFile mf(io::join_path(ckpt, "masters.safetensors"));
    for (auto& [name, master] : masters) {
      master.copy_(mf.get(name, torch::kFloat32));
      for (auto& item : m.named_parameters(true))
        if (item.key() == name) item.value().copy_(master);
    }
  }
  return state.at("step").get<int64_t>();
}

}  // namespace

int64_t SftTokens::label_count() const { return std::count(labels.begin(), labels.end(), true); }

std::vector<SftExample> read_sft_data(const std::string& path, int64_t* skipped) {
  std::vector<SftExample> out;
  int64_t skip = 0;
  auto take = [&](const nlohmann::json& e, const std::string& where) {
    SftExample ex;
    if (parse_entry(e, where, ex)) out.push_back(std::move(ex));
    else ++skip;
  };
  std::string text = io::read_file(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json all;
    try {
      all = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": malformed JSON: " + e.what());
    }
    for (size_t i = 0; i < all.size(); ++i) {
      std::string where = path + ": entry " + std::to_string(i);
      if (all[i].is_object() && all[i].contains("id") && all[i]["id"].is_string())
        where += " (id " + all[i]["id"].get<std::string>() + ")";
      take(all[i], where);
    }
  } else {
    io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) { take(row, path + ":" + std::to_string(line)); });
  }
  if (skipped) *skipped = skip;
  return out;
}

std::string sft_conversation_text(const SftExample& ex) {
  std::string s = text::conversation_prefix();
  for (const auto& [q, a] : ex.turns) s += "USER: " + q + " ASSISTANT: " + a + "</s>";
  return s;
}

SftTokens tokenize_dialogue(const text::Tokenizer& tok, const SftExample& ex) {
  SftTokens out;
  std::string text = text::conversation_prefix();
  std::vector<std::pair<std::string, std::string>> spans;  // (text before answer, text through its </s>)
  for (const auto& [q, a] : ex.turns) {
    text += "USER: " + q + " ASSISTANT:";
    std::string before = text;
    text += " " + a + "</s>";
    spans.emplace_back(before, text);
  }
  out.ids = tok.encode(text);
  out.labels.assign(out.ids.size(), false);
  for (const auto& [before, through] : spans) {
    auto b = tok.encode(before), t = tok.encode(through);
    if (!starts_with(out.ids, b) || !starts_with(out.ids, t) || t.size() <= b.size())
      throw std::runtime_error(ex.source + ": the dialogue's tokens do not split at an answer boundary");
    if (t.back() != tok.eos_id())
      throw std::runtime_error(ex.source + ": the tokenizer does not read </s> as its EOS token");
    for (size_t j = b.size(); j < t.size(); ++j) out.labels[j] = true;
  }
  int64_t images = std::count(out.ids.begin(), out.ids.end(), tok.image_token_id());
  if (images != 1) throw std::runtime_error(ex.source + ": the dialogue must hold exactly one <image> token");
  return out;
}

torch::Tensor sft_logps(model::LlavaForConditionalGenerationImpl& model, const std::vector<SftTokens>& examples,
                        const torch::Tensor& image_features) {
  std::vector<std::vector<int64_t>> ids;
  for (const auto& e : examples) ids.push_back(e.ids);
  auto batch = model::merge_prompts(model, ids, image_features, model::Padding::Right);
  const int64_t B = batch.embeds.size(0), T = batch.embeds.size(1), C = batch.embeds.size(2);
  auto device = model.device();
  auto bias = model::causal_bias(batch.mask, T, model.dtype());
  auto hidden = model.language_model->model->forward(batch.embeds, batch.positions, bias);
  std::vector<int64_t> from, target, owner;
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = examples[static_cast<size_t>(b)];
    // The <image> token became P embeddings: later tokens shift by the difference in length.
    const int64_t shift = batch.lengths[b] - static_cast<int64_t>(e.ids.size());
    size_t img = std::find(e.ids.begin(), e.ids.end(), model.cfg.image_token_index) - e.ids.begin();
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

int64_t train_sft(const SftOptions& o) {
  if (o.micro_batch_size < 1 || o.batch_size % o.micro_batch_size != 0)
    throw std::runtime_error("--batch-size must be a multiple of --micro-batch-size");
  std::set<std::string> parts;
  for (const auto& p : o.train) {
    if (p != "vision" && p != "projector" && p != "language")
      throw std::runtime_error("--train: unknown part '" + p + "' (vision, projector, language)");
    parts.insert(p);
  }
  if (o.lora) parts.erase("language");
  if (parts.empty() && !o.lora) throw std::runtime_error("--train names no part to train");
  auto model_opts = training_model_options(o.model, o.bf16);
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  const bool main_rank = dist::is_main(), quiet = o.quiet || !main_rank;
  make_dir(o.out);
  auto vlm = generate::Vlm::load(model_opts);
  auto& m = *vlm.model;
  int64_t skipped = 0;
  std::vector<SftExample> data;
  for (const auto& f : o.data) {
    auto part = read_sft_data(f, &skipped);
    if (part.empty()) throw std::runtime_error(f + ": no entries with an image");
    data.insert(data.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  if (data.empty()) throw std::runtime_error("seva sft: no --data file given");
  if (!quiet && skipped > 0) std::cerr << "seva sft: skipped " << skipped << " text-only entries\n";
  std::vector<SftTokens> tokens;
  for (const auto& e : data) tokens.push_back(tokenize_dialogue(vlm.tokenizer, e));

  // Trainable parameters: everything frozen, then the chosen parts (LoRA adapters on the language model).
  for (auto& p : m.parameters()) p.set_requires_grad(false);
  torch::manual_seed(o.seed);
  std::vector<torch::Tensor> params;
  if (o.lora) params = model::add_lora(m, o.lora_config, model::training_lora_dtype(m.dtype()));  // freezes the rest again
  auto enable = [&](torch::nn::Module& mod) {
    for (auto& p : mod.parameters()) {
      p.set_requires_grad(true);
      params.push_back(p);
    }
  };
  if (parts.count("vision")) enable(*m.vision_tower);
  if (parts.count("projector")) enable(*m.multi_modal_projector);
  if (parts.count("language")) enable(*m.language_model);
  const bool image_grad = parts.count("vision") || parts.count("projector") || (o.lora && o.lora_config.targets_projector());
  m.train();
  m.language_model->model->gradient_checkpointing = o.gradient_checkpointing;
  // Mixed precision: a fully trained bfloat16/float16 parameter gets a float32 master copy that
  // AdamW updates; the model's copy is refreshed from it after each step.
  std::vector<torch::Tensor> opt_params;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> masters;  // (model parameter, float32 master)
  for (auto& p : params) {
    if (p.scalar_type() == torch::kBFloat16 || p.scalar_type() == torch::kFloat16) {
      auto master = p.detach().to(torch::kFloat32).set_requires_grad(true);
      masters.emplace_back(p, master);
      opt_params.push_back(master);
    } else {
      opt_params.push_back(p);
    }
  }
  std::map<std::string, torch::Tensor> master_by_name;
  if (!masters.empty())
    for (auto& item : m.named_parameters(true))
      for (auto& [p, master] : masters)
        if (p.is_same(item.value())) master_by_name[item.key()] = master;
  // Two parameter groups: weight matrices decay; biases, norms and embedding tables do not.
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& item : m.named_parameters(true)) {
    const auto& p = item.value();
    if (!p.requires_grad()) continue;
    torch::Tensor target = p;
    for (auto& [model_p, master] : masters)
      if (model_p.is_same(p)) target = master;
    const std::string& name = item.key();
    const bool table = name.find("embed_tokens") != std::string::npos ||
                       name.find("position_embedding") != std::string::npos ||
                       name.find("class_embedding") != std::string::npos;
    (p.dim() >= 2 && !table ? decay : no_decay).push_back(target);
  }
  if (decay.size() + no_decay.size() != opt_params.size())
    throw std::runtime_error("seva sft: internal error: trainable parameters not all named");
  auto adam = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(o.lr).weight_decay(wd).betas({0.9, o.adam_beta2}).eps(1e-8));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, adam(o.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, adam(0.0));
  torch::optim::AdamW opt(groups, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay).betas({0.9, o.adam_beta2}).eps(1e-8));

  // Features are cached (computed once per image) only when nothing before the language model
  // trains and the data set is small; otherwise they are computed each step.
  std::set<std::string> distinct;
  for (const auto& e : data) distinct.insert(e.image);
  const bool cache = !image_grad && distinct.size() <= 4096;
  std::map<std::string, torch::Tensor> features;
  auto features_of = [&](const std::vector<size_t>& idx) {
    std::vector<torch::Tensor> px;
    std::vector<size_t> todo;
    for (auto i : idx)
      if (!cache || !features.count(data[i].image)) {
        px.push_back(vlm.pixels(io::join_path(o.images, data[i].image)));
        todo.push_back(i);
      }
    if (image_grad) return m.image_features(torch::stack(px));
    torch::Tensor f;
    if (!px.empty()) {
      torch::NoGradGuard ng;
      f = m.image_features(torch::stack(px));
    }
    if (!cache) return f;
    for (size_t k = 0; k < todo.size(); ++k) features[data[todo[k]].image] = f[static_cast<int64_t>(k)];
    std::vector<torch::Tensor> out;
    for (auto i : idx) out.push_back(features[data[i].image]);
    return torch::stack(out);
  };

  std::vector<size_t> order;
  for (int64_t e = 0; e < o.epochs; ++e) {
    std::vector<size_t> ep(data.size());
    for (size_t i = 0; i < ep.size(); ++i) ep[i] = i;
    std::mt19937_64 rng(o.seed * 1000003ull + static_cast<uint64_t>(e));
    std::shuffle(ep.begin(), ep.end(), rng);
    order.insert(order.end(), ep.begin(), ep.end());
  }
  const int64_t total_steps = static_cast<int64_t>((order.size() + o.batch_size - 1) / o.batch_size);
  const int64_t warmup = o.warmup_steps >= 0 ? o.warmup_steps : static_cast<int64_t>(std::ceil(o.warmup_ratio * total_steps));
  const int64_t last_step = o.max_steps > 0 ? std::min(o.max_steps, total_steps) : total_steps;

  auto copy_processor_files = [&](const std::string& dir) {
    for (const char* f : {"tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                          "preprocessor_config.json", "generation_config.json", "tokenizer.json", "chat_template.json", "seva.json",
                          "processor_config.json"}) {
      auto src = io::join_path(o.model.model_dir, f);
      if (io::file_exists(src)) io::write_file_atomic(io::join_path(dir, f), io::read_file(src));
    }
  };
  // The weights that train: an adapter (plus the non-LoRA trainables LLaVA-style) or a full checkpoint.
  auto write_weights = [&](const std::string& dir) {
    if (o.lora) {
      model::save_adapter(m, o.lora_config, dir, o.model.model_dir);
      if (!parts.empty()) {
        std::vector<std::pair<std::string, torch::Tensor>> extra;
        for (auto& item : m.named_parameters(true))
          if ((parts.count("vision") && item.key().rfind("vision_tower.", 0) == 0) ||
              (parts.count("projector") && item.key().rfind("multi_modal_projector.", 0) == 0))
            extra.emplace_back(item.key(), item.value().detach().cpu());
        io::save_safetensors(io::join_path(dir, "non_lora_trainables.safetensors"), extra);
      }
    } else {
      model::save_llava(m, dir);
      copy_processor_files(dir);
    }
  };
  std::string ckpt = io::join_path(o.out, "checkpoint");
  auto save = [&](int64_t at_step) {
    std::string tmp = ckpt + ".tmp";
    remove_tree(tmp);
    make_dir(tmp);
    write_weights(tmp);
    torch::save(opt, io::join_path(tmp, "optimizer.pt"));
    if (!master_by_name.empty()) {
      std::vector<std::pair<std::string, torch::Tensor>> ms;
      for (auto& [name, t] : master_by_name) ms.emplace_back(name, t.detach().cpu());
      io::save_safetensors(io::join_path(tmp, "masters.safetensors"), ms);
    }
    io::write_file_atomic(io::join_path(tmp, "state.json"),
                          nlohmann::json{{"step", at_step}, {"total_steps", total_steps}, {"seed", o.seed}}.dump() + "\n");
    remove_tree(ckpt);
    if (std::rename(tmp.c_str(), ckpt.c_str()) != 0) throw std::runtime_error("cannot move " + tmp + " to " + ckpt);
  };

  int64_t step = 0;
  if (o.resume && io::file_exists(io::join_path(ckpt, "state.json"))) {
    step = resume_from(ckpt, m, o.lora, master_by_name);
    torch::load(opt, io::join_path(ckpt, "optimizer.pt"));
    if (!quiet) std::cerr << "resuming " << o.out << " at step " << step << "\n";
  }
  std::unique_ptr<io::JsonlWriter> metrics;
  if (main_rank) {
    keep_metrics_until(io::join_path(o.out, "metrics.jsonl"), step);
    metrics = std::make_unique<io::JsonlWriter>(io::join_path(o.out, "metrics.jsonl"), true);
  }
  auto t0 = std::chrono::steady_clock::now();
  for (; step < last_step; ++step) {
    double lr = cosine_lr(o.lr, step, total_steps, warmup, o.min_lr_ratio);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    opt.zero_grad();
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    size_t begin = static_cast<size_t>(step * o.batch_size), end = std::min(order.size(), begin + static_cast<size_t>(o.batch_size));
    int64_t n_tokens = 0;
    for (size_t j = begin; j < end; ++j) n_tokens += tokens[order[j]].label_count();
    double logp_sum = 0;
    int64_t micro = 0;
    for (size_t mb = begin; mb < end; mb += static_cast<size_t>(o.micro_batch_size), ++micro) {
      if (!dist::mine(static_cast<size_t>(micro))) continue;  // data parallel: micro-batch k on rank k % world
      torch::manual_seed(micro_batch_seed(o.seed, step, micro));
      std::vector<size_t> idx;
      std::vector<SftTokens> ex;
      for (size_t j = mb; j < std::min(end, mb + static_cast<size_t>(o.micro_batch_size)); ++j) {
        idx.push_back(order[j]);
        ex.push_back(tokens[order[j]]);
      }
      auto lp = sft_logps(m, ex, features_of(idx)).sum();
      double v = lp.item<double>();
      if (!std::isfinite(v))
        throw std::runtime_error("non-finite loss at step " + std::to_string(step) + " (entry " + data[idx[0]].source +
                                 "); the last good checkpoint is in " + ckpt);
      (-lp / static_cast<double>(n_tokens)).backward();  // mean over the batch's answer tokens
      logp_sum += v;
    }
    for (auto& [p, master] : masters)
      master.mutable_grad() = p.grad().defined() ? p.grad().to(torch::kFloat32) : torch::zeros_like(master);
    // The sum over ranks of their micro-batches' gradients is the one-process gradient.
    dist::all_reduce_grads(opt_params);
    if (dist::active()) {
      auto sum = torch::tensor({logp_sum}, torch::kFloat64);
      dist::all_reduce_sum({sum});
      logp_sum = sum.item<double>();
    }
    double grad_norm = torch::nn::utils::clip_grad_norm_(opt_params, o.max_grad_norm);
    opt.step();
    if (!masters.empty()) {
      torch::NoGradGuard ng;
      for (auto& [p, master] : masters) p.copy_(master);
    }
    double secs = std::max(1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    double loss = -logp_sum / static_cast<double>(n_tokens);
    nlohmann::json row = {{"step", step + 1}, {"loss", loss}, {"lr", lr}, {"grad_norm", grad_norm},
                          {"tokens", n_tokens}, {"tokens_per_s", n_tokens / secs},
                          {"examples_per_s", static_cast<double>(end - begin) / secs}};
    t0 = std::chrono::steady_clock::now();
    if (metrics) metrics->write(row);
    if (!quiet)
      std::fprintf(stderr, "step %lld/%lld loss %.4f lr %.3g %.1f tokens/s\n", static_cast<long long>(step + 1),
                   static_cast<long long>(total_steps), loss, lr, n_tokens / secs);
    if (main_rank && o.save_every > 0 && (step + 1) % o.save_every == 0 && step + 1 < last_step) save(step + 1);
  }
  if (main_rank) {
    save(step);
    std::string final_dir = io::join_path(o.out, o.lora ? "adapter" : "model");
    std::string tmp = final_dir + ".tmp";
    remove_tree(tmp);
    make_dir(tmp);
    write_weights(tmp);
    remove_tree(final_dir);
    if (std::rename(tmp.c_str(), final_dir.c_str()) != 0) throw std::runtime_error("cannot move " + tmp + " to " + final_dir);
  }
  dist::barrier();  // the run's files are complete when any rank returns
  return step;
}

}  // namespace seva::train
