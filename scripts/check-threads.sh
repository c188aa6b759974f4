#!/usr/bin/env bash
# seva's own threads under ThreadSanitizer: the world writer's worker pool and one tokenizer shared
# by several threads (tests/test_threads.cpp), built without libtorch (SEVA_TSAN=ON) into
# seva_thread_tests. A data race, a lock-order inversion or a thread leak fails it. A few minutes on
# 2 cores. The data-parallel code is one thread per process (c10d's threads are libtorch's own);
# scripts/check-sanitizers.sh runs its multi-process tests under ASan + UBSan.
#
#   scripts/check-threads.sh [BUILD_DIR] [GTEST_ARGS...]     default /tmp/build-tsan
#
# JOBS  parallel compile jobs (default: nproc)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-/tmp/build-tsan}
shift || true
JOBS=${JOBS:-$(nproc)}

mkdir -p "$BUILD"
cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DSEVA_TSAN=ON >"$BUILD/configure.log" 2>&1 || { tail -30 "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target seva_thread_tests >"$BUILD/build.log" 2>&1 ||
  { grep -E "error" "$BUILD/build.log" | head -30; echo "check-threads: build failed ($BUILD/build.log)" >&2; exit 1; }

# The sentencepiece shim is not instrumented; TSan sees its allocations, not its accesses.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:report_thread_leaks=1}
status=0
"$BUILD/seva_thread_tests" "$@" >"$BUILD/test.log" 2>&1 || status=$?
grep -E "^\[  (PASSED|FAILED) " "$BUILD/test.log" || tail -20 "$BUILD/test.log"
grep -m5 -E "WARNING: ThreadSanitizer|SUMMARY: ThreadSanitizer" "$BUILD/test.log" || true
[ "$status" -eq 0 ] && echo "check-threads: no data race under ThreadSanitizer" ||
  echo "check-threads: failures above; full log $BUILD/test.log" >&2
exit "$status"
