#!/usr/bin/env bash
# Shims and MCP benchmark (docs/BENCHMARKS.md, section "Shims and MCP"):
#  1. bench/shims-bench.js: the claude shim through the daemon vs the original-style seed script
#     (bench/seed-style/: lock file + tmp + rename, in Node), one call at a time (median of RUNS,
#     interleaved), then CALLERS concurrent callers x PER calls each: wall time, duplicates;
#  2. bench/mcp-initialize.py: `taskid mcp` start-up and per-call latency of tools/call
#     reserve_task_ids, in the file-lock mode and with a daemon running.
#
#   scripts/bench-shims.sh [RUNS] [CALLERS] [PER]      (defaults 30 50 20; needs node and python3)
#
# Builds the jars first if they are missing (offline Maven); never during the measurement.
set -euo pipefail
runs=${1:-30}
callers=${2:-50}
per=${3:-20}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
jar=$root/cli/target/taskid-cli.jar
if [[ ! -f $jar || ! -f $root/daemon/target/taskid-daemon.jar ]]; then
    (cd "$root" && mvn -B -q -o package -DskipTests)
fi
export TASKID_NO_BUILD=1

echo "# $(nproc) cores, $(uname -sr), $(java -version 2>&1 | head -1), node $(node --version), $(date -u +%FT%TZ)"
node "$root/bench/shims-bench.js" --runs "$runs" --callers "$callers" --per "$per"

echo
echo "## taskid mcp, file-lock mode (no daemon)"
python3 "$root/bench/mcp-initialize.py" 10

echo
echo "## taskid mcp, daemon running"
work=$(mktemp -d)
daemon=
cleanup() {
    if [[ -n $daemon ]]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
"$root/taskid" --dir "$work/.taskid" daemon 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 600); do
    [[ -S $work/.taskid/daemon.sock ]] && break
    kill -0 "$daemon" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
    sleep 0.05
done
python3 "$root/bench/mcp-initialize.py" 10 -- java -jar "$jar" --dir "$work/.taskid" mcp
