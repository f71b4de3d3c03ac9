#!/usr/bin/env bash
# File-lock mode (no daemon) benchmark of the taskid CLI, run the way users run it (./taskid).
#
#   scripts/bench-filelock.sh [RUNS] [AGENTS] [CALLS] [LOCK_TIMEOUT_MS]   defaults: 30 50 20 (config's: 5000)
#
# 1. RUNS sequential `taskid reserve SEC` calls in a fresh repository: median and p90 wall time.
# 2. AGENTS concurrent shell loops, each making CALLS `taskid reserve SEC` calls (one ID each),
#    released together: wall time, IDs handed out, duplicates (must be 0), gaps, failed calls
#    by error code, lock waits (p50/p99/max, from --verbose's lockWaitMs), final counter. Lock timeout: the default (5 s, as seed 000's) unless given.
# Each phase runs in its own temporary repository (a directory with .git) where no daemon
# runs; everything is removed on exit. Every call is bounded by `timeout`. Needs bash,
# coreutils, flock(1) (only for the start barrier) and what ./taskid needs (JDK 17+, Maven).
set -euo pipefail

runs=${1:-30}
agents=${2:-50}
calls=${3:-20}
lock_opts=()
[[ -n ${4:-} ]] && lock_opts=(--lock-timeout "$4")
call_timeout=120

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
taskid=$root/taskid
work=$(mktemp -d "${TMPDIR:-/tmp}/taskid-bench-filelock.XXXXXX")
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
# percentile P of the numbers on stdin (nearest rank)
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'; }

# Build (first use) and make the start-up archive outside the measurement.
"$taskid" --version >/dev/null

# --- 1. one call at a time ----------------------------------------------------------------------
single=$work/single
mkdir -p "$single/.git"
cd "$single"
mode=$(timeout "$call_timeout" "$taskid" reserve SEC --verbose 2>/dev/null | grep -o '"mode":"[a-z]*"')
[[ $mode == '"mode":"fallback"' ]] || { echo "expected the file-lock mode, got $mode" >&2; exit 1; }
: >"$work/single.ns"
for ((i = 0; i < runs; i++)); do
    t0=$(now_ns)
    timeout "$call_timeout" "$taskid" reserve SEC >/dev/null
    t1=$(now_ns)
    echo $((t1 - t0)) >>"$work/single.ns"
done
median=$(pct 50 <"$work/single.ns")
p90=$(pct 90 <"$work/single.ns")
single_counter=$("$taskid" show SEC | awk '{ print $2 }')

# --- 2. AGENTS x CALLS at once ------------------------------------------------------------------
many=$work/many
mkdir -p "$many/.git" "$work/out"
cd "$many"
"$taskid" show SEC >/dev/null 2>&1   # first use creates the counters (no TASKS.md: all at 0) before the race
exec 9>"$work/barrier"
flock -x 9                        # agents wait on this until all are started
for ((a = 0; a < agents; a++)); do
    (
        flock -s "$work/barrier" true
        for ((i = 0; i < calls; i++)); do
            if ! timeout "$call_timeout" "$taskid" "${lock_opts[@]}" reserve SEC --verbose >>"$work/out/$a.out" 2>>"$work/out/$a.err"; then
                echo failed >>"$work/out/$a.failed"
            fi
        done
    ) &
done
t0=$(now_ns)
flock -u 9
wait
t1=$(now_ns)
exec 9>&-

shopt -s nullglob
cat /dev/null "$work"/out/*.out | { grep -o '"SEC-[0-9]*"' || true; } | tr -d '"' >"$work/ids"
handed=$(wc -l <"$work/ids")
dups=$(sort "$work/ids" | uniq -d | wc -l)
failed=$(cat /dev/null "$work"/out/*.failed | wc -l)
codes=$(cat /dev/null "$work"/out/*.err | { grep -o 'taskid: [A-Z_]*:' || true; } | sort | uniq -c | awk '{ printf "%s %s ", $3, $1 }')
highest=$(sed 's/SEC-//' "$work/ids" | sort -n | tail -1)
# --verbose: how long each successful call waited for the state lock
cat /dev/null "$work"/out/*.out | { grep -o '"lockWaitMs":[0-9]*' || true; } | cut -d: -f2 >"$work/waits"
wait_p50=$(pct 50 <"$work/waits")
wait_p99=$(pct 99 <"$work/waits")
wait_max=$(sort -n "$work/waits" | tail -1)
counter=$("$taskid" show SEC | awk '{ print $2 }')
gaps=$(( ${highest:-0} - handed ))

cat <<REPORT
machine: $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)

| measure | value |
|---|---|
| one \`taskid reserve SEC\`, median of $runs (ms) | $(ms "$median") |
| one \`taskid reserve SEC\`, p90 of $runs (ms) | $(ms "$p90") |
| $agents processes x $calls reservations${4:+ (--lock-timeout $4)}: wall time (s) | $(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }') |
| IDs handed out (of $((agents * calls))) | $handed |
| duplicates | $dups |
| gaps (highest number - IDs handed out) | $gaps |
| failed calls | $failed ${codes:+($codes)} |
| lock wait of the calls that got it, p50 / p99 / max (ms) | $wait_p50 / $wait_p99 / $wait_max |
| lock hand-overs per second (IDs handed out / wall time) | $(awk -v n="$handed" -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (ns / 1e9) }') |
| final counter | $counter |
REPORT
[[ $single_counter -eq $((runs + 1)) ]] || echo "warning: sequential phase counter $single_counter, expected $((runs + 1))" >&2
[[ $dups -eq 0 && $counter -eq $handed && $gaps -eq 0 ]]
