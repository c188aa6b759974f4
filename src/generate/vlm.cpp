#include "generate/vlm.h"

#include "io/files.h"
#include "model/checkpoint.h"
#include "model/generation_config.h"
#include "model/lora.h"
#include "text/conversation.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace seva::generate {

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw std::runtime_error("--device " + name + ": this build of libtorch sees no CUDA device");
    return torch::Device(name);
  }
  throw std::runtime_error("--device '" + name + "' is not valid (cpu, cuda, cuda:N)");
}

torch::ScalarType parse_dtype(const std::string& name, torch::Device device) {
  if (name == "auto") return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  if (name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "float16" || name == "fp16") return torch::kFloat16;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  throw std::runtime_error("--dtype '" + name + "' is not valid (auto, float32, float16, bfloat16)");
}

void set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
}

namespace {

// The processor for the model: DIR/preprocessor_config.json, or the family's defaults; checked
// against what the vision encoder accepts.
image::PreprocessConfig image_processor(const model::VisionLanguageModelImpl& m, const std::string& dir) {
  auto pp = io::join_path(dir, "preprocessor_config.json");
  image::PreprocessConfig c;
  const int64_t side = m.fixed_image_size();
  if (io::file_exists(pp)) {
    c = image::PreprocessConfig::from_file(pp);
  } else if (side > 0) {  // CLIP's defaults at the tower's own resolution
    c.shortest_edge = c.crop_height = c.crop_width = static_cast<int>(side);
  } else {
    c.do_center_crop = false;
    c.resize_factor = static_cast<int>(m.image_size_multiple());
  }
  if (side > 0 && (c.resize_factor > 0 || c.crop_height != side || c.crop_width != side))
    throw std::runtime_error(pp + ": crop size " + std::to_string(c.crop_width) + "x" + std::to_string(c.crop_height) +
                             " does not match the vision tower's " + std::to_string(side) + " px");
  if (side == 0 && (c.resize_factor <= 0 || c.resize_factor % m.image_size_multiple() != 0))
    throw std::runtime_error(pp + ": patch_size x merge_size " + std::to_string(c.resize_factor) +
                             " is not a multiple of the vision encoder's " + std::to_string(m.image_size_multiple()));
  return c;
}

}  // namespace

Vlm Vlm::load(const ModelOptions& opts) {
  if (opts.model_dir.empty()) throw std::runtime_error("no --model directory given");
  set_threads(opts.threads);
  Vlm v;
  v.model_dir = opts.model_dir;
  auto device = parse_device(opts.device);
  model::LoadOptions lo;
  lo.device = device;
  lo.dtype = parse_dtype(opts.dtype, device);
  v.model = model::load_model(opts.model_dir, lo);
  if (!opts.adapter_dir.empty()) model::load_adapter(*v.model, opts.adapter_dir);
  v.tokenizer = text::Tokenizer::load(opts.model_dir);
  v.chat = text::ChatTemplate::from_model_dir(opts.model_dir, v.model->chat_format() == "chatml"
                                                                  ? text::ChatTemplate::Format::ChatML
                                                                  : text::ChatTemplate::Format::LlavaV1);
  v.preprocess = image_processor(*v.model, opts.model_dir);
  const auto image_token = v.model->image_token();
  if (v.tokenizer.token_to_id(image_token) != v.model->image_token_id())
    throw std::runtime_error(opts.model_dir + ": the tokenizer's " + image_token + " id (" +
                             std::to_string(v.tokenizer.token_to_id(image_token)) +
                             ") differs from config.json's image token id (" +
                             std::to_string(v.model->image_token_id()) + ")");
  v.aspect = image::parse_image_aspect(opts.image_aspect == "auto" ? v.model->default_image_aspect() : opts.image_aspect);
  const int64_t end = v.chat.format == text::ChatTemplate::Format::ChatML ? v.tokenizer.token_to_id(v.chat.answer_end_token())
                                                                          : v.tokenizer.eos_id();
  if (end < 0) throw std::runtime_error(opts.model_dir + ": the tokenizer has no " + v.chat.answer_end_token() + " token");
  v.end_tokens = {end};
  for (int64_t id : model::read_generation_eos_ids(opts.model_dir))
    if (std::find(v.end_tokens.begin(), v.end_tokens.end(), id) == v.end_tokens.end()) v.end_tokens.push_back(id);
  return v;
}

torch::Tensor Vlm::pixels(const std::string& image_path) const {
  return image::preprocess_file(image_path, preprocess, aspect);
}

std::vector<Answer> Vlm::answer(const std::vector<Query>& queries, const SamplingOptions& opts) {
  std::vector<std::string> prompts;
  std::vector<torch::Tensor> px;
  for (const auto& q : queries) {
    prompts.push_back(q.prompt);
    px.push_back(pixels(q.image));
  }
  return answer_pixels(prompts, px, opts);
}

std::vector<Answer> Vlm::answer_pixels(const std::vector<std::string>& prompts, const std::vector<torch::Tensor>& images,
                                       const SamplingOptions& opts, const std::vector<uint64_t>& row_seeds) {
  std::vector<std::vector<int64_t>> ids;
  const auto marker = chat.image_marker();
  for (const auto& p : prompts) {
    if (p.find(marker) == std::string::npos)
      throw std::runtime_error("prompt has no " + marker + " marker: \"" + p.substr(0, 80) + "\"");
    ids.push_back(tokenizer.encode(p));
  }
  DecodeFn decode = [this](const std::vector<int64_t>& t) { return tokenizer.decode(t, true); };
  auto gen = generate(*model, ids, images, opts, end_tokens, decode, row_seeds);
  std::vector<Answer> out;
  for (auto& g : gen) {
    Answer a;
    a.text = answer_text(g, opts);
    a.tokens = g.tokens;
    a.finish_reason = g.finish_reason;
    out.push_back(std::move(a));
  }
  return out;
}

std::string Vlm::answer_text(const Generated& g, const SamplingOptions& opts) const {
  std::vector<int64_t> body = g.tokens;
  if (g.finish_reason == "eos" && !body.empty()) body.pop_back();
  std::string text = tokenizer.decode(body, true);
  if (g.finish_reason == "stop") {
    size_t cut = std::string::npos;
    for (const auto& s : opts.stop_strings) cut = std::min(cut, text.find(s));
    if (cut != std::string::npos) text.resize(cut);
  }
  return text::strip_answer(text);
}

}  // namespace seva::generate
