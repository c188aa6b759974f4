# Sourced by bench/gpu/run.sh and bench/gpu/demo.sh after they set OUT_DEFAULT: goes to the repo
# root, makes $OUT (default $OUT_DEFAULT), defines `el` (elapsed-time log lines), finds the pip
# torch, records the machine in $OUT/env.txt, unpacks the carried .debs for what the machine lacks,
# and sets PY, PREFIX, EXTRA, CUDNN_ARGS, GEN and KEEP for configure_seva below.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$OUT_DEFAULT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }

PY=${PYTHON:-python3}
if ! "$PY" -c 'import torch' 2>/dev/null && [ -x /opt/torch/.venv/bin/python ]; then PY=/opt/torch/.venv/bin/python; fi
PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)') || { echo "no python torch"; exit 1; }
el "torch: $("$PY" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name())')"
NPROC=$(nproc)

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
has_header unicode/uchar.h || missing="$missing libicu-dev libicu72"
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
    [ -e "$pc" ] && sed -i -E "s|^prefix *= */usr\$|prefix=$DEPS/usr|" "$pc"
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

GEN="-G Ninja" KEEP="-k 0"  # keep going past a failed file
command -v ninja >/dev/null || { GEN="" KEEP="-k"; }

# configure_seva: build-cuda, the CLI only; again without the c10d probe (multi-process runs) if
# that probe cannot be configured against this libtorch.
configure_seva() {
  # shellcheck disable=SC2086
  cmake -S . -B build-cuda $GEN -DCMAKE_BUILD_TYPE=Release -DSEVA_BUILD_TESTS=OFF $CUDNN_ARGS \
    -DCMAKE_PREFIX_PATH="$PREFIX$EXTRA" >"$OUT/cmake.log" 2>&1 && return 0
  el "configure failed; again without the c10d probe"; rm -rf build-cuda/CMakeCache.txt build-cuda/CMakeFiles
  # shellcheck disable=SC2086
  cmake -S . -B build-cuda $GEN -DCMAKE_BUILD_TYPE=Release -DSEVA_BUILD_TESTS=OFF -DSEVA_HAS_C10D=OFF $CUDNN_ARGS \
    -DCMAKE_PREFIX_PATH="$PREFIX$EXTRA" >>"$OUT/cmake.log" 2>&1
}
