// The flags of `seva eval` (util/flags.h).
#pragma once
#include "eval/runner.h"
#include "util/flags.h"

namespace seva::eval {

void eval_flags(util::Flags& f, EvalOptions& o);

}  // namespace seva::eval
