#!/usr/bin/env bash
# toxiproxy (TCP proxy with injectable latency) for the etcd latency-gate tests: built from the Go module proxy,
# pinned, once per machine (machine cache), linked as .tools/bin/toxiproxy-server.
source "$(dirname "$0")/../../lib.sh"
VERSION=v2.12.0
build_toxiproxy() {
  log "go install github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION (about a minute on a cold cache)"
  local gobin; gobin=$(mktemp -d)
  GOBIN="$gobin" go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION"
  mv "$gobin/server" "$1"
  rmdir "$gobin"
}
go_env toxiproxy
go_binary toxiproxy-server "$VERSION" "$TOOLS_DIR/bin/toxiproxy-server" build_toxiproxy
"$TOOLS_DIR/bin/toxiproxy-server" -version >/dev/null
