#!/usr/bin/env bash
# The JMH benchmarks, full length, with the allocation profiler, and the agent-vs-no-agent comparison table.
#
#   bench/scripts/jmh.sh [-rounds N] [JMH options] [benchmark regexp]
#
# Runs io.highwater.bench.Compare (JMH's own command line: -f, -wi, -i, -prof, ...; the benchmarks' defaults are
# 2 forks x (5 x 1 s warm-up + 5 x 1 s measurement)) with -prof gc, writes JMH's JSON to bench/target/results, and
# prints each benchmark's NoAgent and WithAgent scores side by side with their difference. -rounds N runs each pair
# as N rounds of two adjacent one-fork runs, order alternating, and reports the median per-round difference: use
# it on a shared machine whose load drifts. Where Linux perf can
# count hardware events, add -prof perfnorm (this project's 2-core VM cannot: `perf stat -e instructions true`
# says <not supported>).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_bench
mkdir -p "$RESULTS"
STAMP=$(date +%Y%m%d-%H%M%S)
machine
"$JAVA" -cp "$BENCH_JAR" io.highwater.bench.Compare -prof gc -rf json -rff "$RESULTS/jmh-$STAMP.json" "$@" \
  | tee "$RESULTS/jmh-$STAMP.txt"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); JMH output in $RESULTS/jmh-$STAMP.{txt,json}"
