#!/usr/bin/env bash
# PostgreSQL backend benchmark: one throwaway cluster (initdb as the postgres user, loopback
# port, stopped by pid at the end); one taskid daemon on it driven by CONNECTIONS client
# connections (DaemonBench, as scripts/bench-daemon.sh), against the anchor a user would pick
# instead: pgbench, CONNECTIONS clients, each transaction the same
# `UPDATE ... SET n = n + 1 ... RETURNING n` on the same row. Prints both, the server's
# transactions per second (pg_stat_database.xact_commit) and the load average.
#
#   scripts/bench-pg.sh [SECONDS] [CONNECTIONS]      (defaults 10, 64)
set -euo pipefail
seconds=${1:-10}
connections=${2:-64}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "no PostgreSQL binaries: apt-get install postgresql" >&2; exit 1; }
mvn -B -q -o package -DskipTests -pl cli,daemon,backend-postgres -am >&2
mvn -B -q -o test-compile -pl daemon -am >&2   # DaemonBench (the daemon benchmark's client)
work=$(mktemp -d)
chown postgres "$work"
as_pg() { setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --clear-groups "$@"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$bin/initdb" -D "$work/db" -U postgres --auth=trust --no-sync >/dev/null
# a simple command, not the function: $! is then setpriv, which execs postgres, so the trap stops the server
setpriv --reuid="$(id -u postgres)" --regid="$(id -g postgres)" --clear-groups "$bin/postgres" -D "$work/db" -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$work" \
    -c max_connections=200 >"$work/server.log" 2>&1 &
pg=$!
trap 'kill -INT $pg 2>/dev/null; wait $pg 2>/dev/null; rm -rf "$work"' EXIT
until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; do sleep 0.2; done
export TASKID_BACKEND=postgresql://postgres@127.0.0.1:$port/postgres TASKID_BACKEND_PROJECT=bench
state=$work/taskid
mkdir -p "$state"
java -jar cli/target/taskid-cli.jar --dir "$state" backend init >&2
commits() { "$bin/psql" -qtA -h 127.0.0.1 -p "$port" -U postgres -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'" postgres; }
echo "machine: $(nproc) cores, $(uname -r), PostgreSQL $("$bin/postgres" --version | awk '{print $3}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "### taskid: one daemon on PostgreSQL, $connections connections"
c0=$(commits)
TASKID_NO_BUILD=1 java -XX:+UseSerialGC -cp "$root/daemon/target/test-classes:$root/cli/target/taskid-cli.jar" \
    dev.taskid.daemon.DaemonBench "$root/taskid" "$state" "$seconds" "$connections" 1
c1=$(commits)
echo "server commits/s during the taskid run (incl. warm-up): $(( (c1 - c0) / (seconds + 2) ))"
echo "### pgbench: $connections clients, UPDATE ... SET n = n + 1 ... RETURNING n on one row"
printf "UPDATE taskid_counters SET n = n + 1 WHERE project = 'pgbench' AND prefix = 'SEC' RETURNING n;\n" >"$work/update.sql"
"$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "INSERT INTO taskid_counters VALUES ('pgbench', 'SEC', 0)" postgres
"$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c "$connections" -j 2 -T "$seconds" -f "$work/update.sql" \
    -r -P "$seconds" --progress-timestamp postgres 2>&1 | grep -E 'tps|latency|transactions'
"$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -c "$connections" -j 2 -T "$seconds" -f "$work/update.sql" \
    -l --log-prefix="$work/pgb" postgres >/dev/null 2>&1
cat "$work"/pgb* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "pgbench per-transaction latency: p50 %.2f ms, p99 %.2f ms (%d transactions)\n", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, NR}'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
