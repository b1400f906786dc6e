#!/usr/bin/env bash
# Real Helm 3 and the real Cilium 1.16 chart for test/blueprint/helm-render.test.ts, both from the Go module
# proxy (the only place this machine may fetch them from). The proxy refuses github.com/cilium/charts, so the
# chart comes from the Cilium Go module itself, which carries the chart source at install/kubernetes/cilium;
# `helm package` turns it into the same cilium-<version>.tgz the chart repository publishes.
source "$(dirname "$0")/../lib.sh"
HELM_VERSION=v3.16.4
CILIUM_VERSION=1.16.19

export GOBIN="$TOOLS_DIR/bin" GOPATH="$TOOLS_DIR/gopath" GOMODCACHE="$TOOLS_DIR/gomodcache" \
  GOCACHE="$TOOLS_DIR/gocache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
command -v go >/dev/null || { echo "setup: go is required to build helm" >&2; exit 1; }

helm_bin="$GOBIN/helm"
# A plain `go install` build reports only "v3.16" itself; the module version is in the build info.
helm_installed() { [ -x "$helm_bin" ] && go version -m "$helm_bin" | grep -qE "^[[:space:]]+mod[[:space:]]+helm.sh/helm/v3[[:space:]]+$HELM_VERSION[[:space:]]"; }
if ! helm_installed; then
  log "go install helm $HELM_VERSION (takes a few minutes)"
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
helm_installed || { echo "setup: $helm_bin is not helm $HELM_VERSION" >&2; exit 1; }
"$helm_bin" version >/dev/null

chart_tgz="$TOOLS_DIR/charts/cilium-$CILIUM_VERSION.tgz"
if [ ! -s "$chart_tgz" ]; then
  log "cilium chart $CILIUM_VERSION from the Go module github.com/cilium/cilium"
  dir=$(go mod download -json "github.com/cilium/cilium@v$CILIUM_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/install/kubernetes/cilium/Chart.yaml" ] || { echo "setup: no chart in $dir" >&2; exit 1; }
  mkdir -p "$TOOLS_DIR/charts"
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cp -r "$dir/install/kubernetes/cilium" "$work/cilium"
  chmod -R u+w "$work/cilium"
  "$helm_bin" package "$work/cilium" --destination "$TOOLS_DIR/charts" >/dev/null
fi
tar -xzOf "$chart_tgz" cilium/Chart.yaml | grep -qx "version: $CILIUM_VERSION"
tar -tzf "$chart_tgz" cilium/values.schema.json >/dev/null
