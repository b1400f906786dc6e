#!/usr/bin/env bash
# The real cilium-operator-generic at the Cilium version the blueprints pin, for the LB-IPAM conformance tests
# (test/conformance/, scripts/real-stack.sh); the demo never needs it. Built from the Go module
# github.com/cilium/cilium once per machine (machine cache), linked as .tools/bin/cilium-operator-generic.
# `-tags ipam_provider_operator ./operator` is what the operator Makefile builds as cilium-operator-generic.
source "$(dirname "$0")/../../lib.sh"
VERSION=1.16.19
go_env cilium-operator
export CGO_ENABLED=0

src="$CACHE_DIR/src/cilium-v$VERSION"

drop_apimachinery_fork() { # drop_apimachinery_fork DIR
  # Cilium replaces k8s.io/apimachinery with its fork github.com/cilium/apimachinery v0.30.2-1, which the Go module
  # proxy refuses to serve. The fork only teaches apimachinery's unstructured converters the `omitzero` json tag;
  # LB-IPAM reads pools and Services through typed clients and writes Service and pool status with
  # encoding/json patches, so upstream k8s.io/apimachinery v0.30.2 (the version go.mod requires) behaves the same
  # for everything these tests exercise.
  sed -i '/^[[:space:]]*k8s\.io\/apimachinery => github\.com\/cilium\/apimachinery /d' "$1/go.mod"
  if grep -q 'cilium/apimachinery' "$1/go.mod"; then
    echo "71-cilium-operator: the apimachinery fork replace is still in go.mod" >&2
    exit 1
  fi
}

build_operator() {
  log "go build github.com/cilium/cilium/operator v$VERSION -tags ipam_provider_operator (the first build on a machine takes many minutes)"
  (cd "$src" && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -tags ipam_provider_operator \
    -ldflags "-s -w -X 'github.com/cilium/cilium/pkg/version.ciliumVersion=$VERSION'" -o "$1" ./operator)
}

bin="$CACHE_DIR/bin/cilium-operator-generic-v$VERSION/cilium-operator-generic"
[ -x "$bin" ] || with_lock "src-cilium-v$VERSION" go_module_prepared "github.com/cilium/cilium@v$VERSION" "$src" drop_apimachinery_fork \
  "github.com/cilium/cilium@v$VERSION: module copy for the operator build"
go_binary cilium-operator-generic "v$VERSION" "$TOOLS_DIR/bin/cilium-operator-generic" build_operator

grep -q "^Cilium-Operator $VERSION " <<<"$("$TOOLS_DIR/bin/cilium-operator-generic" --version 2>/dev/null)" \
  || { echo "71-cilium-operator: $TOOLS_DIR/bin/cilium-operator-generic is not $VERSION" >&2; exit 1; }
