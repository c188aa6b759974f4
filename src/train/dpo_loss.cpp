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

DpoOutput dpo_loss(const std::vector<torch::Tensor>& policy_chosen, const std::vector<torch::Tensor>& policy_rejected,
                   const std::vector<torch::Tensor>& ref_chosen, const std::vector<torch::Tensor>& ref_rejected,
                   const DpoOptions& o) {
  const size_t n = policy_chosen.size();
  if (n == 0 || policy_rejected.size() != n || ref_chosen.size() != n || ref_rejected.size() != n)
    throw std::invalid_argument("dpo_loss: per-pair lists of different lengths");
  bool same_k = true;
  for (size_t i = 0; i < n; ++i) same_k = same_k && policy_rejected[i].size(0) == policy_rejected[0].size(0);
  if (same_k)
    return dpo_loss(torch::stack(policy_chosen), torch::stack(policy_rejected), torch::stack(ref_chosen),
                    torch::stack(ref_rejected), o);
  std::vector<torch::Tensor> loss, rc, rr, acc;
  for (size_t i = 0; i < n; ++i) {
    auto row = dpo_loss(policy_chosen[i].unsqueeze(0), policy_rejected[i].unsqueeze(0), ref_chosen[i].unsqueeze(0),
                        ref_rejected[i].unsqueeze(0), o);
    loss.push_back(row.loss), rc.push_back(row.reward_chosen), rr.push_back(row.reward_rejected);
    acc.push_back(row.accuracy);
  }
  DpoOutput out;
  out.loss = torch::stack(loss).mean();
  out.reward_chosen = torch::cat(rc), out.reward_rejected = torch::cat(rr), out.accuracy = torch::cat(acc);
  return out;
}

torch::Tensor chosen_nll(const torch::Tensor& policy_chosen, const torch::Tensor& chosen_tokens) {
  return (-policy_chosen / chosen_tokens.to(policy_chosen.options()).clamp_min(1)).mean();
}

}  // namespace seva::train
