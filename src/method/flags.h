// The flags of the SeVa data commands (util/flags.h): `seva sample`, `seva generate` and `seva pair`.
#pragma once
#include "generate/vlm.h"
#include "method/generate_views.h"
#include "method/pairs.h"
#include "method/sample.h"
#include "util/flags.h"

#include <string>

namespace seva::method {

// `seva sample`.
void sample_flags(util::Flags& f, SampleOptions& o);

}  // namespace seva::method

namespace seva::method {

// `seva generate`: the model and what it answers.
struct GenerateCommandOptions {
  generate::ModelOptions model;
  GenerateOptions gen;  // no augs: diffusion:500
};
void generate_flags(util::Flags& f, GenerateCommandOptions& o);

}  // namespace seva::method

namespace seva::method {

// `seva pair`: the answers file read, the pairs file written and how pairs are made.
struct PairCommandOptions {
  std::string answers;         // answers.jsonl written by seva generate
  std::string out;             // the pairs file
  std::string format = "seva"; // seva (pairs.jsonl, every negative) or official (SeVa's JSON, the first)
  PairOptions pair;
};
void pair_flags(util::Flags& f, PairCommandOptions& o);

}  // namespace seva::method
