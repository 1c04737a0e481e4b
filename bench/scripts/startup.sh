#!/usr/bin/env bash
# Start-up cost of the agent on a hello-world JVM, side by side with the OpenTelemetry Java agent.
#
# Interleaved runs: every round runs each variant once, in an order that rotates from round to round, so drift in
# the machine's load hits all variants alike. Per variant: median (and quartiles) of wall time, CPU time
# (user+sys) and peak RSS, from /usr/bin/time; for highwater also its own reported set-up time ("started in N ms").
#
#   bench/scripts/startup.sh [--runs N] [--app hello|netty|busy] [--variants none,nop,highwater-off,highwater,otel]
#                            [--export none|default] [--linger MS] [--work N] [--highwater-args 'k=v;k=v']
#
#   --app hello   java -cp bench/target/classes io.highwater.bench.startup.Hello (a plain hello world; default)
#   --app netty   one Netty channel, one write (io.highwater.bench.startup.NettyHello, from benchmarks.jar): the
#                 agent then also transforms ChannelOutboundBuffer, which it defers until Netty loads
#   --linger MS   with --app netty: the JVM stays up MS ms after the write, so CPU time includes what an agent
#                 does in the background after start-up (building its telemetry, JIT-compiling its code)
#   --app busy    a host whose start-up keeps every core busy for about half a second (io.highwater.bench.startup.
#                 BusyStart, a fixed amount of arithmetic per core; --work N iterations per thread, default 3e8):
#                 what an agent does in the background during that time shows up in the host's wall time
#   --highwater-args  extra agent arguments for the highwater variant, e.g. 'telemetry.delay=0'
#   --export none (default) both agents with every exporter off (nothing listens here anyway); `default` leaves
#                 both agents' exporters at their defaults (OTLP to localhost:4318, refused)
#
# Variants: none (no agent); nop (a do-nothing agent, bench's plain jar: what any -javaagent costs this JVM);
# highwater-off (agent/target/highwater-agent.jar with highwater.enabled=false: it opens its class loader, reads
# its settings and stops); highwater (-javaagent:agent/target/highwater-agent.jar); highwater-eager (the same with
# highwater.telemetry.delay=0: its SDK built right after premain, as before that setting existed); otel (the
# OpenTelemetry Java agent 2.31.0, fetched from Maven Central into bench/target/otel); highwater-base (another
# build of the agent, HIGHWATER_BASE_JAR=path, with the same arguments: before/after a change, in the same run).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RUNS=15
APP=hello
VARIANTS=none,nop,highwater-off,highwater,otel
EXPORT=none
LINGER=
WORK=
HW_EXTRA=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --app) APP=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --export) EXPORT=$2; shift 2 ;;
    --linger) LINGER=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --highwater-args) HW_EXTRA=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

ensure_time
ensure_bench
[[ ",$VARIANTS," == *,otel,* ]] && ensure_otel
if [[ ",$VARIANTS," == *,highwater-base,* ]]; then
  [ -f "${HIGHWATER_BASE_JAR:-}" ] || die "variant highwater-base needs HIGHWATER_BASE_JAR=<an agent jar>"
  # a copy, for the same reason as the agent's own (lib.sh, snapshot_agent)
  BASE_JAR=$BENCH/target/agent/highwater-agent-base.jar
  cp -p "$HIGHWATER_BASE_JAR" "$BASE_JAR"
  log "highwater-base: $HIGHWATER_BASE_JAR, sha256 $(sha256sum "$BASE_JAR" | cut -c1-12)"
fi

NOP_JAR=$(ls "$BENCH"/target/highwater-bench-*.jar | head -1)
case "$APP" in
  hello) CP=$BENCH/target/classes; MAIN=io.highwater.bench.startup.Hello ;;
  netty) CP=$BENCH_JAR; MAIN="io.highwater.bench.startup.NettyHello $LINGER" ;;
  busy) CP=$BENCH/target/classes; MAIN="io.highwater.bench.startup.BusyStart $WORK" ;;
  *) die "--app is hello, netty or busy" ;;
esac

if [ "$EXPORT" = none ]; then
  HW_ARGS="otel.metrics.exporter=none"
  OTEL_PROPS="-Dotel.traces.exporter=none -Dotel.metrics.exporter=none -Dotel.logs.exporter=none"
else
  HW_ARGS=""
  OTEL_PROPS=""
fi
HW_ARGS=$HW_ARGS${HW_ARGS:+${HW_EXTRA:+;}}$HW_EXTRA
HW_ARGS=${HW_ARGS:+=$HW_ARGS}

