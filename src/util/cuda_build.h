// Whether this build's libtorch is a CUDA one whose CUDA headers can be included (a pip wheel's, or
// the official libtorch, with the CUDA toolkit's headers): SEVA_CUDA_BUILD is 1 or 0.
// Debian's libtorch-dev ships c10/cuda headers without the generated cuda_cmake_macros.h they
// include, so on a machine with the CUDA toolkit a check for the headers alone would pass there.
#pragma once
#if __has_include(<c10/cuda/impl/cuda_cmake_macros.h>) && __has_include(<cuda_runtime_api.h>)
#define SEVA_CUDA_BUILD 1
#else
#define SEVA_CUDA_BUILD 0
#endif
