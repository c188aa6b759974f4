// Random initialisation of a LLaVA model as transformers does it (`_init_weights`), so a model
// trained from scratch by seva starts where one trained by transformers would.
#pragma once
#include "model/llava.h"

#include <cstdint>

namespace seva::model {

// Every parameter of `model` drawn afresh from a generator seeded with `seed`:
// - language model and projector: Linear and Embedding weights ~ N(0, 0.02), biases 0
//   (LlamaPreTrainedModel / LlavaPreTrainedModel, initializer_range 0.02);
// - CLIP (CLIPPreTrainedModel, initializer_factor 1): class embedding ~ N(0, C^-0.5), patch and
//   position embeddings ~ N(0, 0.02), q/k/v ~ N(0, C^-0.5 (2L)^-0.5), out_proj ~ N(0, C^-0.5),
//   fc1 ~ N(0, (2C)^-0.5), fc2 ~ N(0, C^-0.5 (2L)^-0.5), biases 0;
// - every norm's weight 1 and bias 0. LoRA children are left alone.
// The result depends on the seed only (not on the thread count or on earlier random draws).
void init_weights(LlavaForConditionalGenerationImpl& model, uint64_t seed);

}  // namespace seva::model
