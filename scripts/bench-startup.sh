#!/usr/bin/env bash
# Start-up benchmark of the taskid CLI through the launcher: wall time of one call in file-lock
# mode (no daemon), on JDK 17 with and without the class-data archive and on JDK 25 with and
# without the AOT cache; plus `java -jar` without flags and java with the launcher's flags but
# without the launcher (the difference is the launcher's own overhead); and `./taskid reserve
# SEC` through a running daemon on both JDKs against seed 000's node script (bench/seed-style:
# lock file + tmp + rename, no fsync), issue 12's comparison. Calls run without a TTY, as an
# agent's do (the launcher then never looks at the sources). Prints the load average, and per
# row the median wall time and CPU time (user + sys of the process tree, from wait4: what a
# busy machine distorts least), and a bare `java Hello` on each JDK, the JVM's own start.
#
#   scripts/bench-startup.sh [RUNS] [JDK25_HOME]     (RUNS default 40; needs python3)
#
# DAEMON_ONLY=1 keeps only the rows of issue 12's comparison (through the daemon on both JDKs,
# the node script, BASELINE's, and the bare JVMs): a shorter run, so more rounds fit in a quiet
# spell of a shared machine.
#
# BASELINE=/path/to/bin/taskid adds rows for another build's launcher (e.g. an unpacked
# distribution of main) reserving through the same daemon, interleaved with this one's: a
# before/after in one run.
#
# The variants run interleaved (round robin, RUNS rounds), so that a load that comes and goes on
# the machine weighs on all of them alike. JDK 17 is $JAVA17_HOME, else the java on PATH; JDK 25
# defaults to the Temurin 25 of these machines; rows for a missing JDK are skipped.
set -euo pipefail
runs=${1:-40}
jdk25=${2:-${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
launcher=$root/taskid
jar=$root/cli/target/taskid-cli.jar
if [[ -n ${JAVA17_HOME-} ]]; then jdk17=$JAVA17_HOME; else jdk17=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")"); fi

work=$(mktemp -d)
daemon=
trap '[[ -n $daemon ]] && kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
state=$work/state
# First calls: make the archives, create the state directory (build with `./taskid build` first).
JAVA_HOME=$jdk17 "$launcher" --dir "$state" reserve SEC >/dev/null </dev/null
[[ -x $jdk25/bin/java ]] && JAVA_HOME=$jdk25 "$launcher" --dir "$state" reserve SEC >/dev/null </dev/null
# A daemon on a state directory of its own, and the seed's script in a repository of its own.
dstate=$work/daemon-state
JAVA_HOME=$jdk17 "$launcher" --dir "$dstate" daemon </dev/null 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 300); do [[ -S $dstate/daemon.sock ]] && break; sleep 0.1; done
[[ -S $dstate/daemon.sock ]] || { echo "the daemon did not start:" >&2; cat "$work/daemon.log" >&2; exit 1; }
seed=$work/seed
mkdir -p "$seed/.claude/scripts"
cp "$root/bench/seed-style/reserve-task-ids.js" "$seed/.claude/scripts/"
echo '{"counters":{"SEC":0}}' >"$seed/.claude/.task-id-counters.json"   # what the seed's init script makes

# The launcher's CLI flags (keep in step with ./taskid's opts).
flags=(-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=20 -XX:-UsePerfData -XX:+UseSerialGC
       -Xlog:disable -Xlog:all=warning:stderr)
mkdir -p "$work/hello"
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/hello/Hello.java"
"$jdk17/bin/javac" -d "$work/hello" "$work/hello/Hello.java"
if [[ -n ${BASELINE-} ]]; then   # its first calls make its archives and may build nothing
    JAVA_HOME=$jdk17 TASKID_NO_BUILD=1 "$BASELINE" --dir "$dstate" reserve SEC >/dev/null </dev/null
    [[ -x $jdk25/bin/java ]] && JAVA_HOME=$jdk25 TASKID_NO_BUILD=1 "$BASELINE" --dir "$dstate" reserve SEC >/dev/null </dev/null
fi
jsa=
for f in "$root"/cli/target/cds/*"${jdk17//\//_}.jsa"; do [[ -f $f && ${f##*/} != daemon-* ]] && jsa=$f; done

