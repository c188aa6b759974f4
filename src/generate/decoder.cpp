#include "generate/decoder.h"

#include "model/attention.h"
#include "model/vlm_model.h"
#include "util/cuda_build.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#if SEVA_CUDA_BUILD
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <stdexcept>

namespace seva::generate {

DecodeMode parse_decode_mode(const std::string& name) {
  if (name == "dynamic") return DecodeMode::Dynamic;
  if (name == "static") return DecodeMode::Static;
  if (name == "cuda-graph") return DecodeMode::CudaGraph;
  throw std::invalid_argument("unknown decode mode '" + name + "' (dynamic, static or cuda-graph)");
}

const char* decode_mode_name(DecodeMode mode) {
  switch (mode) {
    case DecodeMode::Static: return "static";
    case DecodeMode::CudaGraph: return "cuda-graph";
    default: return "dynamic";
  }
}

bool cuda_graphs_built() { return SEVA_CUDA_BUILD; }

namespace {

torch::Tensor device_rows(const std::vector<int64_t>& rows, torch::Device device) {
  return torch::tensor(rows, torch::kInt64).to(device);
}

// Finished rows leave the batch (and the cache) at once; the attention spans the filled cache.
class DynamicDecoder : public Decoder {
 public:
  DynamicDecoder(model::LlamaForCausalLMImpl& lm, DecodeStart s)
      : lm_(lm), cache_(std::move(s.cache)), key_mask_(s.key_mask), next_pos_(s.next_pos) {
    for (int64_t b = 0; b < key_mask_.size(0); ++b) rows_.push_back(b);
  }

  torch::Tensor step(const std::vector<int64_t>& rows, const std::vector<int64_t>& tokens) override {
    const auto device = next_pos_.device();
    if (rows != rows_) keep_only(rows, device);
    auto embeds = lm_.model->embed_tokens(torch::tensor(tokens, torch::kInt64).to(device)).unsqueeze(1);  // (b, 1, C)
    key_mask_ = torch::cat({key_mask_, torch::ones({key_mask_.size(0), 1}, key_mask_.options())}, 1);
    auto bias = model::causal_bias(key_mask_, 1, embeds.scalar_type());
    auto hidden = lm_.model->forward(embeds, next_pos_.unsqueeze(1), bias, &cache_);
    cache_.length += 1;
    next_pos_ = next_pos_ + 1;
    return lm_.logits(hidden.select(1, 0)).to(torch::kFloat32);
  }

 private:
  // Both lists are increasing, and `rows` is a subset of rows_.
  void keep_only(const std::vector<int64_t>& rows, torch::Device device) {
    std::vector<int64_t> at;
    for (size_t i = 0, j = 0; i < rows.size(); ++i) {
      while (j < rows_.size() && rows_[j] != rows[i]) ++j;
      if (j == rows_.size()) throw std::invalid_argument("decode step: a row that left the batch came back");
      at.push_back(static_cast<int64_t>(j));
    }
    auto idx = device_rows(at, device);
    cache_.select_rows(idx);
    key_mask_ = key_mask_.index_select(0, idx);
    next_pos_ = next_pos_.index_select(0, idx);
    rows_ = rows;
  }

  model::LlamaForCausalLMImpl& lm_;
  model::KvCache cache_;
  torch::Tensor key_mask_, next_pos_;
  std::vector<int64_t> rows_;  // the batch rows in the cache, in order
};

// Every tensor keeps its shape and address from step to step, and the step reads everything it
// needs from device memory, so that it can be captured as a CUDA graph.
class StaticDecoder : public Decoder {
 public:
  StaticDecoder(model::LlamaForCausalLMImpl& lm, DecodeStart s, bool graph)
      : lm_(lm), cache_(std::move(s.cache)), graph_(graph) {
    const int64_t B = s.key_mask.size(0), T = cache_.length, capacity = cache_.capacity();
    const auto device = s.next_pos.device();
    const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    steps_left_ = capacity - T;
    key_mask_ = torch::zeros({B, capacity}, s.key_mask.options());
    key_mask_.narrow(1, 0, T).copy_(s.key_mask);
    cache_.write_index = torch::full({1}, T, i64);
    pos_ = s.next_pos.clone();
    ids_ = torch::zeros({B}, i64);
    last_ids_.assign(B, 0);
    // cos/sin for every position the steps reach, made by the model's own rotary code.
    const int64_t positions = s.next_pos.max().item<int64_t>() + steps_left_ + 1;
    rope_table_ = lm_.model->rotary.at(torch::arange(positions, i64).view({1, positions}), cache_.k.at(0).scalar_type());
  }

