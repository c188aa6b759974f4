// The flags of `seva world` (util/flags.h).
#pragma once
#include "synth/world.h"
#include "util/flags.h"

namespace seva::synth {

// `seva world`: the world's options, and --quick (every count divided by 10, rounded up).
struct WorldCommandOptions {
  WorldOptions world;
  bool quick = false;
};
void world_flags(util::Flags& f, WorldCommandOptions& o);

}  // namespace seva::synth