jvm_args() {
  case "$1" in
    none) ;;
    nop) echo "-javaagent:$NOP_JAR" ;;
    highwater) echo "-javaagent:$AGENT_JAR$HW_ARGS" ;;
    highwater-base) echo "-javaagent:$BASE_JAR$HW_ARGS" ;;
    highwater-eager) echo "-javaagent:$AGENT_JAR${HW_ARGS:-=}${HW_ARGS:+;}telemetry.delay=0" ;;
    highwater-off) echo "-javaagent:$AGENT_JAR=highwater.enabled=false" ;;
    otel) echo "-javaagent:$OTEL_JAR $OTEL_PROPS" ;;
    *) die "unknown variant $1" ;;
  esac
}

mkdir -p "$RESULTS"
STAMP=$(date +%Y%m%d-%H%M%S)
CSV=$RESULTS/startup-$APP-$STAMP.csv
echo "round,variant,wall_ms,cpu_ms,rss_kib,agent_setup_ms" > "$CSV"
IFS=, read -r -a VS <<< "$VARIANTS"
N=${#VS[@]}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

machine
log "app=$APP runs=$RUNS variants=$VARIANTS export=$EXPORT${HW_EXTRA:+ highwater-args=$HW_EXTRA} -> $CSV"
# one untimed run of each first: page cache, CDS archive, jar files
for v in "${VS[@]}"; do
  # shellcheck disable=SC2046
  "$JAVA" $(jvm_args "$v") -cp "$CP" $MAIN > /dev/null 2>&1 || die "variant $v failed to run"
done
for ((r = 1; r <= RUNS; r++)); do
  for ((k = 0; k < N; k++)); do
    v=${VS[$(( (k + r) % N ))]}
    t0=$(date +%s%N)
    # shellcheck disable=SC2046
    /usr/bin/time -f '%U %S %M' -o "$TMP/time" "$JAVA" $(jvm_args "$v") -cp "$CP" $MAIN > "$TMP/out" 2> "$TMP/err"
    t1=$(date +%s%N)
    read -r user sys rss < <(tail -1 "$TMP/time")
    setup=$(sed -n 's/^\[highwater\].* started in \([0-9]*\) ms.*/\1/p' "$TMP/err" | head -1)
    awk -v r="$r" -v v="$v" -v w=$(( (t1 - t0) / 1000 )) -v u="$user" -v s="$sys" -v m="$rss" -v a="${setup:-}" \
      'BEGIN {printf "%d,%s,%.1f,%.0f,%d,%s\n", r, v, w / 1000, (u + s) * 1000, m, a}' >> "$CSV"
  done
done

col() { awk -F, -v v="$1" -v c="$2" 'NR > 1 && $2 == v && $c != "" {print $c}' "$CSV"; }
base_wall=$(col none 3 | median)
base_cpu=$(col none 4 | median)
base_rss=$(col none 5 | median)
# per round, the variant's wall time minus the no-agent run's of the same round: load that drifts between rounds
# cancels out of these
paired() {
  awk -F, -v v="$1" 'NR > 1 && $2 == "none" {n[$1] = $3} NR > 1 && $2 == v {w[$1] = $3}
    END {for (r in w) if (r in n) print w[r] - n[r]}' "$CSV"
}
echo
echo "start-up, app=$APP${LINGER:+ (linger $LINGER ms)}, $RUNS interleaved runs per variant, load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-15s %28s %9s %14s %7s %8s %10s %14s\n' variant "wall ms (min p25 MEDIAN p75 max)" "+wall ms" "+wall paired" "cpu ms" "+cpu ms" "rss MiB" "agent setup ms"
for v in "${VS[@]}"; do
  pw=$(paired "$v" | median)
  read -r wmin w25 wmed w75 wmax < <(col "$v" 3 | quartiles)
  cpu=$(col "$v" 4 | median)
  rss=$(col "$v" 5 | median)
  setup=$(col "$v" 6 | median)
  awk -v v="$v" -v a="$wmin" -v b="$w25" -v c="$wmed" -v d="$w75" -v e="$wmax" -v bw="$base_wall" -v cpu="$cpu" \
    -v bc="$base_cpu" -v rss="$rss" -v br="$base_rss" -v st="$setup" -v pw="$pw" \
    'BEGIN {printf "%-15s %5.0f %5.0f [%5.0f] %5.0f %5.0f %9.0f %14s %7.0f %8.0f %4.0f (%+4.0f) %14s\n",
      v, a, b, c, d, e, c - bw, (pw == "nan" ? "-" : sprintf("%.0f", pw)), cpu, cpu - bc, rss / 1024,
      (rss - br) / 1024, (st == "nan" ? "-" : st)}'
done
echo "(+wall, +cpu: difference of medians against 'none'; +wall paired: median over rounds of the difference against"
echo " that round's 'none' run; per-run values in $CSV)"
