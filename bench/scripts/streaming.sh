#!/usr/bin/env bash
# Server CPU per GiB streamed, agent vs no agent.
#
# A Netty (NIO) server streams to a fast loopback client (a separate JVM reading as fast as it can) in 256-byte
# pooled direct buffers, writing while the channel is writable and resuming on channelWritabilityChanged, so the
# agent's write fast path runs on every buffer and its stop/go slow path on every water-mark crossing.
# Each run: a fresh server JVM; after a pause (so that one-time start-up work such as the agent building its
# telemetry is over: startup.sh measures that) the client opens one connection and reads warm-up + measured bytes
# (default 1 GiB + 2 GiB); the server reports its process CPU time (all threads: event loop, GC, JIT, the agent's)
# while it wrote the measured part, the last 2 GiB: steady state of one long stream, after the JIT has settled. Runs alternate
# none/agent, the order flipping every round (ABBA), so drift hits both alike.
#
#   bench/scripts/streaming.sh [--runs N] [--bytes B] [--warmup B] [--write-size N] [--pause MS]
#                              [--null-context-loader]
#
# Defaults: --runs 5 (per variant), --bytes 2147483648 (2 GiB), --warmup 1073741824 (1 GiB), --write-size 256,
# --pause 3000. The agent runs with its defaults except that it exports every second (default: 10 s) to a
# stand-in OTLP receiver in another process (io.highwater.bench.stream.OtlpSink, answers 200), so its
# instruments aggregate and export as in production, and its first export (which starts the HTTP client) falls in
# the pause, not in the measured stream. --null-context-loader (a diagnostic) runs the server's event loop without a
# thread context class loader, which makes the agent skip its per-stop look-up of the application's OpenTelemetry
# API (see BENCHMARKS.md).
# Prints per-run CPU s/GiB and throughput, the medians, and the ratio agent/none (budget: <= 1.02).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS=5
BYTES=$((2 << 30))
WARMUP=$((1 << 30))
WRITE=256
PAUSE=3000
NULL_TCCL=false
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --bytes) BYTES=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --write-size) WRITE=$2; shift 2 ;;
    --pause) PAUSE=$2; shift 2 ;;
    --null-context-loader) NULL_TCCL=true; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
BYTES=$(( BYTES / WRITE * WRITE ))
WARMUP=$(( WARMUP / WRITE * WRITE ))

ensure_time
ensure_bench

# the same JVM options for both; only -javaagent differs. Leak detection off: a production setting, and it keeps
# Netty's sampled stack captures out of the comparison.
SERVER_OPTS=(-Xms512m -Xmx512m -Dio.netty.leakDetection.level=disabled -Dbench.nullContextLoader=$NULL_TCCL
  -Dbench.threads=true -Dbench.measureAfter=$WARMUP)
CLIENT_OPTS=(-Xms64m -Xmx64m -Dbench.pause.ms=$PAUSE)

mkdir -p "$RESULTS"
STAMP=$(date +%Y%m%d-%H%M%S)
CSV=$RESULTS/streaming-$STAMP.csv
echo "round,variant,bytes,cpu_s,wall_s,cpu_s_per_gib,mib_per_s,process_cpu_s,rss_kib,event_loop_s,jit_s,gc_s,other_threads_s" > "$CSV"
TMP=$(mktemp -d)
SERVER_PID=
SINK_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2> /dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# the stand-in collector
"$JAVA" -Xmx64m -cp "$BENCH_JAR" io.highwater.bench.stream.OtlpSink > "$TMP/sink.out" 2> "$TMP/sink.err" &
SINK_PID=$!
for _ in $(seq 1 100); do
  SINK_PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/sink.out")
  [ -n "$SINK_PORT" ] && break
  sleep 0.1
done
[ -n "$SINK_PORT" ] || die "the OTLP sink did not start: $(cat "$TMP/sink.err")"
AGENT_ARGS="otel.exporter.otlp.endpoint=http://127.0.0.1:$SINK_PORT;otel.metric.export.interval=1s${HIGHWATER_EXTRA_ARGS:+;$HIGHWATER_EXTRA_ARGS}"

