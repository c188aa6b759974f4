// Keeps libgomp's idle threads from spinning: with OpenMP (libtorch's loops) and OpenBLAS (its
// matmuls) each running a thread pool on few cores, spinning OpenMP workers steal the cores
// OpenBLAS needs (measured on 2 cores: prefill 132 → 2161 tokens/s). libgomp reads its settings
// when it loads, before main, so the process re-executes itself once with them set.
#pragma once

namespace seva::io {

// Call first thing in main(). If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets
// OMP_WAIT_POLICY=passive and re-executes /proc/self/exe with the same arguments; otherwise
// returns (the user's choice wins).
void ensure_passive_openmp(char** argv);

}  // namespace seva::io
