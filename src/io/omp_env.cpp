#include "io/omp_env.h"

#include <cstdlib>
#include <unistd.h>

namespace seva::io {

void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  ::execv("/proc/self/exe", argv);  // only returns on failure: then carry on as we are
}

}  // namespace seva::io
