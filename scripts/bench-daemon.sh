#!/usr/bin/env bash
# Daemon benchmark: a daemon started by ./taskid (its own JVM flags) driven through the client
# library over the Unix socket by 1, 8 and 64 connections (one thread and one reservation in
# flight each), SECONDS measured per row after a 2 s warm-up: reservations/s, client-side
# p50/p99/max latency, persists/s, mean batch and persist p50 (from the daemon's stats), daemon
# RSS and peak RSS (/proc/PID/status). Then `./taskid reserve SEC` per call (a JVM each) via
# the daemon and in file-lock mode, interleaved. Every batch is fsynced: nothing is tuned off.
#
#   scripts/bench-daemon.sh [SECONDS] [CONNECTIONS] [CLI_RUNS]     (defaults 10, 1,8,64, 31)
#
# State lives under daemon/target/bench-daemon (the repository's disk, as in real use).
set -euo pipefail
seconds=${1:-10}
connections=${2:-1,8,64}
runs=${3:-31}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
mvn -B -q -o package -DskipTests -pl cli,daemon -am >&2
work=$root/daemon/target/bench-daemon
rm -rf "$work"
mkdir -p "$work"
# The package step rewrote the jar, so the CLI's start-up archive is stale: make it now, with
# one untimed call, so that no timed call pays for it (users run with the archive).
TASKID_NO_BUILD=1 "$root/taskid" --dir "$work/warm-up" reserve SEC >/dev/null
echo "machine: $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
TASKID_NO_BUILD=1 java -XX:+UseSerialGC -cp "$root/daemon/target/test-classes:$root/daemon/target/taskid-daemon.jar" \
    dev.taskid.daemon.DaemonBench "$root/taskid" "$work" "$seconds" "$connections" "$runs"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
