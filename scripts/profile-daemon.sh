#!/usr/bin/env bash
# Where one taskid daemon's CPU goes under load: starts the daemon through a launcher (./taskid
# by default), waits for its first answer, warms it up with scripts/bench-client.c, then drives it
# for SECONDS at CONNECTIONS and prints req/s, latency, server CPU us/request, RSS, and CPU
# us/request per thread (user and kernel: the event loop, the persist thread, GC, JIT...), from
# /proc/PID/task/*/stat. Optionally records perf (PERF=1; kernel frames, and JIT frames through
# `jcmd Compiler.perfmap`; add -XX:+PreserveFramePointer to OPTS for Java call graphs) or dumps a
# JFR recording started with OPTS="-XX:StartFlightRecording=name=p,settings=profile" (JFR=1).
#
#   scripts/profile-daemon.sh [--launcher PATH] [--mode taskid|taskid-key] [--warm S] CONNECTIONS SECONDS [OPTS]
#
# Output under daemon/target/profile (perf.data, rec.jfr, the daemon's log).
set -euo pipefail
launcher= mode=taskid warm=10
while [[ ${1-} == --* ]]; do
    case $1 in
        --launcher) launcher=$(readlink -f "$2"); shift ;;
        --mode) mode=$2; shift ;;
        --warm) warm=$2; shift ;;
        *) echo "usage: $0 [--launcher PATH] [--mode taskid|taskid-key] [--warm S] CONNECTIONS SECONDS [OPTS]" >&2; exit 2 ;;
    esac
    shift
done
conns=$1 secs=$2 opts=${3-}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
launcher=${launcher:-$root/taskid}
w=$root/daemon/target/profile
rm -rf "$w"
mkdir -p "$w/repo/.git" "$w/repo/.taskid"
gcc -O2 -Wall -o "$w/client" "$root/scripts/bench-client.c"
client=$w/client sock=$w/repo/.taskid/daemon.sock tck=$(getconf CLK_TCK)
t0=$(date +%s%N)
TASKID_NO_BUILD=1 TASKID_DAEMON_JAVA_OPTS=$opts "$launcher" daemon --dir "$w/repo/.taskid" 2>"$w/daemon.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until "$client" call "$sock" '{"op":"ping"}' 2>/dev/null | grep -q '"ok":true'; do
    kill -0 $pid 2>/dev/null || { echo "the daemon exited: see $w/daemon.log" >&2; exit 1; }
    sleep 0.005
done
echo "first answer $(( ($(date +%s%N) - t0) / 1000000 )) ms after the start; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$client" "$mode" "$sock" "$conns" "$warm" >/dev/null
threads() { for t in /proc/$pid/task/*; do echo "${t##*/} $(tr ' ' _ <"$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{print $12, $13}')"; done; }
threads >"$w/threads0"; c0=$(awk '{print $14 + $15}' /proc/$pid/stat)
[[ -n ${PERF-} ]] && { perf record -F "${FREQ:-999}" -g -p $pid -o "$w/perf.data" -- sleep "$secs" 2>"$w/perf.log" & perfpid=$!; }
read -r replies _ errors _ rps p50 p99 _ < <("$client" "$mode" "$sock" "$conns" "$secs")
threads >"$w/threads1"; c1=$(awk '{print $14 + $15}' /proc/$pid/stat)
us() { awk -v d="$1" -v n="$replies" -v t="$tck" 'BEGIN {printf "%.1f", d * 1e6 / t / n}'; }
echo "$conns connections, $secs s: $rps req/s ($errors errors), p50 $p50 us, p99 $p99 us, server CPU $(us $((c1 - c0))) us/request, RSS $(awk '/^VmRSS/ {print int($2 / 1024)}' /proc/$pid/status) MiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU us/request by thread (user + kernel):"
awk -v n="$replies" -v t="$tck" 'FNR == NR {u[$1] = $3; s[$1] = $4; next}
    {g = $2; sub(/[0-9]+$/, "", g); U[g] += $3 - u[$1]; S[g] += $4 - s[$1]}
    END {for (g in U) if (U[g] + S[g] > 0) printf "  %-18s %7.2f + %7.2f\n", g, U[g] * 1e6 / t / n, S[g] * 1e6 / t / n}' \
    "$w/threads0" "$w/threads1" | sort -k2 -rn
if [[ -n ${perfpid-} ]]; then wait "$perfpid"; jcmd $pid Compiler.perfmap >/dev/null; echo "perf: $w/perf.data"; fi
if [[ -n ${JFR-} ]]; then jcmd $pid JFR.dump name=p filename="$w/rec.jfr" >/dev/null; echo "jfr: $w/rec.jfr"; fi
