#!/usr/bin/env bash
# kill -9 at many points of a whole SeVa run, then the same command again until it finishes: its
# files must equal an uninterrupted run's. The run is `seva demo --quick --from-scratch`, which
# runs seva init, sft (the base's stages), eval, sample, generate, pair, train and eval again as
# separate commands, so the kills land inside every one of them and inside the demo's own steps.
# Odd kills hit the whole process group (what a scheduler does), even ones only the demo process
# (its running command must die with it, not keep writing beside the rerun).
#
#   scripts/check-kill-resume.sh [WORK_DIR]          default /tmp/seva-kill-resume
#
# SEVA   the binary (default: build/seva)     KILLS  how many kills (default 24)
# SEED   seed of the kill points (default 1)    The uninterrupted run in WORK_DIR/ref is reused.
# COMPARE_ONLY=1  compare WORK_DIR/ref and WORK_DIR/run as they are
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SEVA=$(realpath "${SEVA:-$root/build/seva}")
WORK=${1:-/tmp/seva-kill-resume}
KILLS=${KILLS:-24}
RANDOM=${SEED:-1}
# The quick from-scratch base is weak: its chosen answers rarely reach the default probability
# floor of seva pair, so the floor is off and training has pairs to train on.
demo=("$SEVA" demo --quick --from-scratch --threads 1 --min-chosen-prob 0)
mkdir -p "$WORK"

# Both runs write into WORK_DIR/run, so that the paths files record are the same; the
# uninterrupted one is then moved to WORK_DIR/ref.
run=$WORK/run
if [ ! -f "$WORK/ref/summary.json" ]; then
  rm -rf "$run" "$WORK/ref"
  start=$(date +%s.%N)
  "${demo[@]}" --out "$run" >"$WORK/ref.log" 2>&1 || { tail -5 "$WORK/ref.log"; exit 1; }
  echo "$(date +%s.%N) - $start" | bc >"$WORK/ref.seconds"
  mv "$run" "$WORK/ref"
fi
total=$(cat "$WORK/ref.seconds")
echo "uninterrupted run: ${total} s"

# The phases in order, with their uninterrupted times (from the done-markers).
labels=() seconds=()
while read -r label; do
  marker=$(grep -lF "\"phase\": \"$label\"" "$WORK/ref/.done/"* | head -1)
  labels+=("$label")
  seconds+=("$(grep -o '"seconds": [0-9.]*' "$marker" | grep -o '[0-9.]*$')")
done < <(grep "^seva demo: \[" "$WORK/ref.log" | sed 's/^seva demo: \[\(.*\)\]$/\1/')

if [ "${COMPARE_ONLY:-0}" != 1 ]; then
# The index of the last phase an attempt's log has started (-1: none yet).
reached() {
  local last j
  last=$(grep "^seva demo: \[" "$1" | tail -1 | sed 's/^seva demo: \[\(.*\)\]$/\1/')
  for ((j = ${#labels[@]} - 1; j >= 0; j--)); do [ "${labels[$j]}" = "$last" ] && break; done
  echo "$j"
}

# KILLS kills spread over the phases, about the same number in each: an attempt waits until the
# phase to hit has started in it (when that phase has finished meanwhile, the one it is in is hit
# instead), then kills at a random point of that phase's uninterrupted time, or as the next phase
# starts if it ends before.
rm -rf "$run"
: >"$WORK/kills.log" && : >"$run.log"
per=$(((KILLS + ${#labels[@]} - 1) / ${#labels[@]}))
i=0 p=0 hits=0
while ((i < KILLS && p < ${#labels[@]})); do
  attempt=$WORK/attempt.log
  setsid "${demo[@]}" --out "$run" >"$attempt" 2>&1 &
  pid=$!
  until ! kill -0 "$pid" 2>/dev/null || (($(reached "$attempt") >= p)); do sleep 0.05; done
  q=$(reached "$attempt")
  ((q > p)) && p=$q hits=0
  label=${labels[$p]}
  ms=$(echo "${seconds[$p]} * 1000 * $RANDOM / 32768" | bc)
  # Until that point, or until the phase ends (then the kill lands as the next one starts).
  deadline=$(($(date +%s%3N) + ms))
  while (($(date +%s%3N) < deadline)) && kill -0 "$pid" 2>/dev/null && (($(reached "$attempt") <= p)); do
    sleep 0.05
  done
  cat "$attempt" >>"$run.log"
  i=$((i + 1)) hits=$((hits + 1))
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || { echo "attempt $i failed:"; tail -5 "$attempt"; exit 1; }
    echo "kill $i: none, the run had finished" | tee -a "$WORK/kills.log"
    break
  fi
  if ((i % 2)); then kill -9 -- "-$pid"; what="group"; else kill -9 "$pid"; what="demo only"; fi
  wait "$pid" 2>/dev/null || true
  # Whatever the demo had started must be gone before the rerun.
  for ((t = 0; t < 50; t++)); do pgrep -f -- "$run" >/dev/null || break; sleep 0.1; done
  if pgrep -f -- "$run" >/dev/null; then
    echo "kill $i: a child of the killed demo is still running:" | tee -a "$WORK/kills.log"
    pgrep -af -- "$run" | tee -a "$WORK/kills.log"
    exit 1
  fi
  now=$(grep "^seva demo: \[" "$attempt" | tail -1 | sed 's/^seva demo: \[\(.*\)\]$/\1/')
  echo "kill $i ($what) ${ms} ms into [$label], in [$now]" | tee -a "$WORK/kills.log"
  ((hits >= per)) && p=$((p + 1)) hits=0
done
"${demo[@]}" --out "$run" >>"$run.log" 2>&1 || { tail -5 "$run.log"; exit 1; }
fi

# The run's files, but what records times, pids and logs (reports, phase markers, locks, logs).
# A reference-cache file is named by a hash that covers its model's mtime: HASH stands for it.
# optimizer.pt is left out: libtorch names each parameter's state in it by the tensor's address,
# so two processes never write the same bytes (the weights beside it are compared).
compare() {
  (cd "$1" && find . -type f ! -path './logs/*' ! -path './.done/*' ! -name 'report*' ! -name 'summary*' \
    ! -name '*.log' ! -name .seva.lock ! -name optimizer.pt |
    sed -E 's/ref_logps\.[0-9a-f]+\./ref_logps.HASH./' | sort)
}
real_path() { compgen -G "$1/$(echo "$2" | sed 's/HASH/*/')" | head -1; }
diff <(compare "$WORK/ref") <(compare "$run") >"$WORK/file-lists.diff" ||
  { echo "the killed run's files are not the uninterrupted run's:"; head -20 "$WORK/file-lists.diff"; exit 1; }
n=0 bad=0
strip='s/"(seconds|pairs_per_s|tokens_per_s|examples_per_s|mtime_ns)":[-0-9.e+]*,?//g'
while read -r f; do
  n=$((n + 1))
  a=$(real_path "$WORK/ref" "$f") b=$(real_path "$run" "$f")
  cmp -s "$a" "$b" && continue
  case "$f" in
    *.json | *.jsonl)  # times, speeds, file times
      cmp -s <(sed -E "$strip" "$a") <(sed -E "$strip" "$b") && continue ;;
  esac
  echo "differs: $f"
  bad=$((bad + 1))
done < <(compare "$WORK/ref")
echo "$(grep -c '^kill [0-9]* (' "$WORK/kills.log") kills; $n files compared, $bad differ"
[ "$bad" -eq 0 ]
