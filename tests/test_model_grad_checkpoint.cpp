// Gradient checkpointing: the recomputed backward gives the same gradients as the stored one,
// LoRA dropout included (the RNG state is replayed), and reaches inputs that require grad.
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "test_helpers.h"

#include <torch/torch.h>

using namespace seva;

namespace {

struct Grads {
  std::map<std::string, torch::Tensor> by_name;
  torch::Tensor loss;
};

// One forward/backward of a sum of logits on the fixture prompt. LoRA r 4 with dropout 0.2 (so the
// recomputation must replay the masks), B made non-zero so A gets a gradient, and the projector
// trainable so the gradient must flow back through every checkpointed layer's input.
Grads run(bool checkpointing) {
  io::SafetensorsFile f(test::fixture_path("lora_A.safetensors"));
  auto t = f.get("lora.input_ids").view(-1);
  std::vector<int64_t> ids(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  auto px = f.get("lora.pixel_values");
  auto m = model::load_llava(test::fixture_path("model_A"));
  torch::manual_seed(7);
  model::LoraConfig cfg;
  cfg.r = 4;
  cfg.alpha = 8;
  cfg.dropout = 0.2;
  model::add_lora(*m, cfg);
  {
    torch::NoGradGuard ng;
    for (auto& [name, p] : model::lora_parameters(*m))
      if (name.find("lora_B") != std::string::npos) p.uniform_(-0.1, 0.1);
  }
  for (auto& p : m->multi_modal_projector->parameters()) p.set_requires_grad(true);
  m->train();
  m->language_model->model->gradient_checkpointing = checkpointing;
  torch::manual_seed(123);  // the dropout masks
  auto logits = m->forward_logits({ids, ids}, torch::cat({px, px}));
  auto loss = (logits.to(torch::kFloat64).pow(2).mean());
  loss.backward();
  Grads g;
  g.loss = loss.detach();
  for (auto& item : m->named_parameters(true))
    if (item.value().requires_grad()) {
      EXPECT_TRUE(item.value().grad().defined()) << item.key();
      if (item.value().grad().defined()) g.by_name[item.key()] = item.value().grad().clone();
    }
  g.by_name["(rng after)"] = torch::rand({4}, torch::kFloat64);  // the stream continues identically
  return g;
}

}  // namespace

TEST(GradCheckpoint, SameGradientsAsStoredActivations) {
  auto plain = run(false);
  auto ckpt = run(true);
  EXPECT_NEAR(plain.loss.item<double>(), ckpt.loss.item<double>(), 1e-12 * std::abs(plain.loss.item<double>()));
  ASSERT_EQ(plain.by_name.size(), ckpt.by_name.size());
  EXPECT_EQ(plain.by_name.size(), 2u * 14u + 4u + 1u);  // 2 layers × 7 LoRA modules × (A, B), projector, rng
  for (auto& [name, a] : plain.by_name) {
    auto& b = ckpt.by_name.at(name);
    double scale = a.abs().max().item<double>();
    EXPECT_GT(scale, 0.0) << name;
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-5 * scale) << name;
  }
}

TEST(GradCheckpoint, NoGradModeIsAPlainForward) {
  auto m = model::load_llava(test::fixture_path("model_A"));
  m->language_model->model->gradient_checkpointing = true;
  io::SafetensorsFile f(test::fixture_path("lora_A.safetensors"));
  auto t = f.get("lora.input_ids").view(-1);
  std::vector<int64_t> ids(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  torch::NoGradGuard ng;
  auto a = m->forward_logits({ids}, f.get("lora.pixel_values"));
  m->language_model->model->gradient_checkpointing = false;
  auto b = m->forward_logits({ids}, f.get("lora.pixel_values"));
  EXPECT_TRUE(torch::equal(a, b));
}
