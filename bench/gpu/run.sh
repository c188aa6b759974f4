#!/usr/bin/env bash
# GPU check of the CUDA build, within about 5 minutes on one GPU machine with a pip PyTorch (CUDA) and
# transformers + peft, no internet:
#   1. build `seva` (only the CLI: no tests) against the pip torch's libtorch; build dependencies
#      the machine lacks come from the Debian packages in bench/gpu/debs/ (bench/gpu/fetch-debs.sh),
#      unpacked with `dpkg -x` into build-cuda/deps, never into /;
#   2. meanwhile the peer (bench/gpu/peer.py: transformers + peft, same generation and DPO-step
#      shapes) runs on the GPU, pinned to 2 cores while the build uses the others;
#   3. `seva bench --size 7b` in bf16 on the same 2 cores, then both reports side by side.
# FAMILY=qwen2.5-vl (or qwen2-vl) races Qwen-VL-7B shapes instead of LLaVA-1.5-7B's.
# Output: $OUT (default build-cuda/bench): seva-FAMILY.json, peer-FAMILY.json, logs, summary-FAMILY.txt.
set -u
FAMILY=${FAMILY:-llava}
OUT_DEFAULT=build-cuda/bench
# shellcheck source=bench/gpu/env.sh
source "$(dirname "$0")/env.sh"
PIN="0,1"                         # the peer and seva bench run here
BUILD_CPUS="2-$(( NPROC - 1 ))"   # the build uses the rest

# The peer on the GPU while the CPUs build.
el "peer: transformers + peft (pinned to cores $PIN)"
taskset -c "$PIN" timeout 300 "$PY" bench/gpu/peer.py --family "$FAMILY" --json "$OUT/peer-$FAMILY.json" \
  >"$OUT/peer-$FAMILY.log" 2>&1 &
PEER=$!

el "configure + build seva (cores $BUILD_CPUS)"
configure_seva || { tail -40 "$OUT/cmake.log"; wait $PEER; tail -8 "$OUT/peer-$FAMILY.log"; exit 1; }
# shellcheck disable=SC2086
taskset -c "$BUILD_CPUS" timeout 330 cmake --build build-cuda -j"$(( NPROC - 2 ))" --target seva -- $KEEP \
  >"$OUT/build.log" 2>&1 || { grep -E -m 30 "error|Error" "$OUT/build.log"; tail -5 "$OUT/build.log"; wait $PEER; tail -8 "$OUT/peer-$FAMILY.log"; exit 1; }
el "build done"
wait $PEER
el "peer done (rc $?)"
tail -6 "$OUT/peer-$FAMILY.log"

el "seva bench --size 7b --family $FAMILY (bf16, cores $PIN)"
taskset -c "$PIN" timeout 210 build-cuda/seva bench --size 7b --family "$FAMILY" --device cuda --dtype bfloat16 \
  --threads 2 --json "$OUT/seva-$FAMILY.json" 2>&1 | tee "$OUT/seva-$FAMILY.log" | tail -30
el "done"

"$PY" - "$OUT" "$FAMILY" <<'PYEOF' | tee "$OUT/summary-$FAMILY.txt"
import json, os, sys
out, family = sys.argv[1], sys.argv[2]
def load(n):
    p = os.path.join(out, n)
    return json.load(open(p)) if os.path.exists(p) else {}
s, p = load(f"seva-{family}.json"), load(f"peer-{family}.json")
def g(d, *ks):
    for k in ks:
        if not isinstance(d, dict) or k not in d: return None
        d = d[k]
    return d
rows = [
    ("generate b=1 tok/s", g(s, "generate_b1", "tokens_per_s"), g(p, "generate_b1", "tokens_per_s")),
    ("generate b=16 tok/s", g(s, "generate_b16", "tokens_per_s"), g(p, "generate_b16", "tokens_per_s")),
    ("generate b=1 graph", g(s, "generate_b1_cuda-graph", "tokens_per_s"), None),
    ("generate b=16 graph", g(s, "generate_b16_cuda-graph", "tokens_per_s"), None),
    ("decode b=1 GB/s", g(s, "decode_b1", "weight_gbps"), None),
    ("decode b=1 graph GB/s", g(s, "decode_b1_cuda-graph", "weight_gbps"), None),
    ("batched / b=1", g(s, "batched_generation_speedup"), g(p, "batched_generation_speedup")),
    ("DPO pairs/s", g(s, "dpo", "ours", "pairs_per_s"), g(p, "dpo_step", "pairs_per_s")),
    ("DPO peak MB", g(s, "dpo", "ours", "memory", "peak_mb"), g(p, "dpo_step", "peak_mb")),
]
print(f"{'7b ' + family + ', bf16':24} {'seva':>12} {'transformers+peft':>18}")
for name, a, b in rows:
    print(f"{name:24} {str(a):>12} {str(b):>18}")
for k in ("gemm_gflops", "prefill_mfu", "train_mfu", "dpo_speedup_vs_official", "multi_negative_speedup",
          "loss_max_abs_diff"):
    print(f"seva {k}: {s.get(k)}")
PYEOF
