// The flags of the options every model-loading command shares (util/flags.h): the model and the
// sampling, listed once here so they read the same in every command.
#pragma once
#include "generate/generate.h"
#include "generate/vlm.h"
#include "util/flags.h"

namespace seva::generate {

// --model, --adapter, --image-aspect, --threads, --device, --dtype. `model_required`: false for a
// command that can run without a model (seva eval --answers).
void model_flags(util::Flags& f, ModelOptions& o, bool model_required = true);
// --max-new-tokens, --temperature, --top-p, --seed, --decode.
void sampling_flags(util::Flags& f, SamplingOptions& o);

}  // namespace seva::generate