run() { # variant round
  local v=$1 r=$2 agent=()
  [ "$v" = highwater ] && agent=("-javaagent:$AGENT_JAR=$AGENT_ARGS")
  : > "$TMP/server.out"
  /usr/bin/time -f '%U %S %M' -o "$TMP/time" \
    "$JAVA" "${SERVER_OPTS[@]}" "${agent[@]}" -cp "$BENCH_JAR" io.highwater.bench.stream.StreamServer \
    0 "$WRITE" $((WARMUP + BYTES)) > "$TMP/server.out" 2> "$TMP/server.err" &
  SERVER_PID=$!
  local port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/server.out")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2> /dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$TMP/server.err" >&2; die "server ($v) did not start"; }
  "$JAVA" "${CLIENT_OPTS[@]}" -cp "$BENCH_JAR" io.highwater.bench.stream.StreamClient "$port" $((WARMUP + BYTES)) \
    > "$TMP/client.out" || die "client failed ($v)"
  wait "$SERVER_PID" || die "server failed ($v): $(cat "$TMP/server.err")"
  SERVER_PID=
  if [ "$v" = highwater ] && ! grep -q 'instrumented netty' "$TMP/server.err"; then
    die "the agent did not instrument Netty in the server: $(cat "$TMP/server.err")"
  fi
  if [ "$v" = highwater ] && grep -q 'export.*fail' "$TMP/server.err"; then
    die "the agent's export failed: $(grep 'export' "$TMP/server.err")"
  fi
  local line
  line=$(grep '^stream n=1 bytes' "$TMP/server.out") || die "no measurement from the server ($v)"
  grep -q 'complete=true' <<< "$line" || die "short stream ($v): $line"
  local cpu wall
  cpu=$(sed 's/.*cpu_ns=\([0-9]*\).*/\1/' <<< "$line")
  wall=$(sed 's/.*wall_ns=\([0-9]*\).*/\1/' <<< "$line")
  read -r user sys rss < <(tail -1 "$TMP/time")
  # CPU by thread during the measured stream: the event loop, the JIT compilers, GC, everything else (the agent's)
  local threads
  threads=$(grep '^stream n=1 threads ' "$TMP/server.out" | sed 's/^stream n=1 threads cpu_ms://')
  read -r loop jit gc other < <(tr ' ' '\n' <<< "$threads" | awk -F= 'NF == 2 {
      if ($1 ~ /EventLoop|^server/) l += $2; else if ($1 ~ /Compiler/) j += $2; else if ($1 ~ /GC|^G1/) g += $2; else o += $2 }
      END {printf "%.2f %.2f %.2f %.2f\n", l / 1000, j / 1000, g / 1000, o / 1000}')
  awk -v r="$r" -v v="$v" -v b="$BYTES" -v c="$cpu" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    -v l="$loop" -v j="$jit" -v g="$gc" -v o="$other" \
    'BEGIN {gib = b / 2^30; printf "%d,%s,%d,%.3f,%.3f,%.4f,%.1f,%.2f,%d,%.2f,%.2f,%.2f,%.2f\n", r, v, b, c / 1e9, w / 1e9,
      c / 1e9 / gib, b / 2^20 / (w / 1e9), u + s, m, l, j, g, o}' | tee -a "$CSV" | \
    awk -F, '{printf "[bench] round %d %-9s cpu %.3f s  %.4f s/GiB  %.0f MiB/s  (event loop %.2f s, JIT %.2f s, GC %.2f s, other threads %.2f s; process cpu %.2f s, rss %.0f MiB)\n",
      $1, $2, $4, $6, $7, $10, $11, $12, $13, $8, $9 / 1024}' >&2
}

machine
log "$RUNS runs per variant, $BYTES bytes per measured stream in $WRITE-byte writes (after $WARMUP warm-up) -> $CSV"
for ((r = 1; r <= RUNS; r++)); do
  if (( r % 2 )); then run none "$r"; run highwater "$r"; else run highwater "$r"; run none "$r"; fi
done

col() { awk -F, -v v="$1" -v c="$2" 'NR > 1 && $2 == v {print $c}' "$CSV"; }
read -r nmin n25 nmed n75 nmax < <(col none 6 | quartiles)
read -r amin a25 amed a75 amax < <(col highwater 6 | quartiles)
ntp=$(col none 7 | median)
nloop=$(col none 10 | median); aloop=$(col highwater 10 | median)
njit=$(col none 11 | median); ajit=$(col highwater 11 | median)
nother=$(col none 13 | median); aother=$(col highwater 13 | median)
atp=$(col highwater 7 | median)
# per round: agent / none of the same round
pair=$(awk -F, 'NR > 1 {v[$1","$2] = $6; r[$1]} END {for (k in r) if ((k",none") in v && (k",highwater") in v) print v[k",highwater"] / v[k",none"]}' "$CSV" | median)
echo
[ "$NULL_TCCL" = true ] && echo "diagnostic run: the server's event loop has no context class loader"
echo "streaming, $RUNS interleaved runs per variant, $(awk -v b="$BYTES" 'BEGIN {printf "%.2f GiB", b / 2^30}') in $WRITE-byte writes, load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %44s %12s\n' variant "server CPU s/GiB (min p25 MEDIAN p75 max)" "MiB/s (med)"
printf '%-10s %8.4f %8.4f [%8.4f] %8.4f %8.4f %12.0f\n' none "$nmin" "$n25" "$nmed" "$n75" "$nmax" "$ntp"
printf '%-10s %8.4f %8.4f [%8.4f] %8.4f %8.4f %12.0f\n' highwater "$amin" "$a25" "$amed" "$a75" "$amax" "$atp"
awk -v a="$amed" -v n="$nmed" -v p="$pair" 'BEGIN {printf "ratio agent/none: %.4f (medians), %.4f (median of per-round ratios); budget <= 1.02\n", a / n, p}'
echo "median CPU s by thread during the measured stream, none -> highwater: event loop $nloop -> $aloop, JIT compilers $njit -> $ajit, other threads (the agent's: export, timer) $nother -> $aother"
echo "the agent exported $(grep -c '^export /v1/metrics' "$TMP/sink.out") metric batches to the stand-in collector"
echo "(per-run values in $CSV)"
