// DPO pieces against transformers/TRL numbers on the fixture, and packing against separate sequences.
#include "io/files.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "test_helpers.h"
#include "train/dpo_loss.h"
#include "train/logps.h"

#include <torch/torch.h>

#include <cmath>

using namespace seva;

namespace {

struct DpoFixture {
  nlohmann::json json = io::read_json(test::fixture_path("reference_A.json"))["dpo"];
  io::SafetensorsFile tensors{test::fixture_path("reference_A.safetensors")};
};

// Splits TRL's (input_ids, labels) into the prompt and the answer (labels != -100).
void split(const nlohmann::json& seq, std::vector<int64_t>& prompt, std::vector<int64_t>& answer) {
  auto ids = seq["input_ids"].get<std::vector<int64_t>>();
  auto labels = seq["labels"].get<std::vector<int64_t>>();
  size_t first = 0;
  while (labels[first] == -100) ++first;
  prompt.assign(ids.begin(), ids.begin() + static_cast<long>(first));
  answer.assign(ids.begin() + static_cast<long>(first), ids.end());
}

std::vector<train::PackedExample> fixture_examples(const DpoFixture& f) {
  std::vector<train::PackedExample> out;
  for (const auto& e : f.json["examples"]) {
    train::PackedExample ex;
    std::vector<int64_t> p2, c, r;
    split(e["chosen"], ex.prompt_ids, c);
    split(e["rejected"], p2, r);
    EXPECT_EQ(ex.prompt_ids, p2);
    ex.answers = {c, r};
    out.push_back(ex);
  }
  return out;
}

torch::Tensor fixture_pixels(const DpoFixture& f) {
  return torch::cat({f.tensors.get("dpo.0.pixel_values"), f.tensors.get("dpo.1.pixel_values")}, 0);
}

model::LlavaConfig tiny_config() {
  model::LlavaConfig c;
  c.text.vocab_size = 300;
  c.text.hidden_size = 32;
  c.text.intermediate_size = 64;
  c.text.num_hidden_layers = 2;
  c.text.num_attention_heads = 4;
  c.text.num_key_value_heads = 2;
  c.vision.hidden_size = 24;
  c.vision.intermediate_size = 48;
  c.vision.num_hidden_layers = 2;
  c.vision.num_attention_heads = 2;
  c.vision.image_size = 28;
  c.vision.patch_size = 14;
  c.image_token_index = 299;
  return c;
}

}  // namespace

TEST(DpoReference, PackedLogpsMatchTrl) {
  DpoFixture f;
  auto examples = fixture_examples(f);
  auto px = fixture_pixels(f);
  for (const char* which : {"policy", "reference"}) {
    auto m = model::load_llava(test::fixture_path(std::string(which) == "policy" ? "model_A" : "dpo_ref_A"));
    torch::NoGradGuard ng;
    auto lp = train::packed_logps(*m, examples, m->image_features(px).unbind(0));
    for (size_t e = 0; e < examples.size(); ++e) {
      double c = f.json["examples"][e]["chosen"][which]["sum_logp"].get<double>();
      double r = f.json["examples"][e]["rejected"][which]["sum_logp"].get<double>();
      EXPECT_NEAR(lp[e][0].item<double>(), c, 1e-3) << which << " example " << e;
      EXPECT_NEAR(lp[e][1].item<double>(), r, 1e-3) << which << " example " << e;
    }
  }
}

TEST(DpoReference, SigmoidLossMatchesTrl) {
  DpoFixture f;
  std::vector<double> pc, pr, rc, rr;
  for (const auto& e : f.json["examples"]) {
    pc.push_back(e["chosen"]["policy"]["sum_logp"]);
    pr.push_back(e["rejected"]["policy"]["sum_logp"]);
    rc.push_back(e["chosen"]["reference"]["sum_logp"]);
    rr.push_back(e["rejected"]["reference"]["sum_logp"]);
  }
  auto t = [](const std::vector<double>& v) { return torch::tensor(v, torch::kFloat64); };
  train::DpoOptions o;
  auto out = train::dpo_loss(t(pc), t(pr).unsqueeze(1), t(rc), t(rr).unsqueeze(1), o);
  EXPECT_NEAR(out.loss.item<double>(), f.json["mean_loss_ref_is_seed_model"].get<double>(), 1e-9);
  EXPECT_NEAR(out.reward_chosen[0].item<double>(), f.json["examples"][0]["chosen_reward_ref_seed"].get<double>(), 1e-9);
  EXPECT_NEAR(out.reward_rejected[0].item<double>(), f.json["examples"][0]["rejected_reward_ref_seed"].get<double>(), 1e-9);
  // Policy = reference: every pair's loss is log 2.
  auto same = train::dpo_loss(t(pc), t(pr).unsqueeze(1), t(pc), t(pr).unsqueeze(1), o);
  EXPECT_NEAR(same.loss.item<double>(), std::log(2.0), 1e-12);
}

