#!/usr/bin/env bash
# CI smoke run of the benchmarks: proves they build and run, measures nothing worth reading.
#
# Builds bench/target/benchmarks.jar unless it is current (and the agent jar if it is missing), then runs one very
# short iteration of every JMH benchmark (-wi 0 -i 1 -r 100ms -f 1, failing on the first error). A "with agent"
# fork fails unless the agent is active and its advice fires inside Netty's ChannelOutboundBuffer; a "no agent"
# fork fails if an agent is there. With --with-scripts, also a tiny pass of each load script (startup, streaming,
# footprint), so they cannot rot. Duration on the 2-core machine: ~45 s for the JMH part with a current jar (load
# 3-4), +15 s when it has to build benchmarks.jar, up to ~95 s under a load of 5+; --with-scripts adds ~30-40 s.
#
# JMH refuses to start while another JMH run holds its lock file, ${java.io.tmpdir}/jmh.lock (jmh-core's Runner;
# -Djmh.ignoreLock=true would only override it). The smoke run gives its JVMs a private java.io.tmpdir instead, so
# it takes a lock of its own: a full-length JMH run elsewhere on the machine (someone's measurement) neither blocks
# it nor is blocked by it. Numbers from it mean nothing anyway. ./run-tests calls this after `mvn verify`.
#
#   bench/scripts/smoke.sh [--with-scripts]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SCRIPTS=0
case "${1:-}" in
  --with-scripts) SCRIPTS=1 ;;
  "") ;;
  *) die "unknown option $1" ;;
esac

t0=$(date +%s)
BUILD=stale ensure_bench
machine
mkdir -p "$RESULTS"
JSON=$RESULTS/smoke.json
# JMH's forks inherit the host JVM's options, this one included
JMH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/highwater-smoke.XXXXXX")
trap 'rm -rf "$JMH_TMP"' EXIT
rm -f "$JSON"
# JMH's own exit status, not the filter's (under pipefail, a `|| true` here would also hide a failing JMH)
set +e
"$JAVA" -Djava.io.tmpdir="$JMH_TMP" -jar "$BENCH_JAR" -wi 0 -i 1 -r 100ms -f 1 -foe true -rf json -rff "$JSON" | tee "$RESULTS/smoke.txt" \
  | grep -E '^(# Benchmark:|# highwater|\[highwater\]|Benchmark |[A-Z][A-Za-z]*\.)'
jmh_status=${PIPESTATUS[0]}
set -e
[ "$jmh_status" = 0 ] || die "a benchmark failed, JMH exited with $jmh_status (see $RESULTS/smoke.txt)"
[ -f "$JSON" ] || die "JMH wrote no results to $JSON"
listed=$("$JAVA" -Djava.io.tmpdir="$JMH_TMP" -jar "$BENCH_JAR" -l | grep -c '^io\.highwater\.')
ran=$(grep -c '"benchmark"' "$JSON")
log "JMH: $listed benchmarks listed, $ran results (one per benchmark and parameter combination)"
(( ran >= listed )) || die "only $ran results for $listed benchmarks"
grep -q 'advice inlined into ChannelOutboundBuffer' "$RESULTS/smoke.txt" || die "no 'with agent' fork confirmed the agent"

if [ "$SCRIPTS" = 1 ]; then
  "$(dirname "$0")/startup.sh" --runs 1 --variants none,highwater | tail -4
  "$(dirname "$0")/streaming.sh" --runs 1 --bytes $((64 << 20)) --warmup-seconds 1 --pause 500 | tail -5
  "$(dirname "$0")/footprint.sh" --connections 200 | grep -E 'tracked by the agent|agent-retained'
fi
echo "smoke: passed in $(( $(date +%s) - t0 )) s"
