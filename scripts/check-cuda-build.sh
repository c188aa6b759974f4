#!/usr/bin/env bash
# The CUDA build, checked on any machine (no GPU needed): configures a build directory against the
# CUDA libtorch of a pip PyTorch install with NCCL, builds `seva` and `seva_tests`, and runs the
# test suite on the CPU against that libtorch (tests that need a GPU skip and say so). Catches what
# Debian's CPU libtorch 1.13 cannot: libtorch 2.x API changes, C++20, the NCCL-only multi-process
# configuration (c10d's TCPStore + ProcessGroupNCCL, no Gloo).
#
#   scripts/check-cuda-build.sh [BUILD_DIR]        default /tmp/build-cuda
#
# PYTHON    the Python whose torch to build against (default: python3); `pip install torch` there
# JOBS      parallel compile jobs (default: nproc)
# NO_TESTS  set to 1 to configure and build only
# Needs the CUDA toolkit's nvcc (PATH, $CUDA_HOME or /usr/local/cuda) and nccl.h (pip's
# nvidia-nccl next to torch, $NCCL_INCLUDE_DIR or the toolkit's).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-/tmp/build-cuda}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}

die() { echo "check-cuda-build: $*" >&2; exit 1; }

PREFIX=$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
  die "no torch in $PYTHON (pip install torch there, or set PYTHON=/path/to/venv/bin/python)"
CUDA_VERSION=$("$PYTHON" -c 'import torch; print(torch.version.cuda or "")')
[ -n "$CUDA_VERSION" ] || die "$PYTHON's torch $("$PYTHON" -c 'import torch; print(torch.__version__)') is a CPU build: install a CUDA one"
NVCC=$(command -v nvcc || true)
for c in "${CUDA_HOME:-}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
  [ -n "$NVCC" ] && break
  [ -x "$c" ] && NVCC=$c
done
[ -n "$NVCC" ] || die "nvcc not found (PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin): install the CUDA toolkit"
echo "torch $("$PYTHON" -c 'import torch; print(torch.__version__)') (CUDA $CUDA_VERSION) from $PREFIX"
echo "nvcc: $NVCC ($("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"

mkdir -p "$BUILD"
LOGS=$BUILD/check-logs
mkdir -p "$LOGS"
GEN=()
command -v ninja >/dev/null && [ ! -f "$BUILD/Makefile" ] && GEN=(-G Ninja)
start=$(date +%s)
cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_CUDA_COMPILER="$NVCC" >"$LOGS/configure.log" 2>&1 || { tail -40 "$LOGS/configure.log"; die "configure failed ($LOGS/configure.log)"; }
grep "seva: multi-process" "$LOGS/configure.log" || true
grep -q "define SEVA_HAS_NCCL 1" "$BUILD/generated/seva_features.h" ||
  die "configured without NCCL: set NCCL_INCLUDE_DIR to a directory with nccl.h (or pip install nvidia-nccl-cu${CUDA_VERSION%%.*}) and rerun"
configured=$(date +%s)
cmake --build "$BUILD" -j "$JOBS" --target seva seva_tests >"$LOGS/build.log" 2>&1 ||
  { grep -E "error|Error" "$LOGS/build.log" | head -40; die "build failed ($LOGS/build.log)"; }
built=$(date +%s)
echo "configure: $((configured - start)) s, build: $((built - configured)) s (-j $JOBS)"
[ "${NO_TESTS:-0}" = 1 ] && exit 0

# The suite on the CPU: a GPU machine runs scripts/gpu-check.sh instead.
status=0
(cd "$BUILD" && CUDA_VISIBLE_DEVICES= ctest -j "$JOBS" --timeout 600 --output-on-failure >"$LOGS/ctest.log" 2>&1) || status=$?
grep -E "tests passed|tests failed" "$LOGS/ctest.log" || tail -20 "$LOGS/ctest.log"
grep -E "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(Failed|Timeout|Exception)" "$LOGS/ctest.log" | head -40 || true
# Skipped tests with their reasons (gtest prints the reason on the line before "[  SKIPPED ]").
skips=$(grep -h -B1 "^\[  SKIPPED \] [A-Za-z_0-9]*\.[A-Za-z_0-9]* (" "$BUILD"/Testing/Temporary/LastTest*.log 2>/dev/null |
  awk '/^\[  SKIPPED \]/ { sub(/ \(.*/, "", $4); print "  skipped " $4 ": " prev } { prev = $0 }' | sort -u)
[ -n "$skips" ] && echo "$skips"
echo "logs: $LOGS"
exit $status
