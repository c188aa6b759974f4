// Gradient checkpointing for decoder layers: the forward keeps only each layer's input, the
// backward runs the layer again with autograd on and back-propagates through that recomputation.
#pragma once
#include "model/llama.h"

namespace seva::model {

// y = layer(x) without storing the layer's activations for backward. Gradients reach x (when it
// requires grad) and the layer's trainable parameters (accumulated into their .grad, as a normal
// backward does). Random ops inside the layer (LoRA dropout) draw the same numbers in the
// recomputation: the default generators of CPU and of x's device are saved before the forward and
// restored around the recomputation, then put back, so the rest of the run sees the same RNG
// stream as without checkpointing. Falls back to a plain call when grad mode is off or nothing
// in the layer needs a gradient. No KV cache (training only).
torch::Tensor checkpointed_layer(LlamaDecoderLayerImpl& layer, const torch::Tensor& x, const Rope& rope,
                                 const torch::Tensor& bias);

}  // namespace seva::model
