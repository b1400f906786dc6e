#!/usr/bin/env bash
# The lab's tool shim (lab/shim/labcall.go, standard library only): with it, a lab worker serves every simulated
# talosctl/helm/cilium/kubectl call from one process instead of starting node per call. Rebuilt when the source
# is newer than the binary. Without Go the lab still works, one node process per call (slower).
source "$(dirname "$0")/../lib.sh"
SRC="$MESHPILOT_ROOT/lab/shim/labcall.go"
BIN="$TOOLS_DIR/bin/meshpilot-lab-call"
if [ -x "$BIN" ] && [ "$BIN" -nt "$SRC" ]; then exit 0; fi
if ! command -v go >/dev/null; then
  echo "45-lab-shim: 'go' is not on PATH: the lab runs each simulated tool call as its own node process" >&2
  exit 0
fi
mkdir -p "$TOOLS_DIR/bin"
log "go build lab/shim/labcall.go"
tmp="$BIN.tmp.$$"
(cd "$MESHPILOT_ROOT/lab/shim" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$tmp" labcall.go)
mv "$tmp" "$BIN"
