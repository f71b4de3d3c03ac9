#!/usr/bin/env bash
# taskid's daemon against redis-server, both durable before the reply, driven by the same
# closed-loop C client (scripts/bench-client.c: C connections, one request in flight each,
# every reply checked and timed): taskid `reserve SEC 1` vs Redis `INCR` with appendonly yes +
# appendfsync always (everysec as a reference row, not durable per reply), and taskid with a
# fresh idempotency key on every request. Rounds are interleaved (every target at every
# connection count, then the next round); medians of the rounds are printed. Per row: req/s,
# latency p50/p99/p99.9, server CPU us/request (/proc/PID/stat), IDs per persist (taskid's
# stats), daemon RSS (and, per daemon, 12 s after the last row); per daemon: the time from the launcher's start to its first answer; per round: the bare durable step (write tmp + fsync + rename + fsync
# dir) in the same directory, and the load average. At the end taskid's counter must equal
# the number of ok replies it gave (no lost or extra IDs).
#
#   scripts/bench-redis.sh [--quick] [--seconds N] [--rounds N] [--connections 1,8,64,256]
#                          [--before JAR]     (also run the daemon jar JAR as "taskid-before", and
#                                              with a key on every request as "taskid-before-key")
#                          [--also NAME OPTS] (also run this daemon as NAME, with the JVM options
#                                              OPTS appended to the launcher's: an A/B of flags)
#
# --quick: 2 s per row. State lives under daemon/target/bench-redis (the repository's disk).
# Installs redis-server from the distribution's packages when it is missing (needs root).
set -euo pipefail
seconds=10 rounds=3 connections=1,8,64,256 before=
also=() also_opts=()
while (( $# )); do
    case $1 in
        --quick) seconds=2 ;;
        --seconds) seconds=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --connections) connections=$2; shift ;;
        --before) before=$(readlink -f "$2"); shift ;;
        --also) also+=("$2"); also_opts+=("$3"); shift 2 ;;
        *) echo "usage: $0 [--quick] [--seconds N] [--rounds N] [--connections LIST] [--before JAR] [--also NAME OPTS]" >&2; exit 2 ;;
    esac
    shift
done
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
if ! command -v redis-server >/dev/null; then
    echo "installing redis-server ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2; }
fi
mvn -B -q -o package -DskipTests -pl cli,daemon -am >&2
work=$root/daemon/target/bench-redis
rm -rf "$work"
mkdir -p "$work"
gcc -O2 -Wall -o "$work/client" scripts/bench-client.c
client=$work/client
tck=$(getconf CLK_TCK)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
await_socket() { for _ in $(seq 300); do [[ -S $1 ]] && return 0; sleep 0.1; done; echo "no socket $1" >&2; exit 1; }
stat_field() { grep -o "\"$2\":[0-9.]*" <<<"$1" | head -1 | cut -d: -f2; }

declare -A sock pid ready archived
start_taskid() { # name launcher [extra JVM options]
    local dir=$work/$1/.taskid
    mkdir -p "$work/$1/.git" "$dir"
    # The daemon's start-up archive is made once per jar (a training run at the first start
    # after a build): made here, untimed, so that "first answer" is every later start's.
    local t0; t0=$(date +%s%N)
    TASKID_NO_BUILD=1 "$2" daemon --help >/dev/null 2>&1
    archived[$1]=$(( ($(date +%s%N) - t0) / 1000000 ))
    t0=$(date +%s%N)
    TASKID_NO_BUILD=1 TASKID_DAEMON_JAVA_OPTS=${3-} "$2" daemon --dir "$dir" 2>"$work/$1.log" &
    pid[$1]=$!; pids+=($!)
    sock[$1]=$dir/daemon.sock
    until "$client" call "${sock[$1]}" '{"op":"ping"}' 2>/dev/null | grep -q '"ok":true'; do
        kill -0 "${pid[$1]}" 2>/dev/null || { echo "daemon $1 exited: see $work/$1.log" >&2; exit 1; }
        sleep 0.005
    done
    # from the launcher's start to the first answer, and the CPU the JVM spent to get there
    ready[$1]="$(( ($(date +%s%N) - t0) / 1000000 )) ms (JVM CPU $(( $(cpu_ticks "${pid[$1]}") * 1000 / tck )) ms; load $(cut -d' ' -f1 /proc/loadavg))"
}
start_redis() { # name fsync-policy
    local dir=$work/$1
    mkdir -p "$dir"
    redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
        --appendonly yes --appendfsync "$2" --save "" --daemonize no --logfile "$dir/redis.log" &
    pid[$1]=$!; pids+=($!)
    sock[$1]=$dir/redis.sock
    await_socket "${sock[$1]}"
}

targets=(taskid redis-always redis-everysec taskid-key)
start_taskid taskid "$root/taskid"
start_taskid taskid-key "$root/taskid"
if [[ -n $before ]]; then
    mkdir -p "$work/dist/bin" "$work/dist/lib"
    cp "$root/taskid" "$work/dist/bin/taskid"
    cp "$before" "$work/dist/lib/taskid-daemon.jar"
    cp "$root/cli/target/taskid-cli.jar" "$work/dist/lib/"
    start_taskid taskid-before "$work/dist/bin/taskid"
    start_taskid taskid-before-key "$work/dist/bin/taskid"
    targets=(taskid-before "${targets[@]}" taskid-before-key)