  torch::Tensor step(const std::vector<int64_t>& rows, const std::vector<int64_t>& tokens) override {
    if (steps_left_-- <= 0) throw std::runtime_error("decode step: the KV cache is full");
    for (size_t i = 0; i < rows.size(); ++i) last_ids_.at(rows[i]) = tokens[i];  // finished rows repeat theirs
    ids_.copy_(torch::tensor(last_ids_, torch::kInt64));
    auto logits = graph_ ? run_graphed() : run();
    if (static_cast<int64_t>(rows.size()) == ids_.size(0)) return logits;
    return logits.index_select(0, device_rows(rows, ids_.device()));
  }

 private:
  // The step itself: device tensors in, device tensors out, no host synchronisation.
  torch::Tensor run() {
    const int64_t B = ids_.size(0), capacity = key_mask_.size(1);
    auto embeds = lm_.model->embed_tokens(ids_).unsqueeze(1);  // (B, 1, C)
    key_mask_.index_fill_(1, cache_.write_index, true);
    auto bias = torch::zeros({B, 1, 1, capacity}, embeds.options())
                    .masked_fill_(key_mask_.logical_not().view({B, 1, 1, capacity}), model::mask_value(embeds.scalar_type()));
    model::Rope rope{rope_table_.cos.select(0, 0).index_select(0, pos_).unsqueeze(1),
                     rope_table_.sin.select(0, 0).index_select(0, pos_).unsqueeze(1)};  // (B, 1, D)
    auto hidden = lm_.model->forward(embeds, rope, bias, &cache_);
    cache_.write_index.add_(1);
    pos_.add_(1);
    return lm_.logits(hidden.select(1, 0)).to(torch::kFloat32);
  }

#if SEVA_CUDA_BUILD
  // Step 1 runs eagerly on a side stream (it warms up the libraries' lazy state, as capture
  // needs); step 2 is captured on that stream and every step from there replays it. Capture only
  // records, so the replay right after it runs step 2.
  torch::Tensor run_graphed() {
    if (captures_ < 2) {
      const auto index = ids_.device().index();
      torch::cuda::synchronize(index);
      auto side = c10::cuda::getStreamFromPool(false, index);
      {
        c10::cuda::CUDAStreamGuard guard(side);
        if (captures_ == 0) {
          out_ = run();
        } else {
          out_ = torch::Tensor();  // nothing made before the capture is freed during it
          graph_exec_ = std::make_unique<at::cuda::CUDAGraph>();
          graph_exec_->capture_begin();
          out_ = run();
          graph_exec_->capture_end();
        }
      }
      side.synchronize();
      if (captures_++ == 0) return out_;
    }
    graph_exec_->replay();
    return out_;
  }
  std::unique_ptr<at::cuda::CUDAGraph> graph_exec_;
  int captures_ = 0;
  torch::Tensor out_;  // the captured step's logits, rewritten by every replay
#else
  torch::Tensor run_graphed() { throw std::runtime_error("--decode cuda-graph: this build has no CUDA"); }
#endif

  model::LlamaForCausalLMImpl& lm_;
  model::KvCache cache_;
  bool graph_;
  int64_t steps_left_ = 0;
  torch::Tensor key_mask_;  // (B, capacity) bool: the keys each row may attend to
  torch::Tensor pos_, ids_;  // (B,) int64: each row's position and token this step
  std::vector<int64_t> last_ids_;
  model::Rope rope_table_;  // (1, positions, D)
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(model::LlamaForCausalLMImpl& lm, DecodeStart start, DecodeMode mode) {
  if (mode == DecodeMode::Dynamic) return std::make_unique<DynamicDecoder>(lm, std::move(start));
  if (mode == DecodeMode::CudaGraph) {
    if (!cuda_graphs_built()) throw std::runtime_error("--decode cuda-graph: this build's libtorch has no CUDA");
    if (!start.next_pos.device().is_cuda()) throw std::runtime_error("--decode cuda-graph needs --device cuda");
  }
  return std::make_unique<StaticDecoder>(lm, std::move(start), mode == DecodeMode::CudaGraph);
}

}  // namespace seva::generate
