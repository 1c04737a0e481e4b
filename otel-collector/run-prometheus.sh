#!/usr/bin/env bash
# Runs Prometheus in the foreground with prometheus.yml (scrapes the collector's
# exporter every 5s, evaluates alerts.yml every 5s). Ctrl-C stops it.
#
#   ./run-prometheus.sh                 UI/API on http://127.0.0.1:9090, data in build/prometheus-data
#   ./run-prometheus.sh --log.level=debug   extra arguments go to prometheus
#
# Environment:
#   HIGHWATER_PROMETHEUS_HOST            127.0.0.1   listen address
#   HIGHWATER_PROMETHEUS_PORT            9090
#   HIGHWATER_PROMETHEUS_DATA            build/prometheus-data   TSDB directory (throw-away)
#   HIGHWATER_PROMETHEUS_RETENTION       2d
#   HIGHWATER_PROMETHEUS_EXPORTER_HOST   127.0.0.1   where the collector's exporter listens
#   HIGHWATER_PROMETHEUS_EXPORTER_PORT   9464        (same variables as config.yaml; when either
#                                                    is set, a copy of prometheus.yml with that
#                                                    target is written to build/prometheus/)
# Prometheus itself: ./install-prometheus.sh (Debian's package, service left stopped).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$HERE/build"
HOST="${HIGHWATER_PROMETHEUS_HOST:-127.0.0.1}"
PORT="${HIGHWATER_PROMETHEUS_PORT:-9090}"
DATA="${HIGHWATER_PROMETHEUS_DATA:-$BUILD_DIR/prometheus-data}"
RETENTION="${HIGHWATER_PROMETHEUS_RETENTION:-2d}"

if ! command -v prometheus >/dev/null 2>&1; then
  echo "[run-prometheus] ERROR: prometheus not found; run ./install-prometheus.sh (Debian) or put Prometheus >= 2.42 on PATH" >&2
  exit 1
fi

CONFIG="$HERE/prometheus.yml"
if [ -n "${HIGHWATER_PROMETHEUS_EXPORTER_HOST:-}${HIGHWATER_PROMETHEUS_EXPORTER_PORT:-}" ]; then
  target="${HIGHWATER_PROMETHEUS_EXPORTER_HOST:-127.0.0.1}:${HIGHWATER_PROMETHEUS_EXPORTER_PORT:-9464}"
  mkdir -p "$BUILD_DIR/prometheus"
  CONFIG="$BUILD_DIR/prometheus/prometheus.yml"
  # rule_files are relative to the config file: point them back here.
  sed -e "s|\"127.0.0.1:9464\"|\"$target\"|" \
      -e "s|^\(  - \)alerts.yml$|\1$HERE/alerts.yml|" \
      "$HERE/prometheus.yml" > "$CONFIG"
  grep -q "\"$target\"" "$CONFIG" || { echo "[run-prometheus] ERROR: could not set the scrape target in $CONFIG" >&2; exit 1; }
  echo "[run-prometheus] scraping $target (config written to $CONFIG)" >&2
fi

mkdir -p "$DATA"
echo "[run-prometheus] http://$HOST:$PORT  config $CONFIG  data $DATA" >&2
exec prometheus \
  --config.file="$CONFIG" \
  --storage.tsdb.path="$DATA" \
  --storage.tsdb.retention.time="$RETENTION" \
  --web.listen-address="$HOST:$PORT" \
  "$@"
