#!/usr/bin/env bash
# Real talosctl at the pinned Talos version, for the conformance tests that hold the lab's talosctl to it
# (gen secrets, gen config, validate, machineconfig patch: every offline command the activities run).
# Built once per machine from the Go module github.com/siderolabs/talos and linked as .tools/bin/talosctl-real
# (never on the lab's or the demo's PATH).
#
# The module's go.mod replaces github.com/siderolabs/talos/pkg/machinery with ./pkg/machinery, a directory
# the module zip does not hold (it is a module of its own): the build copies the module somewhere writable and
# places github.com/siderolabs/talos/pkg/machinery at the same version where that replace points.
#
# Version: Talos does not stamp it with -X ldflags; `talosctl version --client` prints what
# pkg/machinery/gendata embeds from gendata/data/{tag,sha} (Dockerfile target embed-abbrev-generate writes the
# tag and "undefined" as the SHA, which is what the published machinery module holds). The flags below are the
# release build's for talosctl (Makefile: CGO_ENABLED=0, GO_BUILDTAGS_TALOSCTL=grpcnotrace,
# GO_LDFLAGS=-s -w), plus -trimpath so the binary holds no path of this machine.
source "$(dirname "$0")/../../lib.sh"
TALOS_VERSION=v1.9.5
go_env talosctl

build_talosctl() {
  local out=$1 src machinery work
  log "talosctl $TALOS_VERSION from the Go module github.com/siderolabs/talos (several minutes on a cold cache)"
  src=$(go mod download -json "github.com/siderolabs/talos@$TALOS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  machinery=$(go mod download -json "github.com/siderolabs/talos/pkg/machinery@$TALOS_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$src/cmd/talosctl/main.go" ] && [ -f "$machinery/go.mod" ] \
    || { echo "setup: talos $TALOS_VERSION sources not found in the module cache" >&2; exit 1; }
  grep -q '^[[:space:]]*github.com/siderolabs/talos/pkg/machinery => ./pkg/machinery$' "$src/go.mod" \
    || { echo "setup: talos $TALOS_VERSION no longer replaces pkg/machinery with ./pkg/machinery" >&2; exit 1; }
  work=$(mktemp -d)
  cp -r "$src" "$work/talos"
  chmod -R u+w "$work/talos"
  rm -rf "$work/talos/pkg/machinery"
  cp -r "$machinery" "$work/talos/pkg/machinery"
  chmod -R u+w "$work/talos/pkg/machinery"
  (
    cd "$work/talos"
    # go.work lists sibling modules the zip lacks; go.mod's replaces are all the build needs
    GOWORK=off CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -tags grpcnotrace -ldflags '-s -w' \
      -o "$out" ./cmd/talosctl
  ) || { rm -rf "$work"; exit 1; }
  rm -rf "$work"
}
go_binary talosctl "$TALOS_VERSION" "$TOOLS_DIR/bin/talosctl-real" build_talosctl

# The binary must be the pinned release, not whatever the module cache happened to hold.
grep -qE "^[[:space:]]+Tag:[[:space:]]+$TALOS_VERSION\$" <<<"$("$TOOLS_DIR/bin/talosctl-real" version --client)" \
  || { echo "setup: $TOOLS_DIR/bin/talosctl-real does not report $TALOS_VERSION" >&2; exit 1; }
