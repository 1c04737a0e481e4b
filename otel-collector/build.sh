#!/usr/bin/env bash
# Builds highwater's OpenTelemetry Collector distribution from builder-config.yaml
# with the official OpenTelemetry Collector Builder (ocb).
#
#   ./build.sh            build if needed (idempotent, cached)
#   ./build.sh --force    rebuild even if the cache says it is up to date
#   ./build.sh --print    print the binary's path (after building if needed)
#
# Everything lands under otel-collector/build/ (git-ignored):
#   build/tools/builder                          the builder, installed with `go install`
#   build/highwater-otelcol/                     generated sources (main.go, components.go, go.mod)
#   build/highwater-otelcol/highwater-otelcol    the collector binary
#   build/.stamp                                 hash of the inputs of the last good build
#
# The build is skipped when the binary exists and the stamp matches the hash of:
# builder-config.yaml, the builder version and `go version`. Go's own module
# cache (GOMODCACHE) and build cache (GOCACHE) stay at their defaults, so a
# second machine-local build after a manifest change is incremental too.
#
# Environment:
#   OCB_VERSION   builder version (default v0.165.0, must match the manifest's core version)
#   GO            go command to use (default: `go` on PATH)
#   GOFLAGS       passed through; -buildvcs=false is added (the generated module
#                 sits inside this git work tree, stamping VCS info is pointless
#                 and fails on "dubious ownership" checkouts)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$HERE/build"
TOOLS_DIR="$BUILD_DIR/tools"
MANIFEST="$HERE/builder-config.yaml"
DIST_NAME="highwater-otelcol"
OUT_DIR="$BUILD_DIR/$DIST_NAME"
BINARY="$OUT_DIR/$DIST_NAME"
STAMP="$BUILD_DIR/.stamp"
OCB_VERSION="${OCB_VERSION:-v0.165.0}"
GO="${GO:-go}"
MIN_GO_MINOR=26   # the go.mod files of collector v0.165.0 / contrib v0.165.1 and of the builder say `go 1.26.0`

force=0
print_path=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --print) print_path=1 ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { if [ "$print_path" = 0 ]; then echo "[build.sh] $*" >&2; fi; }
die() { echo "[build.sh] ERROR: $*" >&2; exit 1; }

# --- Go toolchain ------------------------------------------------------------
if ! command -v "$GO" >/dev/null 2>&1; then
  die "'$GO' not found. The collector is built from its Go modules and needs Go >= 1.$MIN_GO_MINOR
  (distribution packages are often older: check 'go version'). Install it, put 'go' on PATH,
  or set GO=/path/to/go."
fi
go_version_line="$("$GO" version 2>/dev/null)" || die "'$GO version' failed; is the Go installation broken?"
go_minor="$(printf '%s\n' "$go_version_line" | sed -n 's/.*go1\.\([0-9][0-9]*\).*/\1/p')"
if [ -z "$go_minor" ] || [ "$go_minor" -lt "$MIN_GO_MINOR" ]; then
  die "$go_version_line is too old: OpenTelemetry Collector $OCB_VERSION needs Go >= 1.$MIN_GO_MINOR
  (or set GOTOOLCHAIN=go1.$MIN_GO_MINOR.0 to let this go command fetch that toolchain as a module)."
fi

case " ${GOFLAGS:-} " in
  *-buildvcs=*) ;;
  *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;;
esac

mkdir -p "$TOOLS_DIR"

# One build at a time (run.sh and a test harness may call us concurrently).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BUILD_DIR/.lock"
  flock 9
fi

# --- cache check -------------------------------------------------------------
hash_inputs() {
  { cat "$MANIFEST"; echo "ocb=$OCB_VERSION"; echo "$go_version_line"; echo "GOFLAGS=$GOFLAGS"; } \
    | sha256sum | cut -d' ' -f1
}
want="$(hash_inputs)"
if [ "$force" = 0 ] && [ -x "$BINARY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  log "up to date: $BINARY (manifest unchanged; use --force to rebuild)"
  if [ "$print_path" = 1 ]; then echo "$BINARY"; fi
  exit 0
fi

# --- builder -----------------------------------------------------------------
BUILDER="$TOOLS_DIR/builder"
BUILDER_STAMP="$TOOLS_DIR/.builder-version"
if [ ! -x "$BUILDER" ] || [ "$(cat "$BUILDER_STAMP" 2>/dev/null)" != "$OCB_VERSION|$go_version_line" ]; then
  log "installing go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION into $TOOLS_DIR"
  rm -f "$BUILDER_STAMP"
  GOBIN="$TOOLS_DIR" "$GO" install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" \
    || die "could not install the collector builder $OCB_VERSION (is the Go module proxy reachable? GOPROXY=$("$GO" env GOPROXY))"
  echo "$OCB_VERSION|$go_version_line" > "$BUILDER_STAMP"
fi

# --- build -------------------------------------------------------------------
log "building $DIST_NAME from $(basename "$MANIFEST") with $go_version_line"
rm -f "$STAMP"
start=$(date +%s)
# output_path in the manifest is relative: run from this directory.
( cd "$HERE" && "$BUILDER" --config "$MANIFEST" ) > "$BUILD_DIR/build.log" 2>&1 || {
  tail -n 40 "$BUILD_DIR/build.log" >&2
  die "the collector build failed (full log: $BUILD_DIR/build.log)"
}
[ -x "$BINARY" ] || die "the builder finished but $BINARY is missing (see $BUILD_DIR/build.log)"
echo "$want" > "$STAMP"
log "built $BINARY in $(( $(date +%s) - start ))s"
if [ "$print_path" = 1 ]; then echo "$BINARY"; fi
