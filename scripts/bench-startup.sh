#!/usr/bin/env bash
# Start-up benchmark of the taskid CLI through the launcher: median wall time of one call,
# file-lock mode (no daemon), on JDK 17 with and without the class-data archive and on JDK 25
# with and without the AOT cache; plus `java -jar` without flags and the launcher's own overhead.
#
#   scripts/bench-startup.sh [RUNS] [JDK25_HOME]     (RUNS default 40; needs hyperfine, python3)
#
# JDK 17 is $JAVA17_HOME, else the java on PATH. JDK 25 defaults to the Temurin 25 of these
# machines; rows for a JDK that is missing are skipped.
set -euo pipefail
runs=${1:-40}
jdk25=${2:-${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}}
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
launcher=$root/taskid
jar=$root/client/target/taskid-cli.jar

command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
if [[ -n ${JAVA17_HOME-} ]]; then jdk17=$JAVA17_HOME; else jdk17=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")"); fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state=$work/state
# First calls: build if needed, make the archives, create the state directory.
JAVA_HOME=$jdk17 "$launcher" --dir "$state" reserve SEC >/dev/null
[[ -x $jdk25/bin/java ]] && JAVA_HOME=$jdk25 "$launcher" --dir "$state" reserve SEC >/dev/null

flags="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=warning:stderr"
jsa=$(ls "$root"/client/target/cds/*.jsa 2>/dev/null | grep -F "${jdk17//\//_}" | head -1 || true)

cmds=(
  "jdk17: java -jar (no flags)|$jdk17/bin/java -jar $jar --dir $state show"
  "jdk17: ./taskid, no archive (TASKID_NO_CDS=1)|env JAVA_HOME=$jdk17 TASKID_NO_CDS=1 $launcher --dir $state show"
  "jdk17: ./taskid with AppCDS|env JAVA_HOME=$jdk17 $launcher --dir $state show"
)
[[ -n $jsa ]] && cmds+=("jdk17: java + same flags + AppCDS, no launcher|$jdk17/bin/java $flags -Xshare:auto -XX:SharedArchiveFile=$jsa -jar $jar --dir $state show")
cmds+=("jdk17: ./taskid reserve SEC with AppCDS (fsync)|env JAVA_HOME=$jdk17 $launcher --dir $state reserve SEC")
if [[ -x $jdk25/bin/java ]]; then
  cmds+=(
    "jdk25: ./taskid, no cache (TASKID_NO_CDS=1)|env JAVA_HOME=$jdk25 TASKID_NO_CDS=1 $launcher --dir $state show"
    "jdk25: ./taskid with AOT cache|env JAVA_HOME=$jdk25 $launcher --dir $state show"
    "jdk25: ./taskid reserve SEC with AOT cache (fsync)|env JAVA_HOME=$jdk25 $launcher --dir $state reserve SEC"
  )
fi

args=()
for c in "${cmds[@]}"; do args+=(-n "${c%%|*}" "${c#*|}"); done
hyperfine -N -w 5 -r "$runs" --export-json "$work/result.json" "${args[@]}" >&2
python3 - "$work/result.json" "$runs" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print(f"| command ({sys.argv[2]} runs each) | median ms | mean ms | min ms |")
print("|---|---:|---:|---:|")
for r in res:
    print(f"| {r['command']} | {r['median']*1000:.0f} | {r['mean']*1000:.0f} | {r['min']*1000:.0f} |")
EOF
