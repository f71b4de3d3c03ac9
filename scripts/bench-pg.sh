#!/usr/bin/env bash
# PostgreSQL backend benchmark, all rows in ONE run on one throwaway cluster (initdb as the
# postgres user, loopback port; every process this script starts is stopped by its pid):
#  1. one taskid daemon on the database, CONNECTIONS client connections (PgHostsBench, the
#     client loop of scripts/bench-daemon.sh's DaemonBench);
#  2. three daemons ("hosts", separate state dirs) on the SAME database, CONNECTIONS each, at once;
#  3. the anchor a user would pick instead: pgbench, CONNECTIONS clients, each transaction the
#     same `UPDATE ... SET n = n + 1 ... RETURNING n` on the same row;
#  each with requests/s, p50/p99, and the server's commits/s and rows written/s (pg_stat_database);
#  4. one `./taskid reserve SEC` (a JVM per call) through a daemon on PostgreSQL vs through a
#     local-mode daemon: hyperfine, ROUNDS rounds alternating the order (interleaved);
#  5. one database round trip (taskid doctor's median of 5; pgbench -c 1 `SELECT 1`).
# The load average is printed around every row: on a shared machine compare rows of one run only.
#
#   scripts/bench-pg.sh [SECONDS] [CONNECTIONS] [ROUNDS]      (defaults 10, 64, 5)
set -euo pipefail
seconds=${1:-10}
connections=${2:-64}
rounds=${3:-5}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "no PostgreSQL binaries: apt-get install postgresql" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "no hyperfine: apt-get install hyperfine" >&2; exit 1; }
mvn -B -q -o package -DskipTests -Djacoco.skip=true -pl cli,daemon,backend-postgres -am >&2
mvn -B -q -o test-compile -Djacoco.skip=true -pl backend-postgres -am >&2   # PgHostsBench, DaemonBench
work=$(mktemp -d)
chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --clear-groups "$bin/initdb" -D "$work/db" -U postgres \
    --auth=trust --no-sync >/dev/null
