#include "train/dpo_loss.h"

#include <torch/torch.h>

#include <stdexcept>

namespace seva::train {

LossType parse_loss(const std::string& name) {
  if (name == "sigmoid") return LossType::Sigmoid;
  if (name == "ipo") return LossType::Ipo;
  if (name == "hinge") return LossType::Hinge;
  if (name == "robust") return LossType::Robust;
  if (name == "multi") return LossType::Multi;
  throw std::runtime_error("unknown loss '" + name + "' (valid: sigmoid, ipo, hinge, robust, multi)");
}

const char* loss_name(LossType t) {
  switch (t) {
    case LossType::Sigmoid: return "sigmoid";
    case LossType::Ipo: return "ipo";
    case LossType::Hinge: return "hinge";
    case LossType::Robust: return "robust";
    case LossType::Multi: return "multi";
  }
  return "?";
}

DpoOutput dpo_loss(const torch::Tensor& policy_chosen, const torch::Tensor& policy_rejected,
                   const torch::Tensor& ref_chosen, const torch::Tensor& ref_rejected, const DpoOptions& o) {
  const double beta = o.beta, ls = o.label_smoothing;
  auto chosen_logratio = (policy_chosen - ref_chosen).unsqueeze(1);  // (B, 1)
  auto rejected_logratio = policy_rejected - ref_rejected;           // (B, k)
  auto logits = chosen_logratio - rejected_logratio;                 // (B, k)
  torch::Tensor per;                                                 // (B,)
  switch (o.type) {
    case LossType::Sigmoid:
      per = (-torch::log_sigmoid(beta * logits) * (1 - ls) - torch::log_sigmoid(-beta * logits) * ls).mean(1);
      break;
    case LossType::Robust:
      per = ((-torch::log_sigmoid(beta * logits) * (1 - ls) + torch::log_sigmoid(-beta * logits) * ls) /
             (1 - 2 * ls)).mean(1);
      break;
    case LossType::Hinge: per = torch::relu(1 - beta * logits).mean(1); break;
    case LossType::Ipo: per = (logits - 1 / (2 * beta)).pow(2).mean(1); break;
    case LossType::Multi: {
      auto r = torch::cat({beta * chosen_logratio, beta * rejected_logratio}, 1);  // (B, 1 + k)
      per = torch::logsumexp(r, 1) - r.select(1, 0);
      break;
    }
  }
  DpoOutput out;
  out.loss = per.mean();
  out.reward_chosen = (beta * chosen_logratio.squeeze(1)).detach();
  auto rr = (beta * rejected_logratio).detach();
  out.reward_rejected = rr.mean(1);
  out.accuracy = (out.reward_chosen.unsqueeze(1) > rr).all(1).to(torch::kFloat32);
  return out;
}

torch::Tensor chosen_nll(const torch::Tensor& policy_chosen, const torch::Tensor& chosen_tokens) {
  return (-policy_chosen / chosen_tokens.to(policy_chosen.options()).clamp_min(1)).mean();
}

}  // namespace seva::train
