#!/usr/bin/env bash
# Real Helm 3 and the real Cilium 1.16 chart for the tests that render the chart, both from the Go module proxy
# (the only place this machine may fetch them from), once per machine (machine cache), linked as .tools/bin/helm
# and .tools/charts/cilium-<version>.tgz. The proxy refuses github.com/cilium/charts, so the chart comes from the
# Cilium Go module itself, which carries the chart source at install/kubernetes/cilium; `helm package` turns it
# into the same cilium-<version>.tgz the chart repository publishes.
source "$(dirname "$0")/../../lib.sh"
HELM_VERSION=v3.16.4
CILIUM_VERSION=1.16.19
go_env helm

build_helm() {
  log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes on a cold cache)"
  local gobin; gobin=$(mktemp -d)
  GOBIN="$gobin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$gobin/helm" "$1"
  rmdir "$gobin"
}
go_binary helm "$HELM_VERSION" "$TOOLS_DIR/bin/helm" build_helm
helm_bin="$TOOLS_DIR/bin/helm"
# A plain `go install` build reports only "v3.16" itself; the module version is in the build info.
grep -qE "^[[:space:]]+mod[[:space:]]+helm.sh/helm/v3[[:space:]]+$HELM_VERSION[[:space:]]" <<<"$(go version -m "$helm_bin")" \
  || { echo "setup: $helm_bin is not helm $HELM_VERSION" >&2; exit 1; }

package_chart() {
  local tgz=$1
  [ -s "$tgz" ] && return 0
  log "cilium chart $CILIUM_VERSION from the Go module github.com/cilium/cilium"
  local dir work
  dir=$(go mod download -json "github.com/cilium/cilium@v$CILIUM_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/install/kubernetes/cilium/Chart.yaml" ] || { echo "setup: no chart in $dir" >&2; exit 1; }
  work=$(mktemp -d)
  cp -r "$dir/install/kubernetes/cilium" "$work/cilium"
  chmod -R u+w "$work/cilium"
  "$helm_bin" package "$work/cilium" --destination "$work" >/dev/null
  mv "$work/cilium-$CILIUM_VERSION.tgz" "$tgz"
  rm -rf "$work"
}
chart_tgz="$CACHE_DIR/charts/cilium-$CILIUM_VERSION.tgz"
mkdir -p "$CACHE_DIR/charts"
[ -s "$chart_tgz" ] || with_lock "chart-cilium-$CILIUM_VERSION" package_chart "$chart_tgz"
link_tool "$chart_tgz" "$TOOLS_DIR/charts/cilium-$CILIUM_VERSION.tgz"
grep -qx "version: $CILIUM_VERSION" <<<"$(tar -xzOf "$chart_tgz" cilium/Chart.yaml)"
tar -tzf "$chart_tgz" cilium/values.schema.json >/dev/null
