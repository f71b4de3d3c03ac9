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
results=$work/times
for ((r = 1; r <= rounds; r++)); do
  for j in "${jdks[@]}"; do
    for v in "${variants[@]}"; do
      t0=$(date +%s%N)
      # shellcheck disable=SC2046
      "$j/bin/java" "${flags[@]}" $(archive_flags "$j" "$v" use) -cp "$work/bench.jar:$cp" "$v" "${args[@]}" >/dev/null 2>&1
      t1=$(date +%s%N)
      echo "$(basename "$j") $v $(( (t1 - t0) / 1000 ))" >> "$results"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$results" <<'PY'
import sys, statistics, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    jdk, v, us = line.split()
    t[(jdk, v)].append(int(us) / 1000)
for jdk in sorted({k[0] for k in t}):
    base = statistics.median(t[(jdk, "CoreArgs")])
    print(f"{jdk}  (median of {len(t[(jdk, 'CoreArgs')])} runs, ms; ratio to CoreArgs)")
    for v in ["Hello", "CoreArgs", "Databind", "Pico"]:
        m = statistics.median(t[(jdk, v)])
        print(f"  {v:9} {m:7.1f} ms  {m / base:5.2f}x")
PY
