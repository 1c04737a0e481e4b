#!/usr/bin/env bash
# Server CPU per GiB streamed, agent vs no agent.
#
# A Netty (NIO) server streams to a fast loopback client (a separate JVM reading as fast as it can) in 256-byte
# pooled direct buffers, writing while the channel is writable and resuming on channelWritabilityChanged, so the
# agent's write fast path runs on every buffer and its stop/go slow path on every water-mark crossing.
# Each run: a fresh server JVM; after a pause (so that one-time start-up work such as the agent building its
# telemetry is over: startup.sh measures that) the client opens one connection; the server streams for a warm-up
# time, then the measured bytes (default 15 s, then 8 GiB), and reports its CPU time (all threads: event loop, GC,
# JIT, the agent's; user and system apart) while it wrote the measured part: the steady state of one long stream.
# The warm-up is in time because what it must cover comes at a fixed time: the agent's first export, about 10 s after
# the stream's first stop signal, whose one-time work (the HTTP client's classes and method handles, C2 compiling
# the JDK's bytecode spinner) and the recompiles that follow are not the stream's cost. Later exports (every 10 s)
# fall into the measured part, as they do in a real stream.
# Runs alternate none/agent, the order flipping every round (ABBA), so drift hits both alike.
#
#   bench/scripts/streaming.sh [--runs N] [--bytes B] [--warmup-seconds S] [--write-size N] [--pause MS]
#                              [--export-interval D] [--no-pin] [--null-context-loader] [--h2c]
#   bench/scripts/streaming.sh [--exclude-sys-above S] --summarize CSV...
#
# Defaults: --runs 10 (per variant), --bytes 8589934592 (8 GiB), --warmup-seconds 15, --write-size 256, --pause 3000.
# The agent runs with its defaults (export every 10 s) against a stand-in OTLP receiver in another process
# (io.highwater.bench.stream.OtlpSink, answers 200); --export-interval 1s exports ten times as often.
# The server runs on CPU 0 and the client and the receiver on CPU 1 (taskset; --no-pin leaves placement to the
# kernel): on a 2-core VM, unpinned runs spread by +-10 % from where the scheduler puts the two JVMs.
# --null-context-loader (a diagnostic) runs the server's event loop without a thread context class loader, which
# makes the agent skip its per-stop look-up of the application's OpenTelemetry API (see docs/benchmark-journal.md).
# --h2c streams over HTTP/2 without TLS instead (prior knowledge): the server writes DATA frames of the write size
# into an Http2MultiplexHandler stream channel while it is writable, through Netty's HTTP/2 codec and its remote
# flow controller (the agent's http2 advice); the client (H2StreamClient) keeps the windows open. CSV named
# streaming-h2c-*.
#
# Prints per-run CPU s/GiB and throughput, the medians, the ratio agent/none (budget: <= 1.02) as the ratio of the
# medians, and the per-round ratios' mean with its 95 % confidence interval (Student's t): the run-to-run spread of
# this VM is a few per cent, so the interval says whether the runs can tell 1.02 from 1.00 at all.
# --summarize prints the same summary for the rounds of earlier runs' CSVs together, without running anything;
# --exclude-sys-above S first drops every round in which either side's system CPU was S seconds or more (a
# sensitivity check for a machine whose kernel time jumps now and then; never the headline figure).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS=10
BYTES=$((8 << 30))
WARMUP_S=15
WRITE=256
PAUSE=3000
NULL_TCCL=false
H2C=false
INTERVAL=
SUMMARIZE=()
EXCLUDE_SYS=
PIN=(taskset -c 0)
CLIENT_PIN=(taskset -c 1)
[ "$(nproc)" -ge 2 ] || { PIN=(); CLIENT_PIN=(); }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --bytes) BYTES=$2; shift 2 ;;
    --warmup-seconds) WARMUP_S=$2; shift 2 ;;
    --write-size) WRITE=$2; shift 2 ;;
    --pause) PAUSE=$2; shift 2 ;;
    --null-context-loader) NULL_TCCL=true; shift ;;
    --h2c) H2C=true; shift ;;
    --export-interval) INTERVAL=$2; shift 2 ;;
    --no-pin) PIN=(); CLIENT_PIN=(); shift ;;
    --exclude-sys-above) EXCLUDE_SYS=$2; shift 2 ;;
    --summarize) shift; SUMMARIZE=("$@"); [ $# -gt 0 ] || die "--summarize needs CSV files"; break ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
BYTES=$(( BYTES / WRITE * WRITE ))

if [ ${#SUMMARIZE[@]} -gt 0 ]; then
  SUMMARY_DIR=$(mktemp -d)
  trap 'rm -rf "$SUMMARY_DIR"' EXIT
  CSV=$SUMMARY_DIR/rounds.csv
  head -1 "${SUMMARIZE[0]}" > "$CSV"
  n=0
  for f in "${SUMMARIZE[@]}"; do
    [ -f "$f" ] || die "no such file: $f"
    n=$((n + 1))
    # rounds renumbered per file, so that each stays a pair
    awk -F, -v OFS=, -v n="$n" 'NR > 1 {$1 = n * 1000 + $1; print}' "$f" >> "$CSV"
  done
  BYTES=$(awk -F, 'NR == 2 {print $3}' "$CSV")
else

ensure_time
ensure_bench

# the same JVM options for both; only -javaagent differs. Leak detection off: a production setting, and it keeps
# Netty's sampled stack captures out of the comparison.
SERVER_OPTS=(-Xms512m -Xmx512m -Dio.netty.leakDetection.level=disabled -Dbench.nullContextLoader=$NULL_TCCL
  -Dbench.threads=true -Dbench.warmupMs=$((WARMUP_S * 1000)) -Dbench.h2c=$H2C)
CLIENT_CLASS=io.highwater.bench.stream.StreamClient
[ "$H2C" = true ] && CLIENT_CLASS=io.highwater.bench.stream.H2StreamClient
CLIENT_OPTS=(-Xms64m -Xmx64m -Dbench.pause.ms=$PAUSE)

mkdir -p "$RESULTS"
STAMP=$(date +%Y%m%d-%H%M%S)
CSV=$RESULTS/streaming-$([ "$H2C" = true ] && echo h2c-)$STAMP.csv
echo "round,variant,bytes,cpu_s,wall_s,cpu_s_per_gib,mib_per_s,process_cpu_s,rss_kib,event_loop_s,jit_s,gc_s,other_threads_s,user_s,sys_s,writability_changes,flushes,write_syscalls,voluntary_switches,involuntary_switches" > "$CSV"
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
"${CLIENT_PIN[@]}" "$JAVA" -Xmx64m -cp "$BENCH_JAR" io.highwater.bench.stream.OtlpSink > "$TMP/sink.out" 2> "$TMP/sink.err" &
SINK_PID=$!
for _ in $(seq 1 100); do
  SINK_PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/sink.out")
  [ -n "$SINK_PORT" ] && break
  sleep 0.1
done
[ -n "$SINK_PORT" ] || die "the OTLP sink did not start: $(cat "$TMP/sink.err")"
AGENT_ARGS="otel.exporter.otlp.endpoint=http://127.0.0.1:$SINK_PORT${INTERVAL:+;otel.metric.export.interval=$INTERVAL}${HIGHWATER_EXTRA_ARGS:+;$HIGHWATER_EXTRA_ARGS}"

run() { # variant round
  local v=$1 r=$2 agent=()
  [ "$v" = highwater ] && agent=("-javaagent:$AGENT_JAR=$AGENT_ARGS")
  : > "$TMP/server.out"
  /usr/bin/time -f '%U %S %M' -o "$TMP/time" \
    "${PIN[@]}" "$JAVA" "${SERVER_OPTS[@]}" "${agent[@]}" -cp "$BENCH_JAR" io.highwater.bench.stream.StreamServer \
    0 "$WRITE" "$BYTES" > "$TMP/server.out" 2> "$TMP/server.err" &
  SERVER_PID=$!
  local port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/server.out")
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2> /dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$TMP/server.err" >&2; die "server ($v) did not start"; }
  "${CLIENT_PIN[@]}" "$JAVA" "${CLIENT_OPTS[@]}" -cp "$BENCH_JAR" "$CLIENT_CLASS" "$port" -1 \
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
  local muser msys
  muser=$(sed 's/.*user_ms=\([0-9]*\).*/\1/' <<< "$line")
  msys=$(sed 's/.*sys_ms=\([0-9]*\).*/\1/' <<< "$line")
  # what the kernel side did in the measured part, to tell apart rounds whose system time differs
  local kernel
  kernel=$(for k in measured_writability_changes flushes write_syscalls voluntary_switches involuntary_switches; do
    sed -n "s/.* $k=\(-\{0,1\}[0-9]*\).*/\1/p" <<< "$line"; done | paste -sd, -)
  read -r user sys rss < <(tail -1 "$TMP/time")
  # CPU by thread during the measured stream: the event loop, the JIT compilers, GC, everything else (the agent's)
  local threads
  threads=$(grep '^stream n=1 threads ' "$TMP/server.out" | sed 's/^stream n=1 threads cpu_ms://')
  read -r loop jit gc other < <(tr ' ' '\n' <<< "$threads" | awk -F= 'NF == 2 {
      if ($1 ~ /EventLoop|^server/) l += $2; else if ($1 ~ /Compiler/) j += $2; else if ($1 ~ /GC|^G1/) g += $2; else o += $2 }
      END {printf "%.2f %.2f %.2f %.2f\n", l / 1000, j / 1000, g / 1000, o / 1000}')
  awk -v r="$r" -v v="$v" -v b="$BYTES" -v c="$cpu" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    -v l="$loop" -v j="$jit" -v g="$gc" -v o="$other" -v mu="$muser" -v ms="$msys" \
    'BEGIN {gib = b / 2^30; printf "%d,%s,%.0f,%.3f,%.3f,%.4f,%.1f,%.2f,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n", r, v, b, c / 1e9, w / 1e9,
      c / 1e9 / gib, b / 2^20 / (w / 1e9), u + s, m, l, j, g, o, mu / 1000, ms / 1000}' | sed "s/\$/,$kernel/" | tee -a "$CSV" | \
    awk -F, '{printf "[bench] round %d %-9s cpu %.3f s  %.4f s/GiB  %.0f MiB/s  (event loop %.2f s, JIT %.2f s, GC %.2f s, other threads %.2f s; process cpu %.2f s, rss %.0f MiB)\n",
      $1, $2, $4, $6, $7, $10, $11, $12, $13, $8, $9 / 1024}' >&2
}

machine
log "$RUNS runs per variant, $BYTES bytes per measured stream in $WRITE-byte writes (after ${WARMUP_S} s of warm-up) -> $CSV"
for ((r = 1; r <= RUNS; r++)); do
  if (( r % 2 )); then run none "$r"; run highwater "$r"; else run highwater "$r"; run none "$r"; fi
done
fi

SUMMARY=$CSV
if [ -n "$EXCLUDE_SYS" ]; then
  SUMMARY=$CSV.sys-below-$EXCLUDE_SYS
  awk -F, -v s="$EXCLUDE_SYS" 'NR == FNR {if (FNR > 1 && $15 >= s) drop[$1]; next} FNR == 1 || !($1 in drop)' \
    "$CSV" "$CSV" > "$SUMMARY"
fi
RUNS=$(awk -F, 'NR > 1 && $2 == "none"' "$SUMMARY" | wc -l)
col() { awk -F, -v v="$1" -v c="$2" 'NR > 1 && $2 == v {print $c}' "$SUMMARY"; }
read -r nmin n25 nmed n75 nmax < <(col none 6 | quartiles)
read -r amin a25 amed a75 amax < <(col highwater 6 | quartiles)
ntp=$(col none 7 | median)
nloop=$(col none 10 | median); aloop=$(col highwater 10 | median)
njit=$(col none 11 | median); ajit=$(col highwater 11 | median)
nother=$(col none 13 | median); aother=$(col highwater 13 | median)
atp=$(col highwater 7 | median)
# per round: agent / none of the same round, for column $1
ratios() {
  awk -F, -v c="$1" 'NR > 1 {v[$1","$2] = $c; r[$1]}
    END {for (k in r) if ((k",none") in v && (k",highwater") in v && v[k",none"] > 0) print v[k",highwater"] / v[k",none"]}' "$SUMMARY"
}
# "mean low high" of the numbers on stdin: the mean with its 95 % confidence interval (Student's t, two-sided)
mean_ci() {
  awk '{x[NR] = $1; s += $1} END {
      if (NR < 2) {printf "%g nan nan\n", s; exit}
      m = s / NR; for (i = 1; i <= NR; i++) d += (x[i] - m)^2; se = sqrt(d / (NR - 1) / NR)
      split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", t, " ")
      tv = NR - 1 <= 20 ? t[NR - 1] : 2.0
      printf "%.4f %.4f %.4f\n", m, m - tv * se, m + tv * se}'
}
pair=$(ratios 6 | median)
read -r cmean clow chigh < <(ratios 6 | mean_ci)
read -r umean ulow uhigh < <(ratios 14 | mean_ci)
read -r smean slow shigh < <(ratios 15 | mean_ci)
echo
[ "$NULL_TCCL" = true ] && echo "diagnostic run: the server's event loop has no context class loader"
echo "streaming$([ "$H2C" = true ] && echo " over h2c"), $RUNS interleaved runs per variant, $(awk -v b="$BYTES" 'BEGIN {printf "%.2f GiB", b / 2^30}') in $WRITE-byte writes, load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %44s %12s\n' variant "server CPU s/GiB (min p25 MEDIAN p75 max)" "MiB/s (med)"
printf '%-10s %8.4f %8.4f [%8.4f] %8.4f %8.4f %12.0f\n' none "$nmin" "$n25" "$nmed" "$n75" "$nmax" "$ntp"
printf '%-10s %8.4f %8.4f [%8.4f] %8.4f %8.4f %12.0f\n' highwater "$amin" "$a25" "$amed" "$a75" "$amax" "$atp"
awk -v a="$amed" -v n="$nmed" -v p="$pair" 'BEGIN {printf "ratio agent/none: %.4f (medians), %.4f (median of per-round ratios); budget <= 1.02\n", a / n, p}'
echo "per-round ratio agent/none, mean and 95 % confidence interval: CPU $cmean [$clow, $chigh]; user CPU $umean [$ulow, $uhigh]; system CPU $smean [$slow, $shigh]"
echo "median CPU s by thread during the measured stream, none -> highwater: event loop $nloop -> $aloop, JIT compilers $njit -> $ajit, other threads (the agent's: export, timer) $nother -> $aother"
[ -n "$EXCLUDE_SYS" ] && echo "only the rounds in which neither side's system CPU reached $EXCLUDE_SYS s"
if [ ${#SUMMARIZE[@]} -gt 0 ]; then
  echo "(the rounds of ${SUMMARIZE[*]})"
  exit 0
fi
echo "the agent exported $(grep -c '^export /v1/metrics' "$TMP/sink.out") metric batches to the stand-in collector"
echo "(per-run values in $CSV)"