fi
for i in "${!also[@]}"; do
    start_taskid "${also[$i]}" "$root/taskid" "${also_opts[$i]}"
    targets=("${targets[0]}" "${also[$i]}" "${targets[@]:1}")
done
start_redis redis-always always
start_redis redis-everysec everysec

echo "machine: $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), $(redis-server --version | cut -d' ' -f1-3)"
echo "state: $work ($(df -T "$work" | awk 'NR==2 {print $2}')); $seconds s per row, $rounds rounds"
for t in "${targets[@]}"; do
    if [[ -n ${ready[$t]-} ]]; then
        echo "$t: first answer ${ready[$t]} after the launcher started (untimed before it: 'taskid daemon --help', which makes the start-up archive when missing, ${archived[$t]} ms)"
    fi
done
rows=$work/rows.tsv
: >"$rows"
declare -A okreplies
for round in $(seq "$rounds"); do
    floor=$("$client" floor "$work" 200)
    echo "round $round: load $(cut -d' ' -f1-3 /proc/loadavg); durable-step floor ${floor} us (median of 200)"
    for c in ${connections//,/ }; do
        for t in "${targets[@]}"; do
            mode=taskid; [[ $t == redis* ]] && mode=redis; [[ $t == *-key ]] && mode=taskid-key
            before_stats=; [[ $mode != redis ]] && before_stats=$("$client" call "${sock[$t]}" '{"op":"stats"}')
            cpu0=$(cpu_ticks "${pid[$t]}")
            read -r replies ok errors secs rps p50 p99 p999 < <("$client" "$mode" "${sock[$t]}" "$c" "$seconds")
            cpu1=$(cpu_ticks "${pid[$t]}")
            okreplies[$t]=$(( ${okreplies[$t]:-0} + ok ))
            cpu_us=$(awk -v d=$((cpu1 - cpu0)) -v t="$tck" -v n="$replies" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
            per_persist=-
            if [[ $mode != redis ]]; then
                after_stats=$("$client" call "${sock[$t]}" '{"op":"stats"}')
                p0=$(stat_field "$before_stats" persists); p1=$(stat_field "$after_stats" persists)
                i0=$(stat_field "$before_stats" idsAllocated); i1=$(stat_field "$after_stats" idsAllocated)
                per_persist=$(awk -v i=$((i1 - i0)) -v p=$((p1 - p0)) 'BEGIN {printf "%.1f", p ? i / p : 0}')
            fi
            rss=$(( $(rss_kib "${pid[$t]}") / 1024 ))
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$t" "$c" "$rps" "$p50" "$p99" "$p999" \
                "$cpu_us" "$per_persist" "$rss" "$errors" "$floor" >>"$rows"
        done
    done
    echo "round $round done: load $(cut -d' ' -f1-3 /proc/loadavg)"
done

echo
echo "medians of $rounds rounds (ratio: req/s / redis-always req/s at the same connections)"
printf '| target | conns | req/s | ratio | p50 ms | p99 ms | p99.9 ms | CPU us/req | IDs/persist | RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|\n'
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
for c in ${connections//,/ }; do
    redis_rps=$(awk -F'\t' -v c="$c" '$2 == "redis-always" && $3 == c {print $4}' "$rows" | median)
    for t in "${targets[@]}"; do
        col() { awk -F'\t' -v t="$t" -v c="$c" -v k="$1" '$2 == t && $3 == c {print $k}' "$rows" | median; }
        rps=$(col 4)
        printf '| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s |\n' "$t" "$c" "$rps" \
            "$(awk -v a="$rps" -v b="$redis_rps" 'BEGIN {print b ? a / b : 0}')" \
            "$(awk -v v="$(col 5)" 'BEGIN {print v / 1000}')" "$(awk -v v="$(col 6)" 'BEGIN {print v / 1000}')" \
            "$(awk -v v="$(col 7)" 'BEGIN {print v / 1000}')" "$(col 8)" "$(col 9)" "$(col 10)"
    done
done
echo "durable-step floor: median $(cut -f12 "$rows" | median) us; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
# The RSS column is taken right after each row, while C2 may still be compiling what the row
# made hot (its arenas: up to ~16 MiB for one compilation); what a warmed-up daemon holds is
# this, 12 s after the last row (the JVM frees pooled arenas every 5 s, then trims the C heap).
sleep 12
for t in "${targets[@]}"; do
    [[ $t == redis* ]] && continue
    echo "$t: RSS $(( $(rss_kib "${pid[$t]}") / 1024 )) MiB 12 s after the last row (peak $(( $(awk '/^VmHWM:/ {print $2}' "/proc/${pid[$t]}/status") / 1024 )) MiB)"
done
status=0
for t in "${targets[@]}"; do
    [[ $t == redis* ]] && continue
    counter=$("$client" call "${sock[$t]}" '{"op":"peek","prefix":"SEC"}' | grep -o '"SEC":[0-9]*' | cut -d: -f2)
    if [[ $counter == "${okreplies[$t]}" ]]; then
        echo "$t: counter SEC = $counter = ok replies: no lost or extra IDs"
    else
        echo "$t: counter SEC = $counter but $t gave ${okreplies[$t]} ok replies" >&2
        status=1
    fi
done
exit $status
