#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package, idempotently,
# without leaving the distribution's Prometheus service running: highwater
# runs Prometheus itself, in the foreground, with its own config and data dir
# (run-prometheus.sh), and the Debian service would otherwise hold port 9090.
#
#   ./install-prometheus.sh      (as root, or with sudo available)
#
# Prints the versions at the end. Safe to run again: it does nothing when both
# binaries are already on PATH (set FORCE=1 to reinstall).
set -euo pipefail

log() { echo "[install-prometheus] $*" >&2; }
die() { echo "[install-prometheus] ERROR: $*" >&2; exit 1; }

if [ "${FORCE:-0}" != 1 ] && command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  log "already installed: $(prometheus --version 2>&1 | head -n1)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (or have sudo) to apt-get install prometheus"
  SUDO="sudo"
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script installs Debian's 'prometheus' package.
  Elsewhere, install Prometheus >= 2.42 (prometheus and promtool on PATH) another way."

# Debian's maintainer scripts start the service through invoke-rc.d, which asks
# /usr/sbin/policy-rc.d first: exit code 101 means "do not start". Install a
# temporary one unless the machine already has its own (containers often do).
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, from highwater install-prometheus.sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show prometheus >/dev/null 2>&1; then
  log "apt-get update"
  $SUDO apt-get update -q
fi
log "apt-get install prometheus (promtool is part of it; no node exporter)"
if ! $SUDO apt-get install -y -q --no-install-recommends prometheus; then
  log "install failed; retrying after apt-get update"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends prometheus
fi

# Belt and braces: if the service got started anyway (no policy-rc.d honoured,
# systemd as init), stop it and keep it from starting at boot.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
else
  if [ -x /etc/init.d/prometheus ]; then $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true; fi
  # no running systemd (container): still drop the unit's enablement symlink
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable prometheus.service >/dev/null 2>&1 || true; fi
  if command -v update-rc.d >/dev/null 2>&1; then $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true; fi
fi
if pid="$(pgrep -x -u prometheus prometheus 2>/dev/null)"; then
  log "WARNING: a 'prometheus' process of user prometheus is still running (pid $pid); stop it: it binds :9090"
fi

log "installed: $(prometheus --version 2>&1 | head -n1)"
log "           $(promtool --version 2>&1 | head -n1)"
