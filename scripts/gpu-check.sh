#!/usr/bin/env bash
# Builds seva against the CUDA libtorch of a pip PyTorch install, runs the test suite, and checks
# that CUDA generation gives the CPU's tokens, with every --decode mode. For a GPU machine that has the build dependencies;
# logs go to $OUT (default: build-cuda/logs).
set -u
OUT=${OUT:-build-cuda/logs}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
echo "torch: $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)')"
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" >"$OUT/cmake.log" 2>&1 \
  || { tail -40 "$OUT/cmake.log"; exit 1; }
start=$(date +%s)
cmake --build build-cuda -j"$(nproc)" >"$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -40; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
(cd build-cuda && ctest -j"$(nproc)" --timeout 300 >"$OUT/ctest.log" 2>&1); tail -4 "$OUT/ctest.log"
grep -E "Failed|\*\*\*" "$OUT/ctest.log" | head -20
M=tests/data/llava-tiny-a/model_A
IMG=tests/data/llava-tiny-a/images/img0_97x61.png
for dev in cpu cuda; do
  build-cuda/seva chat --device $dev --dtype float32 --model $M --image $IMG --image-aspect none \
    --question "What is shown?" --max-new-tokens 20 --json >"$OUT/chat_$dev.json" 2>&1
  echo "chat $dev: $(cat "$OUT/chat_$dev.json")"
done
cmp -s "$OUT/chat_cpu.json" "$OUT/chat_cuda.json" && echo "CUDA tokens == CPU tokens" || echo "CUDA tokens differ from CPU"
# The decode steps captured as a CUDA graph (generate/decoder.h) against the default steps.
for mode in static cuda-graph; do
  build-cuda/seva chat --device cuda --dtype float32 --decode $mode --model $M --image $IMG --image-aspect none \
    --question "What is shown?" --max-new-tokens 20 --json >"$OUT/chat_cuda_$mode.json" 2>&1
  cmp -s "$OUT/chat_cuda.json" "$OUT/chat_cuda_$mode.json" && echo "--decode $mode tokens == CUDA tokens" \
    || echo "--decode $mode differs: $(cat "$OUT/chat_cuda_$mode.json")"
done
build-cuda/seva chat --device cuda --dtype bfloat16 --model $M --image $IMG --question "What is shown?" \
  --max-new-tokens 20 --json 2>&1 | head -3
