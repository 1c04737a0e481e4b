# Shared by the bench/scripts/*.sh: where things are, how to build what is missing, small statistics.
# Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/bench
# the agent module's jar, and the copy that benchmarks and scripts run (refreshed by ensure_bench: a rebuild of the
# agent during a run cannot pull the jar from under it)
AGENT_SRC=${HIGHWATER_AGENT_JAR:-$ROOT/agent/target/highwater-agent.jar}
AGENT_JAR=$BENCH/target/agent/highwater-agent.jar
BENCH_JAR=$BENCH/target/benchmarks.jar
OTEL_VERSION=2.31.0
OTEL_JAR=$BENCH/target/otel/opentelemetry-javaagent-$OTEL_VERSION.jar
JAVA=${JAVA:-$( [ -n "${JAVA_HOME:-}" ] && echo "$JAVA_HOME/bin/java" || command -v java )}
JCMD=${JCMD:-$(dirname "$(readlink -f "$JAVA")")/jcmd}
RESULTS=$BENCH/target/results

log() { echo "[bench] $*" >&2; }

# runs mvn quietly from the repository root; its output is shown only when it fails
mvn_quiet() {
  local out
  out=$(mktemp)
  if (cd "$ROOT" && mvn -q -B -ntp "$@") > "$out" 2>&1; then
    rm -f "$out"
  else
    cat "$out" >&2
    rm -f "$out"
    return 1
  fi
}
die() { echo "[bench] error: $*" >&2; exit 1; }

load1() { cut -d' ' -f1 /proc/loadavg; }

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/{print $2}') GiB"
  echo "jdk: $("$JAVA" -version 2>&1 | head -1)"
  if [ -f "$AGENT_JAR" ]; then
    echo "agent: $AGENT_JAR (copy of $AGENT_SRC), $(stat -c %s "$AGENT_JAR") bytes, built $(date -r "$AGENT_JAR" '+%Y-%m-%d %H:%M:%S'), sha256 $(sha256sum "$AGENT_JAR" | cut -c1-12), repo at $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?')$( [ -n "$(git -C "$ROOT" status --porcelain -- agent 2> /dev/null)" ] && echo ' (agent/ has uncommitted changes)')"
  fi
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# a complete, readable jar (not one half-written by a build running elsewhere)
jar_ok() {
  [ -f "$1" ] || return 1
  if command -v unzip > /dev/null; then unzip -tqq "$1" > /dev/null 2>&1; else "$(dirname "$JAVA")/jar" tf "$1" > /dev/null 2>&1; fi
}

# The agent jar: built with the module's own command when it is not there (never rebuilt when it is). Someone
# else's build may be rewriting it: wait a little for a complete jar before building it ourselves.
ensure_agent() {
  local i
  for ((i = 0; i < 60; i++)); do
    jar_ok "$AGENT_SRC" && [ -f "$ROOT/agent/target/highwater-agent-0.1.0-SNAPSHOT.jar" ] && return 0
    [ -f "$AGENT_SRC" ] || [ -f "$ROOT/agent/target/highwater-agent-0.1.0-SNAPSHOT.jar" ] || break
    sleep 2
  done
  log "no agent jar at $AGENT_SRC: building it (mvn -q -f agent/pom.xml -DskipTests package)"
  (cd "$ROOT" && mvn -q -f agent/pom.xml -DskipTests package) || die "agent build failed"
  jar_ok "$AGENT_SRC" || die "the agent build did not produce $AGENT_SRC"
}

# The copy of the agent jar that this run uses, taken now.
snapshot_agent() {
  mkdir -p "$(dirname "$AGENT_JAR")"
  cp -p "$AGENT_SRC" "$AGENT_JAR.tmp"
  jar_ok "$AGENT_JAR.tmp" || { sleep 5; cp -p "$AGENT_SRC" "$AGENT_JAR.tmp"; }
  jar_ok "$AGENT_JAR.tmp" || die "$AGENT_SRC is not a complete jar (being rebuilt?)"
  mv -f "$AGENT_JAR.tmp" "$AGENT_JAR"
}

# benchmarks.jar: built when missing, or always with BUILD=1, or with BUILD=stale when older than bench's sources
# or the agent's classes compiled into it (after a reactor build, ./run-tests, it is current: no second build).
bench_stale() {
  [ ! -f "$BENCH_JAR" ] && return 0
  [ -n "$(find "$BENCH/src" "$BENCH/pom.xml" "$ROOT/agent/target/highwater-agent-0.1.0-SNAPSHOT.jar" -newer "$BENCH_JAR" 2> /dev/null | head -1)" ]
}

ensure_bench() {
  ensure_agent
  if [ ! -f "$BENCH_JAR" ] || [ "${BUILD:-0}" = 1 ] || { [ "${BUILD:-0}" = stale ] && bench_stale; }; then
    log "building bench/target/benchmarks.jar (mvn -q -f bench/pom.xml -DskipTests package)"
    mvn_quiet -f bench/pom.xml -DskipTests package || die "bench build failed"
  fi
  snapshot_agent
}

# The OpenTelemetry Java agent, from Maven Central, into bench/target/otel.
ensure_otel() {
  if [ ! -f "$OTEL_JAR" ]; then
    log "fetching io.opentelemetry.javaagent:opentelemetry-javaagent:$OTEL_VERSION into bench/target/otel"
    mvn_quiet -f bench/pom.xml org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact=io.opentelemetry.javaagent:opentelemetry-javaagent:$OTEL_VERSION \
      -DoutputDirectory="$BENCH/target/otel" || die "could not fetch the OpenTelemetry Java agent"
  fi
}

ensure_time() {
  [ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
}

# median of the numbers on stdin (one a line)
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
# "min p25 median p75 max" of the numbers on stdin
quartiles() {
  sort -g | awk '{a[NR]=$1} function q(p,  i) {i=1+(NR-1)*p; return a[int(i)]+(a[int(i)+1]-a[int(i)])*(i-int(i))}
    END {if (NR==0) print "nan nan nan nan nan"; else printf "%g %g %g %g %g\n", a[1], q(0.25), q(0.5), q(0.75), a[NR]}'
}