TEST(DpoLoss, MultiNegativeWithOneNegativeEqualsSigmoid) {
  auto pc = torch::tensor({-3.0, -7.5, -1.0}, torch::kFloat64), rc = torch::tensor({-3.5, -7.0, -2.0}, torch::kFloat64);
  auto pr = torch::tensor({-4.0, -6.0, -9.0}, torch::kFloat64).unsqueeze(1);
  auto rr = torch::tensor({-4.2, -6.5, -8.0}, torch::kFloat64).unsqueeze(1);
  train::DpoOptions sig, multi;
  multi.type = train::LossType::Multi;
  EXPECT_NEAR(train::dpo_loss(pc, pr, rc, rr, sig).loss.item<double>(),
              train::dpo_loss(pc, pr, rc, rr, multi).loss.item<double>(), 1e-12);
}

TEST(DpoLoss, MultiNegativeFollowsEquation18) {
  // r = beta (pi - ref): chosen 0.1·1 = 0.1, rejected 0.1·(-1) = -0.1 and 0.1·2 = 0.2.
  auto pc = torch::tensor({1.0}, torch::kFloat64), rc = torch::tensor({0.0}, torch::kFloat64);
  auto pr = torch::tensor({{-1.0, 2.0}}, torch::kFloat64), rr = torch::zeros({1, 2}, torch::kFloat64);
  train::DpoOptions o;
  o.type = train::LossType::Multi;
  double expected = -std::log(std::exp(0.1) / (std::exp(0.1) + std::exp(-0.1) + std::exp(0.2)));
  auto out = train::dpo_loss(pc, pr, rc, rr, o);
  EXPECT_NEAR(out.loss.item<double>(), expected, 1e-12);
  EXPECT_EQ(out.accuracy[0].item<float>(), 0.0f);  // one rejected answer beats the chosen one
}

TEST(DpoLoss, PairsWithDifferentNumbersOfNegatives) {
  // Pair 0 has two rejected answers (the Eq. 18 case above), pair 1 one: the batch loss is the
  // mean of the two pairs' own losses; rewards and accuracy are per pair. (This crashed in
  // `seva train --loss multi` before: the rejected tensors were stacked.)
  auto t = [](std::initializer_list<double> v) { return torch::tensor(std::vector<double>(v), torch::kFloat64); };
  std::vector<torch::Tensor> pc{t({1.0}).squeeze(), t({-2.0}).squeeze()}, rc{t({0.0}).squeeze(), t({-1.0}).squeeze()};
  std::vector<torch::Tensor> pr{t({-1.0, 2.0}), t({-3.0})}, rr{t({0.0, 0.0}), t({-1.0})};
  train::DpoOptions o;
  o.type = train::LossType::Multi;
  double l0 = -std::log(std::exp(0.1) / (std::exp(0.1) + std::exp(-0.1) + std::exp(0.2)));
  double l1 = -std::log(std::exp(-0.1) / (std::exp(-0.1) + std::exp(-0.2)));  // chosen -0.1, rejected -0.2
  auto out = train::dpo_loss(pc, pr, rc, rr, o);
  EXPECT_NEAR(out.loss.item<double>(), (l0 + l1) / 2, 1e-12);
  ASSERT_EQ(out.reward_chosen.size(0), 2);
  EXPECT_NEAR(out.reward_chosen[1].item<double>(), -0.1, 1e-12);
  EXPECT_NEAR(out.reward_rejected[0].item<double>(), 0.05, 1e-12);  // mean of -0.1 and 0.2
  EXPECT_EQ(out.accuracy[0].item<float>(), 0.0f);
  EXPECT_EQ(out.accuracy[1].item<float>(), 1.0f);
  // Equal counts take the batched path: the same numbers as the tensor form.
  std::vector<torch::Tensor> pr1{t({-1.0}), t({-3.0})}, rr1{t({0.0}), t({-1.0})};
  auto batched = train::dpo_loss(torch::stack(pc), torch::stack(pr1), torch::stack(rc), torch::stack(rr1), o);
  EXPECT_NEAR(train::dpo_loss(pc, pr1, rc, rr1, o).loss.item<double>(), batched.loss.item<double>(), 1e-12);
}

