#!/usr/bin/env bash
# GPU smoke of the whole method: build `seva` against the pip torch (as bench/gpu/run.sh does),
# then `seva demo --quick --device cuda` (world, base eval, generate with diffusion views, pair,
# DPO + LoRA, eval, report).
# Output: $OUT (default build-cuda/demo): report.md and summary.json of the CUDA run, logs.
set -u
OUT_DEFAULT=build-cuda/demo
# shellcheck source=bench/gpu/env.sh
source "$(dirname "$0")/env.sh"

el "configure + build seva"
configure_seva || { tail -40 "$OUT/cmake.log"; exit 1; }
grep "seva: c10d" "$OUT/cmake.log"
timeout 330 cmake --build build-cuda -j"$NPROC" --target seva -- $KEEP >"$OUT/build.log" 2>&1 \
  || { grep -E -m 30 "error|Error" "$OUT/build.log"; tail -5 "$OUT/build.log"; exit 1; }
el "build done"

RUN=/tmp/seva-demo-cuda
timeout "${DEMO_TIMEOUT:-240}" build-cuda/seva demo --quick --device cuda --out "$RUN" >"$OUT/demo.log" 2>&1
rc=$?
el "seva demo --quick --device cuda: rc $rc"
tail -25 "$OUT/demo.log"
cp "$RUN/report.md" "$RUN/summary.json" "$OUT/" 2>/dev/null
