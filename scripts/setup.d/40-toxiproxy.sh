#!/usr/bin/env bash
# toxiproxy (TCP proxy with injectable latency) for the etcd latency-gate tests: built from the Go module proxy,
# pinned, into .tools/bin/toxiproxy-server. A Go build takes minutes on a cold cache, so it is skipped when the
# binary at the pinned version is already there.
source "$(dirname "$0")/../lib.sh"
VERSION=v2.12.0
BIN_DIR="$TOOLS_DIR/bin"
BIN="$BIN_DIR/toxiproxy-server"
STAMP="$BIN_DIR/.toxiproxy-version"
if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
command -v go >/dev/null || { echo "40-toxiproxy: 'go' is not on PATH; install Go >= 1.22 to build toxiproxy" >&2; exit 1; }
mkdir -p "$BIN_DIR"
log "go install github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
GOBIN="$build_dir" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
mv "$build_dir/server" "$BIN"
echo "$VERSION" > "$STAMP"
"$BIN" -version >/dev/null
