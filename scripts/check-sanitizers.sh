#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (with leak checking) + UndefinedBehaviorSanitizer:
# configures a separate build directory with SEVA_SANITIZE=ON, builds `seva` and `seva_tests`, and
# runs ctest. The multi-process tests run there too: each rank is an instrumented `seva`.
# Run it before submitting a change to io/, image/, text/, model/ or dist/ (about an hour on 2
# cores; the build is most of it).
#
#   scripts/check-sanitizers.sh [BUILD_DIR] [CTEST_ARGS...]     default /tmp/build-asan
#
# JOBS  parallel compile and test jobs (default: nproc)
# A sanitizer report makes the test fail; its log holds the report (ctest --output-on-failure).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-/tmp/build-asan}
shift || true
JOBS=${JOBS:-$(nproc)}

mkdir -p "$BUILD"
start=$(date +%s)
cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DSEVA_SANITIZE=ON >"$BUILD/configure.log" 2>&1 || { tail -30 "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target seva seva_tests >"$BUILD/build.log" 2>&1 ||
  { grep -E "error" "$BUILD/build.log" | head -30; echo "check-sanitizers: build failed ($BUILD/build.log)" >&2; exit 1; }
built=$(date +%s)
echo "build: $((built - start)) s (-j $JOBS)"

# Leaks: what libtorch and the system libraries keep for the process's life (thread pools, op
# registries) is suppressed by library in scripts/lsan.supp; seva's own code is not.
# detect_odr_violation=0: libtorch's and seva's copies of inline globals from shared headers.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_odr_violation=0:abort_on_error=0:strict_string_checks=1:check_initialization_order=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
(cd "$BUILD" && ctest -j "$JOBS" --timeout 1200 --output-on-failure "$@" >"$BUILD/ctest.log" 2>&1) || status=$?
echo "tests: $(( $(date +%s) - built )) s"
grep -E "tests passed|tests failed" "$BUILD/ctest.log" || tail -20 "$BUILD/ctest.log"
grep -E "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(Failed|Timeout|Exception)" "$BUILD/ctest.log" | head -40 || true
grep -m5 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$BUILD/ctest.log" || true
[ "$status" -eq 0 ] && echo "check-sanitizers: the suite passes under ASan + UBSan" ||
  echo "check-sanitizers: failures above; full log $BUILD/ctest.log" >&2
exit "$status"
