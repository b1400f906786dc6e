#!/bin/sh
# Build-time installer for the worker image: the pinned talosctl, helm, cilium and kubectl, each checked
# against a SHA-256 before it lands in $OUT. A digest passed as a build arg (*_SHA256) wins; otherwise the
# release's own published checksum is used. Any mismatch or missing checksum fails the build.
set -eu
: "${TALOSCTL_VERSION:?}" "${HELM_VERSION:?}" "${CILIUM_CLI_VERSION:?}" "${KUBECTL_VERSION:?}"
ARCH=${TARGETARCH:-amd64}
OUT=${OUT:-/out}
WORK=$(mktemp -d)
mkdir -p "$OUT"
cd "$WORK"

fetch() { curl -fsSL --retry 3 --proto '=https' -o "$2" "$1"; }

# verify FILE PINNED PUBLISHED: PINNED (build arg) or PUBLISHED (from the release) must match FILE.
verify() {
  want=${2:-$3}
  if [ -z "$want" ]; then echo "no checksum for $1" >&2; exit 1; fi
  echo "$want  $1" | sha256sum -c -
}

# talosctl: one sha256sum.txt per Talos release, one line per asset.
fetch "https://github.com/siderolabs/talos/releases/download/${TALOSCTL_VERSION}/talosctl-linux-${ARCH}" talosctl
fetch "https://github.com/siderolabs/talos/releases/download/${TALOSCTL_VERSION}/sha256sum.txt" talos.sums
verify talosctl "${TALOSCTL_SHA256:-}" "$(awk -v f="talosctl-linux-${ARCH}" '$2 == f || $2 == "*"f {print $1}' talos.sums)"
install -m 0755 talosctl "$OUT/talosctl"

# helm: a .sha256sum next to each archive.
fetch "https://get.helm.sh/helm-${HELM_VERSION}-linux-${ARCH}.tar.gz" helm.tgz
fetch "https://get.helm.sh/helm-${HELM_VERSION}-linux-${ARCH}.tar.gz.sha256sum" helm.sum
verify helm.tgz "${HELM_SHA256:-}" "$(awk '{print $1}' helm.sum)"
tar -xzf helm.tgz "linux-${ARCH}/helm"
install -m 0755 "linux-${ARCH}/helm" "$OUT/helm"

# cilium-cli: a .sha256sum next to each archive.
fetch "https://github.com/cilium/cilium-cli/releases/download/${CILIUM_CLI_VERSION}/cilium-linux-${ARCH}.tar.gz" cilium.tgz
fetch "https://github.com/cilium/cilium-cli/releases/download/${CILIUM_CLI_VERSION}/cilium-linux-${ARCH}.tar.gz.sha256sum" cilium.sum
verify cilium.tgz "${CILIUM_CLI_SHA256:-}" "$(awk '{print $1}' cilium.sum)"
tar -xzf cilium.tgz cilium
install -m 0755 cilium "$OUT/cilium"

# kubectl: a bare hash in kubectl.sha256.
fetch "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${ARCH}/kubectl" kubectl
fetch "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${ARCH}/kubectl.sha256" kubectl.sum
verify kubectl "${KUBECTL_SHA256:-}" "$(tr -d ' \n' < kubectl.sum)"
install -m 0755 kubectl "$OUT/kubectl"

cd / && rm -rf "$WORK"
"$OUT/talosctl" version --client --short >/dev/null
"$OUT/helm" version --short >/dev/null
"$OUT/cilium" version --client >/dev/null
"$OUT/kubectl" version --client >/dev/null
