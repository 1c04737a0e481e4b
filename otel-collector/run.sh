#!/usr/bin/env bash
# Runs highwater's collector in the foreground with config.yaml (building it
# first if needed, see build.sh). Ctrl-C stops it.
#
#   ./run.sh                      OTLP on 127.0.0.1:4317 (gRPC) and :4318 (HTTP),
#                                 Prometheus exporter on 127.0.0.1:9464/metrics,
#                                 health check on 127.0.0.1:13133
#   ./run.sh --config extra.yaml  extra arguments go to the collector (merged after config.yaml)
#
# Ports and limits: the HIGHWATER_* variables listed at the top of config.yaml, e.g.
#   HIGHWATER_OTLP_HTTP_PORT=14318 HIGHWATER_PROMETHEUS_EXPORTER_PORT=19464 ./run.sh
# HIGHWATER_TRACES_OTLP_ENDPOINT=host:4317 also sends traces there (adds traces-otlp.yaml).
# HIGHWATER_COLLECTOR_CONFIG=/path/to/other.yaml replaces config.yaml.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="${HIGHWATER_COLLECTOR_CONFIG:-$HERE/config.yaml}"

BINARY="$("$HERE/build.sh" --print)" || { echo "[run.sh] ERROR: building the collector failed" >&2; exit 1; }

args=(--config "$CONFIG")
if [ -n "${HIGHWATER_TRACES_OTLP_ENDPOINT:-}" ]; then
  args+=(--config "$HERE/traces-otlp.yaml")
  echo "[run.sh] traces also go to $HIGHWATER_TRACES_OTLP_ENDPOINT" >&2
fi

echo "[run.sh] $BINARY ${args[*]} $*" >&2
echo "[run.sh] OTLP grpc ${HIGHWATER_COLLECTOR_HOST:-127.0.0.1}:${HIGHWATER_OTLP_GRPC_PORT:-4317}," \
  "http ${HIGHWATER_COLLECTOR_HOST:-127.0.0.1}:${HIGHWATER_OTLP_HTTP_PORT:-4318};" \
  "metrics http://${HIGHWATER_PROMETHEUS_EXPORTER_HOST:-127.0.0.1}:${HIGHWATER_PROMETHEUS_EXPORTER_PORT:-9464}/metrics;" \
  "health http://${HIGHWATER_COLLECTOR_HOST:-127.0.0.1}:${HIGHWATER_HEALTH_CHECK_PORT:-13133}/" >&2
# exec: signals (Ctrl-C, SIGTERM from a test harness) reach the collector directly.
exec "$BINARY" "${args[@]}" "$@"
