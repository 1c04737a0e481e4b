#!/usr/bin/env bash
# What the agent keeps in the heap for connections under pressure.
#
# A Netty (NIO) server accepts N clients (a separate JVM that never reads), then writes to every connection until
# its channel is unwritable: N connections under pressure, each tracked by the agent. Heap histograms
# (jcmd GC.class_histogram: live objects, after a full GC) are taken before the writes (all connected, none under
# pressure) and after (all unwritable), once without the agent and once with it. What the agent retains is the
# growth with the agent minus the growth without it: its TrackedConnection objects and its registry's map nodes and
# table.
#
#   bench/scripts/footprint.sh [--connections N] [--high-water-mark BYTES]
#
# Defaults: 10000 connections, high-water mark 8192 (low 4096). Budgets: <= 256 bytes per tracked connection,
# <= 4 MB for 10,000 connections. Needs N + ~100 file descriptors per process (ulimit -n).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=10000
HIGH=8192
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) N=$2; shift 2 ;;
    --high-water-mark) HIGH=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

ensure_bench
[ -x "$JCMD" ] || die "no jcmd next to $JAVA"
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
(( $(ulimit -n) >= N + 200 )) || die "ulimit -n is $(ulimit -n); $N connections need $((N + 200)) (raise the hard limit)"

mkdir -p "$RESULTS"
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$RESULTS/footprint-$STAMP
mkdir -p "$OUT"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

await() { # file pattern seconds pid what
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" && return 0
    kill -0 "$4" 2> /dev/null || die "$5 exited early: $(cat "$1" "${1%.out}.err" 2> /dev/null | tail -5)"
    sleep 0.1
  done
  die "$5: timed out waiting for '$2'"
}

run() { # variant
  local v=$1 agent=()
  [ "$v" = highwater ] && agent=("-javaagent:$AGENT_JAR=otel.metrics.exporter=none")
  rm -f "$TMP/go"
  : > "$TMP/server.out"
  "$JAVA" -Xms1g -Xmx1g "${agent[@]}" -cp "$BENCH_JAR" io.highwater.bench.footprint.PressureServer \
    "$N" "$TMP/go" "$HIGH" > "$TMP/server.out" 2> "$TMP/server.err" &
  local server=$!
  PIDS+=("$server")
  await "$TMP/server.out" '^port ' 60 "$server" "server ($v)"
  local port
  port=$(sed -n 's/^port //p' "$TMP/server.out")
  "$JAVA" -Xmx256m -cp "$BENCH_JAR" io.highwater.bench.footprint.PressureClient "$port" "$N" \
    > "$TMP/client.out" 2> "$TMP/client.err" &
  local client=$!
  PIDS+=("$client")
  await "$TMP/server.out" "^connected $N\$" 300 "$server" "server ($v)"
  sleep 1
  "$JCMD" "$server" GC.class_histogram > "$OUT/$v-before.txt"
  touch "$TMP/go"
  await "$TMP/server.out" "^unwritable $N\$" 300 "$server" "server ($v)"
  sleep 2
  "$JCMD" "$server" GC.class_histogram > "$OUT/$v-after.txt"
  cp "$TMP/server.err" "$OUT/$v-server.err"
  if [ "$v" = highwater ] && ! grep -q 'instrumented netty' "$TMP/server.err"; then
    die "the agent did not instrument Netty in the server: $(cat "$TMP/server.err")"
  fi
  kill "$client" "$server" 2> /dev/null || true
  wait "$client" "$server" 2> /dev/null || true
  log "$v: histograms in $OUT/$v-{before,after}.txt"
}

machine
log "$N connections under pressure, high-water mark $HIGH -> $OUT"
run none
run highwater

# class -> instances, bytes (summing same-named classes of different loaders)
hist() { awk '$1 ~ /^[0-9]+:$/ {i[$4] += $2; b[$4] += $3} END {for (c in i) print c, i[c], b[c]}' "$1"; }
for f in none-before none-after highwater-before highwater-after; do hist "$OUT/$f.txt" > "$TMP/$f.h"; done

report() {
  awk -v n="$N" '
    FILENAME ~ /none-before/ {nbi[$1] = $2; nbb[$1] = $3; cls[$1]; next}
    FILENAME ~ /none-after/ {nai[$1] = $2; nab[$1] = $3; cls[$1]; next}
    FILENAME ~ /highwater-before/ {hbi[$1] = $2; hbb[$1] = $3; cls[$1]; next}
    FILENAME ~ /highwater-after/ {hai[$1] = $2; hab[$1] = $3; cls[$1]; next}
    END {
      for (c in cls) {
        di[c] = (hai[c] - hbi[c]) - (nai[c] - nbi[c])
        db[c] = (hab[c] - hbb[c]) - (nab[c] - nbb[c])
        total += db[c]
        growth_none += nab[c] - nbb[c]
        growth_hw += hab[c] - hbb[c]
      }
      tc = "io.highwater.core.TrackedConnection"
      node = "java.util.concurrent.ConcurrentHashMap$Node"
      table = "[Ljava.util.concurrent.ConcurrentHashMap$Node;"
      tracked = hai[tc] + 0
      printf "connections under pressure: %d; tracked by the agent (TrackedConnection instances): %d\n", n, tracked
      if (tracked == 0) exit
      printf "  %-66s %9d bytes  (%d each)\n", "TrackedConnection", hab[tc], hab[tc] / tracked
      printf "  %-66s %9d bytes  (%+d instances)\n", "ConcurrentHashMap$Node (registry), growth with agent - without", db[node], di[node]
      printf "  %-66s %9d bytes\n", "ConcurrentHashMap$Node[] (registry table), growth with - without", db[table]
      own = hab[tc] + (db[node] > 0 ? db[node] : 0) + (db[table] > 0 ? db[table] : 0)
      # anything else that grows by about one instance per tracked connection only with the agent: its
      # per-connection arrays (span events, ...); the pools of Netty vary by far less than that between runs
      for (c in cls) if (c != tc && c != node && c != table && di[c] >= tracked / 2 && db[c] > 0) {
        printf "  %-66s %9d bytes  (%+d instances, ~%d each)\n", c " (per connection), growth with - without", db[c], di[c], db[c] / di[c]
        own += db[c]
      }
      printf "agent-retained per tracked connection: %.0f bytes (budget 256); for all %d: %.2f MB = %.2f MiB (budget 4 MB)\n", own / tracked, tracked, own / 1e6, own / 2^20
      printf "cross-check, every class: heap growth under pressure %.2f MiB without the agent, %.2f MiB with it: %+.2f MiB, %+.0f bytes per connection (includes run-to-run noise of Netty'"'"'s pools)\n", growth_none / 2^20, growth_hw / 2^20, total / 2^20, total / n
      print "largest differences by class (growth with agent - without), bytes and instances:"
      for (c in cls) if (db[c] != 0) printf "%14d %10d  %s\n", db[c], di[c], c | "sort -k1,1nr | head -8"
    }' "$TMP/none-before.h" "$TMP/none-after.h" "$TMP/highwater-before.h" "$TMP/highwater-after.h"
}
echo
echo "footprint, $N connections under pressure, load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
report | tee "$OUT/summary.txt"
