// The DPO loss family as pure functions of summed log-probabilities, with the rewards and
// metrics the official trainer logs.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace seva::train {

enum class LossType { Sigmoid, Ipo, Hinge, Robust, Multi };
LossType parse_loss(const std::string& name);  // sigmoid, ipo, hinge, robust, multi
const char* loss_name(LossType t);

struct DpoOptions {
  LossType type = LossType::Sigmoid;
  double beta = 0.1;
  double label_smoothing = 0.0;  // sigmoid and robust
  // Weight of an NLL term on the chosen answer (mean per token), added to the preference loss
  // (TRL's rpo_alpha): keeps the chosen answers likely while the margin grows.
  double nll_weight = 0.0;
};

// The NLL term: mean over the batch of −policy_chosen / chosen_tokens. (B,) and (B,) → scalar.
torch::Tensor chosen_nll(const torch::Tensor& policy_chosen, const torch::Tensor& chosen_tokens);

struct DpoOutput {
  torch::Tensor loss;              // scalar, mean over the batch
  torch::Tensor reward_chosen;     // (B,) beta · (policy − reference), detached
  torch::Tensor reward_rejected;   // (B,) mean over the rejected answers, detached
  torch::Tensor accuracy;          // (B,) 1 where the chosen reward beats every rejected one
};

// policy_chosen, ref_chosen: (B,); policy_rejected, ref_rejected: (B, k). With k > 1 the pairwise
// losses average over the k negatives; `multi` is the paper's Eq. 18:
// −log(e^{r_c} / (e^{r_c} + Σ_j e^{r_j})), which equals `sigmoid` when k = 1.
DpoOutput dpo_loss(const torch::Tensor& policy_chosen, const torch::Tensor& policy_rejected,
                   const torch::Tensor& ref_chosen, const torch::Tensor& ref_rejected, const DpoOptions& opts);

// The same over per-pair tensors: chosen (), rejected (k_i,). Multi-negative pairs keep only the
// views whose answer differed, so k_i varies; rows with different k are scored one by one and
// combined as one batch would be (mean loss, per-row rewards and accuracy).
DpoOutput dpo_loss(const std::vector<torch::Tensor>& policy_chosen, const std::vector<torch::Tensor>& policy_rejected,
                   const std::vector<torch::Tensor>& ref_chosen, const std::vector<torch::Tensor>& ref_rejected,
                   const DpoOptions& opts);

}  // namespace seva::train
