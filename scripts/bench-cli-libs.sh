#!/usr/bin/env bash
# Would jackson-databind's ObjectMapper or picocli slow the CLI's start? Measures four tiny
# programs doing what `taskid reserve` does at start (arguments, read config.json and
# counters.json, print one JSON line), each with its own start-up archive made the way the
# launcher makes it (AppCDS dynamic archive on JDK 17, AOT cache on JDK 25), same JVM flags:
#   Hello     the JVM alone
#   CoreArgs  today: hand-written argument loop + jackson-core streaming
#   Databind  ObjectMapper trees instead of streaming
#   Pico      picocli's programmatic API instead of the hand-written loop
# Rounds are interleaved (every variant once per round, on every JDK) so drift hits all alike.
# Usage: scripts/bench-cli-libs.sh [ROUNDS]   (default 30). Prints medians and ratios to CoreArgs.
set -euo pipefail
rounds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/bench/startup-libs
work=$(mktemp -d "${TMPDIR:-/tmp}/taskid-libs.XXXXXX")
trap 'rm -rf "$work"' EXIT

jackson=$(sed -n 's:.*<jackson.version>\(.*\)</jackson.version>.*:\1:p' "$root/pom.xml")
picocli=4.7.7
# jackson-annotations is versioned major.minor since 2.20
for a in com.fasterxml.jackson.core:jackson-core:$jackson com.fasterxml.jackson.core:jackson-databind:$jackson \
         com.fasterxml.jackson.core:jackson-annotations:${jackson%.*} info.picocli:picocli:$picocli; do
  mvn -q dependency:copy -Dartifact="$a" -DoutputDirectory="$work/lib" >&2
done
cp=$(ls "$work"/lib/*.jar | tr '\n' ':')
mkdir -p "$work/classes" "$work/state"
javac -d "$work/classes" -cp "$cp" "$src"/*.java
jar cf "$work/bench.jar" -C "$work/classes" .   # class-data archives take classes from jars only
printf '{"extraPrefixes":["SEC","UX"],"lockTimeoutMs":30000}\n' > "$work/state/config.json"
printf '{"SEC":19,"UX":66,"OPS":3}\n' > "$work/state/counters.json"

jdks=(/usr/lib/jvm/java-17-openjdk-amd64)
[[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]] && jdks+=(/usr/lib/jvm/temurin-25-jdk-amd64)
variants=(Hello CoreArgs Databind Pico)
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Xlog:all=warning:stderr)
args=(--dir "$work/state" reserve SEC 3)

archive_flags() {  # $1 jdk, $2 variant, $3 make|use
  local v; v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
  local a=$work/$(basename "$1")-$2
  if (( v >= 25 )); then
    [[ $3 == make ]] && echo "-XX:AOTCacheOutput=$a.aot" || echo "-XX:AOTCache=$a.aot"
  else
    [[ $3 == make ]] && echo "-Xshare:auto -XX:ArchiveClassesAtExit=$a.jsa" || echo "-Xshare:auto -XX:SharedArchiveFile=$a.jsa"
  fi
}

for j in "${jdks[@]}"; do
  for v in "${variants[@]}"; do
    # shellcheck disable=SC2046
    "$j/bin/java" "${flags[@]}" $(archive_flags "$j" "$v" make) -cp "$work/bench.jar:$cp" "$v" "${args[@]}" >/dev/null 2>&1
  done
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# Wall time and CPU time (user + sys, from wait4) per run: CPU time is what a busy machine
# distorts least, wall time is what a user waits.
python3 - "$rounds" "$work" "$cp" "${jdks[@]}" <<'PY'
import os, subprocess, sys, time, statistics, collections
rounds, work, cp, jdks = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
variants = ["Hello", "CoreArgs", "Databind", "Pico"]
flags = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xlog:disable", "-Xlog:all=warning:stderr"]
def archive(jdk, v):
    a = f"{work}/{os.path.basename(jdk)}-{v}"
    return [f"-XX:AOTCache={a}.aot"] if os.path.exists(a + ".aot") else ["-Xshare:auto", f"-XX:SharedArchiveFile={a}.jsa"]
wall, cpu = collections.defaultdict(list), collections.defaultdict(list)
for r in range(rounds):
    for jdk in jdks:
        for v in variants:
            cmd = [f"{jdk}/bin/java", *flags, *archive(jdk, v), "-cp", f"{work}/bench.jar:{cp}", v,
                   "--dir", f"{work}/state", "reserve", "SEC", "3"]
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            assert status == 0, (cmd, status)
            wall[(jdk, v)].append((time.monotonic() - t0) * 1000)
            cpu[(jdk, v)].append((ru.ru_utime + ru.ru_stime) * 1000)
for jdk in jdks:
    bw, bc = statistics.median(wall[(jdk, "CoreArgs")]), statistics.median(cpu[(jdk, "CoreArgs")])
    print(f"{os.path.basename(jdk)}  (medians of {rounds} runs; ratio to CoreArgs)")
    for v in variants:
        w, c = statistics.median(wall[(jdk, v)]), statistics.median(cpu[(jdk, v)])
        print(f"  {v:9} wall {w:7.1f} ms {w / bw:5.2f}x   cpu {c:7.1f} ms {c / bc:5.2f}x")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
