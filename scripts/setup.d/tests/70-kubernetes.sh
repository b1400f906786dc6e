#!/usr/bin/env bash
# A real kube-apiserver and kubectl at the Kubernetes version the blueprints pin, for the conformance tests
# (test/conformance/, scripts/real-stack.sh); the demo never needs them. Built from the Go module
# k8s.io/kubernetes once per machine (machine cache), linked as .tools/bin/kube-apiserver and .tools/bin/kubectl.
#
# `go install k8s.io/kubernetes/cmd/...@v1.32.3` fails: its go.mod replaces every k8s.io/* staging module with
# ./staging/src/k8s.io/*, which the module zip does not hold (nested modules are left out of module zips). So a
# copy of the module gets those replaces rewritten to the published k8s.io/* modules of the same release
# (v0.<minor>.<patch>), which are the same staging sources, and go.work and vendor/ dropped.
# Without the version ldflags hack/lib/version.sh sets, the server says v0.0.0-master and clients cannot parse it.
source "$(dirname "$0")/../../lib.sh"
VERSION=v1.32.3
STAGING_VERSION=v0.${VERSION#v1.}
go_env kubernetes
export CGO_ENABLED=0

src="$CACHE_DIR/src/kubernetes-$VERSION"

point_staging_at_published() { # point_staging_at_published DIR
  rm -f "$1/go.work" "$1/go.work.sum"
  sed -i -E "s#^([[:space:]]*k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+\$#\1 => \1 $STAGING_VERSION#" "$1/go.mod"
  if grep -q '=> ./staging' "$1/go.mod"; then
    echo "70-kubernetes: go.mod still has ./staging replaces after the rewrite:" >&2
    grep '=> ./staging' "$1/go.mod" >&2
    exit 1
  fi
}

# The release's commit and build date (kubernetes/kubernetes tag v1.32.3), so `version` prints what the official
# binaries print.
GIT_COMMIT=32cc146f75aad04beaaa245a7157eb35063a9f99
BUILD_DATE=2025-03-11T19:52:21Z

ldflags() {
  local flags="-s -w" key val
  for kv in "gitVersion=$VERSION" "gitMajor=1" "gitMinor=$(cut -d. -f2 <<<"$VERSION")" "gitTreeState=clean" \
            "gitCommit=$GIT_COMMIT" "buildDate=$BUILD_DATE"; do
    key=${kv%%=*} val=${kv#*=}
    flags+=" -X k8s.io/client-go/pkg/version.$key=$val -X k8s.io/component-base/version.$key=$val"
  done
  printf '%s' "$flags"
}

build_cmd() { # build_cmd CMD OUT
  log "go build k8s.io/kubernetes/cmd/$1 $VERSION (the first build on a machine takes many minutes)"
  (cd "$src" && GOFLAGS="$GOFLAGS -mod=mod" go build -trimpath -ldflags "$(ldflags)" -o "$2" "./cmd/$1")
}
build_kube_apiserver() { build_cmd kube-apiserver "$1"; }
build_kubectl() { build_cmd kubectl "$1"; }

need_build=false
for b in kube-apiserver kubectl; do [ -x "$CACHE_DIR/bin/$b-$VERSION/$b" ] || need_build=true; done
if $need_build; then
  with_lock "src-kubernetes-$VERSION" go_module_prepared "k8s.io/kubernetes@$VERSION" "$src" point_staging_at_published \
    "k8s.io/kubernetes@$VERSION: module with its staging replaces pointed at the published k8s.io/* $STAGING_VERSION"
fi
go_binary kube-apiserver "$VERSION" "$TOOLS_DIR/bin/kube-apiserver" build_kube_apiserver
go_binary kubectl "$VERSION" "$TOOLS_DIR/bin/kubectl" build_kubectl

grep -qx "Kubernetes $VERSION" <<<"$("$TOOLS_DIR/bin/kube-apiserver" --version)" \
  || { echo "70-kubernetes: $TOOLS_DIR/bin/kube-apiserver is not $VERSION" >&2; exit 1; }
grep -q "\"gitVersion\": \"$VERSION\"" <<<"$("$TOOLS_DIR/bin/kubectl" version --client -o json)" \
  || { echo "70-kubernetes: $TOOLS_DIR/bin/kubectl is not $VERSION" >&2; exit 1; }