TEST(DpoLoss, IpoHingeRobustByHand) {
  auto pc = torch::tensor({-2.0}, torch::kFloat64), rc = torch::tensor({-3.0}, torch::kFloat64);
  auto pr = torch::tensor({{-5.0}}, torch::kFloat64), rr = torch::tensor({{-4.0}}, torch::kFloat64);
  // logits = (−2 − −3) − (−5 − −4) = 2
  train::DpoOptions o;
  o.beta = 0.25;
  o.type = train::LossType::Ipo;
  EXPECT_NEAR(train::dpo_loss(pc, pr, rc, rr, o).loss.item<double>(), std::pow(2 - 1 / 0.5, 2), 1e-12);
  o.type = train::LossType::Hinge;
  EXPECT_NEAR(train::dpo_loss(pc, pr, rc, rr, o).loss.item<double>(), 0.5, 1e-12);
  o.type = train::LossType::Robust;
  o.label_smoothing = 0.1;
  double z = 0.5, ls = 0.1;
  auto logsig = [](double x) { return -std::log1p(std::exp(-x)); };
  EXPECT_NEAR(train::dpo_loss(pc, pr, rc, rr, o).loss.item<double>(),
              (-logsig(z) * (1 - ls) + logsig(-z) * ls) / (1 - 2 * ls), 1e-12);
}

TEST(DpoLoss, ChosenNllIsMeanPerTokenNegativeLogProb) {
  auto pc = torch::tensor({-6.0, -2.0}, torch::kFloat64);
  auto tokens = torch::tensor({3.0, 4.0}, torch::kFloat64);
  EXPECT_NEAR(train::chosen_nll(pc, tokens).item<double>(), (6.0 / 3 + 2.0 / 4) / 2, 1e-12);
}

TEST(DpoPacking, PackedEqualsSeparateInValuesAndLoraGradients) {
  torch::manual_seed(3);
  model::LlavaForConditionalGeneration m(tiny_config());
  model::LoraConfig lc;
  lc.r = 4;
  lc.alpha = 8;
  lc.dropout = 0.0;
  auto params = model::add_lora(*m, lc);
  {
    torch::NoGradGuard ng;
    for (auto& [name, p] : model::lora_parameters(*m)) p.normal_(0, 0.1);  // B non-zero
  }
  std::vector<train::PackedExample> ex = {
      {{1, 5, 299, 7, 8, 9}, {{10, 11, 12, 2}, {13, 2}, {14, 15, 16, 17, 18, 2}}},
      {{1, 299, 20, 21}, {{22, 2}, {23, 24, 2}}},
  };
  auto feats = m->image_features(torch::randn({2, 3, 28, 28}));
  auto grads = [&](bool packed) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    auto lp = packed ? train::packed_logps(*m, ex, feats.unbind(0)) : train::separate_logps(*m, ex, feats.unbind(0));
    (lp[0].sum() + 0.5 * lp[1].sum()).backward();
    std::vector<torch::Tensor> g;
    for (auto& p : params) g.push_back(p.grad().clone());
    return std::make_pair(torch::cat({lp[0], lp[1]}).detach(), g);
  };
  auto [vp, gp] = grads(true);
  auto [vs, gs] = grads(false);
  EXPECT_LT(((vp - vs).abs() / vs.abs()).max().item<double>(), 1e-5);
  for (size_t i = 0; i < gp.size(); ++i) {
    double denom = gs[i].abs().max().item<double>() + 1e-12;
    EXPECT_LT((gp[i] - gs[i]).abs().max().item<double>() / denom, 1e-4) << "param " << i;
  }
}

TEST(DpoPacking, LoraGradientMatchesFiniteDifference) {
  torch::manual_seed(5);
  model::LlavaForConditionalGeneration m(tiny_config());
  m->to(torch::kFloat64);
  model::LoraConfig lc;
  lc.r = 2;
  lc.alpha = 4;
  lc.dropout = 0.0;
  auto params = model::add_lora(*m, lc);
  {
    torch::NoGradGuard ng;
    for (auto& p : params) p.normal_(0, 0.1);
  }
  std::vector<train::PackedExample> ex = {{{1, 299, 7, 8}, {{10, 11, 2}, {12, 2}}}};
  auto feats = m->image_features(torch::randn({1, 3, 28, 28}, torch::kFloat64)).detach();
  auto objective = [&] {
    auto lp = train::packed_logps(*m, ex, feats.unbind(0))[0];
    return lp[0] - 0.3 * lp[1];
  };
  objective().backward();
  for (size_t pi : {size_t(0), size_t(1), params.size() - 1}) {
    auto& p = params[pi];
    for (int64_t idx : {int64_t(0), p.numel() - 1}) {
      double analytic = p.grad().view(-1)[idx].item<double>();
      double h = 1e-6, orig;
      {
        torch::NoGradGuard ng;
        orig = p.view(-1)[idx].item<double>();
        p.view(-1)[idx].fill_(orig + h);
      }
      double up = objective().item<double>();
      {
        torch::NoGradGuard ng;
        p.view(-1)[idx].fill_(orig - h);
      }
      double down = objective().item<double>();
      {
        torch::NoGradGuard ng;
        p.view(-1)[idx].fill_(orig);
      }
      EXPECT_NEAR(analytic, (up - down) / (2 * h), 1e-6 + 1e-5 * std::abs(analytic)) << "param " << pi << " idx " << idx;
    }
  }
}
