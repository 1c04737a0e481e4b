#!/usr/bin/env bash
# Checks the Prometheus side of highwater with promtool:
#   1. promtool check config prometheus.yml   (also checks the rule files it loads)
#   2. promtool check rules  alerts.yml
#   3. promtool test rules   alerts.test.yml  (unit tests for every rule)
#
#   ./test-rules.sh             fails with a hint when promtool is missing
#   ./test-rules.sh --install   installs it first (./install-prometheus.sh, Debian)
#
# Ends with one line "promtool: N passed, N failed" and exits non-zero on any failure.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

if ! command -v promtool >/dev/null 2>&1; then
  if [ "${1:-}" = "--install" ]; then
    "$HERE/install-prometheus.sh" || { echo "test-rules: installing promtool failed" >&2; exit 1; }
  else
    echo "test-rules: promtool not found. Run ./install-prometheus.sh (Debian) or ./test-rules.sh --install," >&2
    echo "            or put promtool (Prometheus >= 2.42) on PATH." >&2
    exit 1
  fi
fi
echo "test-rules: $(promtool --version 2>&1 | head -n1)"

passed=0
failed=0
run() {
  echo "--- promtool $*"
  if promtool "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: promtool $*" >&2; fi
}
run check config prometheus.yml
run check rules alerts.yml
run test rules alerts.test.yml

echo "promtool: $passed passed, $failed failed"
[ "$failed" = 0 ]
