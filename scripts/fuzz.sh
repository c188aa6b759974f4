#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs each for SECONDS_PER_TARGET (default 60), then prints runs, execs/s, coverage and
# findings per target. Findings (crash-*, leak-*, timeout-*, oom-*, slow-unit-*) land in
# $BUILD/findings/<target>/; reproduce one with `$BUILD/<target> <file>`.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Environment: FUZZ_BUILD_DIR (default /tmp/build-fuzz), FUZZ_JOBS (build parallelism, default 1),
# FUZZ_RSS_MB (default 2048: the memory any one input may make a target use).
# Every run appends a line to $BUILD/ledger.tsv (date, target, wall s, CPU s, inputs, findings), so
# the CPU time each target has had adds up across runs on a shared machine.
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-/tmp/build-fuzz}
jobs=${FUZZ_JOBS:-1}
rss_mb=${FUZZ_RSS_MB:-2048}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DSEVA_FUZZ=ON -DSEVA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# Leaks are reported per input by libFuzzer; torch's lazily created pools are not leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0:allocator_may_return_null=1:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1

summary=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  log="$build/$t.log"
  echo "== $t: ${seconds}s" >&2
  set +e
  # The first corpus directory takes new inputs; fuzz/corpus/<target> (the seeds) stays as it is.
  # -malloc_limit_mb: no single allocation may exceed the RSS bound either.
  TIMEFORMAT='%R %U %S'
  { time "$build/$t" "$work" "$root/fuzz/corpus/$t" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" \
    -malloc_limit_mb="$rss_mb" -timeout=30 -print_final_stats=1 -artifact_prefix="$findings/" \
    >"$log" 2>&1; } 2>"$build/$t.time"
  rc=$?
  set -e
  read -r wall user sys <"$build/$t.time" || true
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  found=$(find "$findings" -type f | wc -l)
  cpu=$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')
  printf '%s\t%s\t%.0f\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "${wall:-0}" "$cpu" "${runs:-0}" "$found" \
    >>"$build/ledger.tsv"
  line=$(printf '%-26s runs %-9s execs/s %-6s cpu %-6ss %-20s findings %s (exit %s)' "$t" "${runs:-?}" \
    "${speed:-?}" "$cpu" "${cov:-cov: ?}" "$found" "$rc")
  summary+=("$line")
  echo "$line" >&2
  if [ "$rc" -ne 0 ]; then
    grep -m1 -E 'ERROR: |runtime error|==[0-9]+==' "$log" >&2 || true
    echo "   log: $log; input: $(ls -t "$findings" | head -1)" >&2
  fi
done
echo
printf '%s\n' "${summary[@]}"
