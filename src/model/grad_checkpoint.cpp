#include "model/grad_checkpoint.h"

#include <ATen/Context.h>
#include <torch/autograd.h>
#include <torch/torch.h>

#include <mutex>

namespace seva::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The states of the default generators a layer may draw from: CPU always, plus x's device.
struct RngStates {
  torch::Device device{torch::kCPU};
  torch::Tensor cpu, dev;  // dev undefined for CPU tensors

  static at::Generator generator(const torch::Device& d) { return at::globalContext().defaultGenerator(d); }
  static torch::Tensor get(at::Generator g) {
    std::lock_guard<std::mutex> lock(g.mutex());
    return g.get_state();
  }
  static void set(at::Generator g, const torch::Tensor& state) {
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(state);
  }
  static RngStates capture(const torch::Device& device) {
    RngStates s;
    s.device = device;
    s.cpu = get(generator(torch::Device(torch::kCPU)));
    if (!device.is_cpu()) s.dev = get(generator(device));
    return s;
  }
  void restore() const {
    set(generator(torch::Device(torch::kCPU)), cpu);
    if (dev.defined()) set(generator(device), dev);
  }
};

// Reentrant checkpoint (torch.utils.checkpoint's use_reentrant=True, in C++): forward under
// no-grad keeps x; backward recomputes with grad on and runs autograd::grad through it.
struct LayerCheckpoint : torch::autograd::Function<LayerCheckpoint> {
  // `anchor`: an empty tensor that requires grad, so the node is recorded even when neither x
  // nor any other input does (the first layer's input in LoRA training) — the parameters'
  // gradients are produced in backward, invisible to autograd's input bookkeeping.
  static variable_list forward(AutogradContext* ctx, LlamaDecoderLayerImpl* layer, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin, const torch::Tensor& bias,
                               const torch::Tensor& anchor) {
    ctx->saved_data["layer"] = reinterpret_cast<int64_t>(layer);
    ctx->saved_data["x_requires_grad"] = x.requires_grad();
    auto rng = RngStates::capture(x.device());
    ctx->saved_data["rng_cpu"] = rng.cpu;
    if (rng.dev.defined()) ctx->saved_data["rng_dev"] = rng.dev;
    ctx->save_for_backward({x, cos, sin, bias});
    return {layer->forward(x, Rope{cos, sin}, bias, nullptr)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    auto* layer = reinterpret_cast<LlamaDecoderLayerImpl*>(ctx->saved_data["layer"].toInt());
    const bool x_grad = ctx->saved_data["x_requires_grad"].toBool();
    RngStates rng;
    rng.device = saved[0].device();
    rng.cpu = ctx->saved_data["rng_cpu"].toTensor();
    if (ctx->saved_data.count("rng_dev")) rng.dev = ctx->saved_data["rng_dev"].toTensor();

    auto x = saved[0].detach().requires_grad_(x_grad);
    torch::Tensor y;
    {
      auto now = RngStates::capture(x.device());
      rng.restore();  // the recomputation draws the forward's dropout masks again
      torch::AutoGradMode grad_on(true);
      y = layer->forward(x, Rope{saved[1], saved[2]}, saved[3], nullptr);
      now.restore();
    }
    std::vector<torch::Tensor> inputs, params;
    if (x_grad) inputs.push_back(x);
    for (auto& p : layer->parameters())
      if (p.requires_grad()) {
        inputs.push_back(p);
        params.push_back(p);
      }
    torch::Tensor gx;
    if (!inputs.empty()) {
      auto g = torch::autograd::grad({y}, inputs, {grad_out[0]}, /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true);
      size_t at = 0;
      if (x_grad) gx = g[at++];
      for (auto& p : params) {
        auto& gp = g[at++];
        if (!gp.defined()) continue;
        if (p.grad().defined()) p.mutable_grad().add_(gp);
        else p.mutable_grad() = gp.detach();
      }
    }
    return {torch::Tensor(), gx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor checkpointed_layer(LlamaDecoderLayerImpl& layer, const torch::Tensor& x, const Rope& rope,
                                 const torch::Tensor& bias) {
  bool needed = x.requires_grad();
  if (torch::GradMode::is_enabled() && !needed)
    for (const auto& p : layer.parameters())
      if (p.requires_grad()) {
        needed = true;
        break;
      }
  if (!torch::GradMode::is_enabled() || !needed) return layer.forward(x, rope, bias, nullptr);
  auto anchor = torch::empty({0}, torch::TensorOptions().dtype(torch::kFloat32)).requires_grad_(true);
  return LayerCheckpoint::apply(&layer, x, rope.cos, rope.sin, bias, anchor)[0];
}

}  // namespace seva::model