# a simple command: $! is then setpriv, which execs postgres, so the trap stops the server by its pid
setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --clear-groups "$bin/postgres" -D "$work/db" -p "$port" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$work" -c max_connections=200 >"$work/server.log" 2>&1 &
pg=$!
daemons=()
cleanup() {
    for d in "${daemons[@]}"; do kill -TERM "$d" 2>/dev/null || true; done
    for d in "${daemons[@]}"; do wait "$d" 2>/dev/null || true; done
    kill -INT "$pg" 2>/dev/null || true
    wait "$pg" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do sleep 0.2; done
url=postgresql://postgres@127.0.0.1:$port/postgres
jdbc="jdbc:postgresql://127.0.0.1:$port/postgres?user=postgres"
psql() { "$bin/psql" -qtA -h 127.0.0.1 -p "$port" -U postgres "$@" postgres; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# Three hosts' state dirs whose (committed) config names the database; one local-mode state dir.
for h in h1 h2 h3; do
    mkdir -p "$work/$h"
    printf '{"backend": {"url": "%s", "project": "bench"}}\n' "$url" >"$work/$h/config.json"
done
mkdir -p "$work/local"
"$root/taskid" --dir "$work/h1" backend init >&2
for d in h1 h2 h3 local; do
    "$root/taskid" daemon --dir "$work/$d" >"$work/$d.log" 2>&1 &   # the launcher execs the daemon's JVM
    daemons+=($!)
done
for d in h1 h2 h3 local; do
    for _ in $(seq 300); do "$root/taskid" --dir "$work/$d" daemon status >/dev/null 2>&1 && break; sleep 0.2; done
    "$root/taskid" --dir "$work/$d" daemon status >/dev/null || { cat "$work/$d.log" >&2; exit 1; }
done
server() { psql -c "SELECT xact_commit || ' ' || (tup_inserted + tup_updated + tup_deleted) FROM pg_stat_database WHERE datname = 'postgres'"; }
cp="$root/backend-postgres/target/test-classes:$root/daemon/target/test-classes:$root/cli/target/taskid-cli.jar"
cp+=":$root/backend-postgres/target/taskid-backend-postgres.jar"
hosts_bench() { java -XX:+UseSerialGC -cp "$cp" dev.taskid.daemon.PgHostsBench "$jdbc" "$seconds" "$connections" "$@"; }

echo "machine: $(nproc) cores, $(uname -r), PostgreSQL $("$bin/postgres" --version | awk '{print $3}'), load $(load)"
echo
echo "| $connections connections per client set, ${seconds} s | requests/s | p50 ms | p99 ms | commits/s on the server | rows written/s on the server | requests per commit |"
echo "|---|---|---|---|---|---|---|"
echo "load before: $(load)" >&2
hosts_bench "$work/h1"
echo "load: $(load)" >&2
hosts_bench "$work/h1" "$work/h2" "$work/h3"
echo "load: $(load)" >&2
printf "UPDATE taskid_counters SET n = n + 1 WHERE project = 'pgbench' AND prefix = 'SEC' RETURNING n;\n" >"$work/update.sql"
psql -c "INSERT INTO taskid_counters VALUES ('pgbench', 'SEC', 0)"
sleep 11   # every session's statistics flushed (an idle session reports its rest after 10 s), as PgHostsBench does
read -r c0 r0 < <(server)
"$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c "$connections" -j 2 -T "$seconds" -f "$work/update.sql" \
    -l --log-prefix="$work/pgb" postgres >"$work/pgbench.out" 2>&1
sleep 11
read -r c1 r1 < <(server)
cat "$work"/pgb.* | awk '{print $3}' | sort -n | \
    awk -v s="$seconds" -v c="$(( (c1 - c0) / seconds ))" -v r="$(( (r1 - r0) / seconds ))" -v n="$connections" \
    '{a[NR]=$1} END {printf "| pgbench, %d clients, same UPDATE ... RETURNING on one row | %d | %.1f | %.1f | %d | %d | 1 |\n", n, NR/s, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, c, r}'
echo "load after the throughput rows: $(load)" >&2

echo
echo "One \`./taskid reserve SEC\` (a JVM per call) through a daemon, $rounds hyperfine rounds of 10 runs, order alternating:"
for r in $(seq "$rounds"); do
    pgcmd="$root/taskid --dir $work/h1 reserve SEC"
    localcmd="$root/taskid --dir $work/local reserve SEC"
    if (( r % 2 )); then set -- -n "daemon on PostgreSQL" "$pgcmd" -n "daemon, local mode" "$localcmd"
    else set -- -n "daemon, local mode" "$localcmd" -n "daemon on PostgreSQL" "$pgcmd"; fi
    hyperfine -N --style none --warmup 2 --runs 10 --export-json "$work/hf$r.json" "$@" >/dev/null
done
python3 - "$work"/hf*.json <<'PY'
import json, statistics, sys
times = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
print("| ./taskid reserve SEC | median ms | p90 ms | runs |")
print("|---|---|---|---|")
for name, t in sorted(times.items()):
    t = sorted(t)
    print(f"| {name} | {1000 * statistics.median(t):.1f} | {1000 * t[int(len(t) * 0.9)]:.1f} | {len(t)} |")
PY
echo
trip=$("$root/taskid" --dir "$work/h1" doctor 2>/dev/null | grep -o 'backend-round-trip.*' | sed 's/backend-round-trip *//' || true)
printf 'SELECT 1;\n' >"$work/select.sql"
select1=$("$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c 1 -T 3 -f "$work/select.sql" postgres 2>&1 \
    | grep -o 'latency average = .*')
echo "one database round trip: taskid doctor ${trip:-?}; pgbench -c 1 SELECT 1 ${select1}"
echo "load after: $(load)"
