#!/usr/bin/env bash
# The lab's tool shim (lab/shim/labcall.go, standard library only): with it, a lab worker serves every simulated
# talosctl/helm/cilium/kubectl call from one process instead of starting node per call. Cached by the source's
# hash. Without Go the lab still works, one node process per call (slower).
source "$(dirname "$0")/../../lib.sh"
SRC="$MESHPILOT_ROOT/lab/shim/labcall.go"
if ! command -v go >/dev/null; then
  echo "setup: 'go' is not on PATH: the lab runs each simulated tool call as its own node process" >&2
  exit 0
fi
build_shim() {
  log "go build lab/shim/labcall.go"
  (cd "$MESHPILOT_ROOT/lab/shim" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$1" labcall.go)
}
go_env "the lab shim"
go_binary meshpilot-lab-call "src-$(sha256sum "$SRC" | cut -c1-12)" "$TOOLS_DIR/bin/meshpilot-lab-call" build_shim