names=() cmds=()
add() { names+=("$1"); shift; cmds+=("$(printf '%q ' "$@")"); }
full() { [[ -z ${DAEMON_ONLY-} ]] && add "$@"; return 0; }
full "jdk17: java -jar taskid-cli.jar (no flags)" "$jdk17/bin/java" -jar "$jar" --dir "$state" show
full "jdk17: ./taskid, no archive (TASKID_NO_CDS=1)" env JAVA_HOME="$jdk17" TASKID_NO_CDS=1 "$launcher" --dir "$state" show
full "jdk17: ./taskid with AppCDS" env JAVA_HOME="$jdk17" "$launcher" --dir "$state" show
[[ -n $jsa ]] && full "jdk17: java + launcher's flags + AppCDS, no launcher" \
    "$jdk17/bin/java" "${flags[@]}" -Xshare:auto -XX:SharedArchiveFile="$jsa" -jar "$jar" --dir "$state" show
full "jdk17: ./taskid reserve SEC with AppCDS (fsync)" env JAVA_HOME="$jdk17" "$launcher" --dir "$state" reserve SEC
command -v node >/dev/null && add "seed 000's node script (reserve-task-ids.js SEC)" \
    node "$seed/.claude/scripts/reserve-task-ids.js" SEC
add "jdk17: ./taskid reserve SEC via the daemon" env JAVA_HOME="$jdk17" "$launcher" --dir "$dstate" reserve SEC
[[ -x $jdk25/bin/java ]] && add "jdk25: ./taskid reserve SEC via the daemon" \
    env JAVA_HOME="$jdk25" "$launcher" --dir "$dstate" reserve SEC
if [[ -n ${BASELINE-} ]]; then
    add "jdk17: BASELINE reserve SEC via the daemon" env JAVA_HOME="$jdk17" TASKID_NO_BUILD=1 "$BASELINE" --dir "$dstate" reserve SEC
    [[ -x $jdk25/bin/java ]] && add "jdk25: BASELINE reserve SEC via the daemon" \
        env JAVA_HOME="$jdk25" TASKID_NO_BUILD=1 "$BASELINE" --dir "$dstate" reserve SEC
fi
add "jdk17: java Hello (the bare JVM)" "$jdk17/bin/java" "${flags[@]}" -cp "$work/hello" Hello
[[ -x $jdk25/bin/java ]] && add "jdk25: java Hello (the bare JVM)" "$jdk25/bin/java" "${flags[@]}" -cp "$work/hello" Hello
if [[ -x $jdk25/bin/java ]]; then
    full "jdk25: ./taskid, no AOT cache (TASKID_NO_CDS=1)" env JAVA_HOME="$jdk25" TASKID_NO_CDS=1 "$launcher" --dir "$state" show
    full "jdk25: ./taskid with AOT cache" env JAVA_HOME="$jdk25" "$launcher" --dir "$state" show
    full "jdk25: ./taskid reserve SEC with AOT cache (fsync)" env JAVA_HOME="$jdk25" "$launcher" --dir "$state" reserve SEC
fi

echo "machine: $(nproc) cores, $(uname -r); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${names[@]}" >"$work/names"
printf '%s\n' "${cmds[@]}" >"$work/cmds"
python3 - "$work/names" "$work/cmds" "$runs" <<'EOF'
import os, shlex, statistics, subprocess, sys, time
names = open(sys.argv[1]).read().splitlines()
cmds = [shlex.split(c) for c in open(sys.argv[2]).read().splitlines()]
runs = int(sys.argv[3])
def run(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{err.decode(errors='replace')}")
    return (time.monotonic() - t0) * 1000, (usage.ru_utime + usage.ru_stime) * 1000
for c in cmds:   # warm-up round
    run(c)
wall, cpu = [[] for _ in cmds], [[] for _ in cmds]
for _ in range(runs):
    for i, c in enumerate(cmds):
        w, u = run(c)
        wall[i].append(w)
        cpu[i].append(u)
print(f"| command ({runs} runs each, interleaved) | median ms | mean ms | min ms | CPU median ms |")
print("|---|---:|---:|---:|---:|")
for i, name in enumerate(names):
    print(f"| {name} | {statistics.median(wall[i]):.0f} | {statistics.mean(wall[i]):.0f} | {min(wall[i]):.0f}"
          f" | {statistics.median(cpu[i]):.0f} |")
EOF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
