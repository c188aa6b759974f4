#!/usr/bin/env bash
# GPU check for issue 7, within about 5 minutes on one GPU machine with a pip PyTorch (CUDA) and
# transformers + peft, no internet:
#   1. build `seva` (only the CLI: no tests) against the pip torch's libtorch; build dependencies
#      the machine lacks come from the Debian packages in bench/gpu/debs/ (bench/gpu/fetch-debs.sh),
#      unpacked with `dpkg -x` into build-cuda/deps, never into /;
#   2. meanwhile the peer (bench/gpu/peer.py: transformers + peft, same generation and DPO-step
#      shapes) runs on the GPU, pinned to 2 cores while the build uses the others;
#   3. `seva bench --size 7b` in bf16 on the same 2 cores, then both reports side by side.
# Output: $OUT (default build-cuda/bench): seva.json, peer.json, logs, summary.txt.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-build-cuda/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }

PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null && [ -x /opt/torch/.venv/bin/python ]; then PY=/opt/torch/.venv/bin/python; fi
PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)') || { echo "no python torch"; exit 1; }
el "torch: $("$PY" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name())')"
NPROC=$(nproc)
PIN="0,1"                         # the peer and seva bench run here
BUILD_CPUS="2-$(( NPROC - 1 ))"   # the build uses the rest

# What the machine has, for the note (and for the next try when something below fails).
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  head -2 /etc/os-release; ldd --version 2>&1 | head -1
  for t in g++ c++ cmake ninja nvcc pkg-config; do echo "$t: $(command -v $t) $($t --version 2>&1 | head -1)"; done
  for h in nlohmann/json.hpp CLI/CLI.hpp sentencepiece_processor.h png.h jpeglib.h zlib.h; do
    echo "$h: $(ls /usr/include/$h /usr/include/x86_64-linux-gnu/$h 2>/dev/null | head -1)"; done
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# Build dependencies: unpack the carried .debs (bench/gpu/fetch-debs.sh) only for what the machine lacks.
has_header() { [ -e "/usr/include/$1" ] || [ -e "/usr/include/x86_64-linux-gnu/$1" ]; }
DEPS=$ROOT/build-cuda/deps
EXTRA=""
missing=""
has_header nlohmann/json.hpp || missing="$missing nlohmann-json3-dev"
has_header CLI/CLI.hpp || missing="$missing libcli11-dev"
has_header sentencepiece_processor.h || missing="$missing libsentencepiece-dev libsentencepiece0 libprotobuf-lite32"
has_header png.h || missing="$missing libpng-dev libpng16-16"
has_header zlib.h || missing="$missing zlib1g-dev"
has_header jpeglib.h || missing="$missing libjpeg62-turbo-dev libjpeg62-turbo"
command -v pkg-config >/dev/null || missing="$missing pkgconf pkgconf-bin libpkgconf3"
if [ -n "$missing" ]; then
  el "missing:$missing -> unpacking bench/gpu/debs into $DEPS"
  mkdir -p "$DEPS"
  for p in $missing; do
    deb=$(ls bench/gpu/debs/${p}_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "bench/gpu/debs has no $p (run bench/gpu/fetch-debs.sh where there is internet)"; exit 1; }
    dpkg -x "$deb" "$DEPS"
  done
  # pkg-config files name prefix=/usr: point them at the unpacked tree.
  for pc in "$DEPS"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc "$DEPS"/usr/share/pkgconfig/*.pc; do
    [ -e "$pc" ] && sed -i "s|^prefix=/usr|prefix=$DEPS/usr|" "$pc"
  done
  export PATH="$DEPS/usr/bin:$PATH"
  export PKG_CONFIG_PATH="$DEPS/usr/lib/x86_64-linux-gnu/pkgconfig:$DEPS/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}"
  export CPATH="$DEPS/usr/include:${CPATH:-}"
  export LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:${LIBRARY_PATH:-}"
  export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  EXTRA=";$DEPS/usr"
fi

# libtorch's CMake files look for the CUDA toolkit and cuDNN: point them at nvcc and at the cuDNN
# the pip wheels bring (site-packages/nvidia/cudnn), as users of a pip torch must.
[ -z "${CUDA_HOME:-}" ] && [ -d /usr/local/cuda ] && export CUDA_HOME=/usr/local/cuda
[ -n "${CUDA_HOME:-}" ] && export PATH="$CUDA_HOME/bin:$PATH"
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
CUDNN_ARGS=""
CUDNN=$("$PY" -c 'import nvidia.cudnn as c; print(list(c.__path__)[0])' 2>/dev/null)
if [ -n "$CUDNN" ] && [ -d "$CUDNN/include" ]; then
  lib=$(ls "$CUDNN"/lib/libcudnn.so* 2>/dev/null | head -1)
  export CUDNN_ROOT="$CUDNN" CUDNN_INCLUDE_DIR="$CUDNN/include" CUDNN_LIBRARY="$lib"
  CUDNN_ARGS="-DCUDNN_ROOT=$CUDNN -DCUDNN_INCLUDE_DIR=$CUDNN/include -DCUDNN_INCLUDE_PATH=$CUDNN/include -DCUDNN_LIBRARY=$lib -DCUDNN_LIBRARY_PATH=$lib"
  el "cuDNN from the wheel: $CUDNN ($lib)"
fi

# The peer on the GPU while the CPUs build.
el "peer: transformers + peft (pinned to cores $PIN)"
taskset -c "$PIN" timeout 300 "$PY" bench/gpu/peer.py --json "$OUT/peer.json" >"$OUT/peer.log" 2>&1 &
PEER=$!

el "configure + build seva (cores $BUILD_CPUS)"
GEN="-G Ninja" KEEP="-k 0"  # keep going past a failed file
command -v ninja >/dev/null || { GEN="" KEEP="-k"; }
# shellcheck disable=SC2086
cmake -S . -B build-cuda $GEN -DCMAKE_BUILD_TYPE=Release -DSEVA_BUILD_TESTS=OFF $CUDNN_ARGS \
  -DCMAKE_PREFIX_PATH="$PREFIX$EXTRA" >"$OUT/cmake.log" 2>&1 || {
  # Without the c10d probe (multi-process runs), which the bench does not need.
  el "configure failed; again without the c10d probe"; rm -rf build-cuda/CMakeCache.txt build-cuda/CMakeFiles
  cmake -S . -B build-cuda $GEN -DCMAKE_BUILD_TYPE=Release -DSEVA_BUILD_TESTS=OFF -DSEVA_HAS_C10D=OFF $CUDNN_ARGS \
    -DCMAKE_PREFIX_PATH="$PREFIX$EXTRA" >>"$OUT/cmake.log" 2>&1; } || { tail -40 "$OUT/cmake.log"; wait $PEER; tail -8 "$OUT/peer.log"; exit 1; }
build() { taskset -c "$BUILD_CPUS" timeout "$1" cmake --build build-cuda -j"$(( NPROC - 2 ))" --target seva -- $KEEP >>"$OUT/build.log" 2>&1; }
build 330 || {
  # The one file that uses libtorch's CUDA allocator API: without it the bench reports no CUDA peak.
  grep -q "src/bench/bench.cpp.*error" "$OUT/build.log" && ! grep -q "^#define SEVA_NO_CUDA_MEMORY_STATS" src/bench/bench.cpp &&
    el "bench.cpp failed against this libtorch: again without CUDA memory statistics" &&
    sed -i '1i #define SEVA_NO_CUDA_MEMORY_STATS 1' src/bench/bench.cpp && build 200; } || { grep -E -m 30 "error|Error" "$OUT/build.log"; tail -5 "$OUT/build.log"; wait $PEER; tail -8 "$OUT/peer.log"; exit 1; }
el "build done"
wait $PEER
el "peer done (rc $?)"
tail -6 "$OUT/peer.log"

el "seva bench --size 7b (bf16, cores $PIN)"
taskset -c "$PIN" timeout 210 build-cuda/seva bench --size 7b --device cuda --dtype bfloat16 --threads 2 \
  --json "$OUT/seva.json" 2>&1 | tee "$OUT/seva.log" | tail -30
el "done"

"$PY" - "$OUT" <<'PYEOF' | tee "$OUT/summary.txt"
import json, os, sys
out = sys.argv[1]
def load(n):
    p = os.path.join(out, n)
    return json.load(open(p)) if os.path.exists(p) else {}
s, p = load("seva.json"), load("peer.json")
def g(d, *ks):
    for k in ks:
        if not isinstance(d, dict) or k not in d: return None
        d = d[k]
    return d
rows = [
    ("generate b=1 tok/s", g(s, "generate_b1", "tokens_per_s"), g(p, "generate_b1", "tokens_per_s")),
    ("generate b=16 tok/s", g(s, "generate_b16", "tokens_per_s"), g(p, "generate_b16", "tokens_per_s")),
    ("batched / b=1", g(s, "batched_generation_speedup"), g(p, "batched_generation_speedup")),
    ("DPO pairs/s", g(s, "dpo", "ours", "pairs_per_s"), g(p, "dpo_step", "pairs_per_s")),
    ("DPO peak MB", g(s, "dpo", "ours", "memory", "peak_mb"), g(p, "dpo_step", "peak_mb")),
]
print(f"{'7b, bf16':24} {'seva':>12} {'transformers+peft':>18}")
for name, a, b in rows:
    print(f"{name:24} {str(a):>12} {str(b):>18}")
for k in ("gemm_gflops", "prefill_mfu", "train_mfu", "dpo_speedup_vs_official", "multi_negative_speedup",
          "loss_max_abs_diff"):
    print(f"seva {k}: {s.get(k)}")
PYEOF
