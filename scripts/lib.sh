# Shared helpers for scripts/*.sh. Every installer is idempotent and fails loudly: a test that needs a peer
# must never be skipped because the peer is missing.
#
# Two places hold what the set-up makes:
# - the machine cache, $MESHPILOT_CACHE_DIR (default ~/.cache/meshpilot): pinned tools, Python venvs, Go module and
#   build caches and Go-built binaries, each keyed by its version, so a second clone or a CI run on the same
#   machine downloads and compiles nothing again;
# - this clone's .tools/: links into that cache under stable names (.tools/bin/helm, .tools/temporal-venv, …)
#   and what is built from this clone's own sources (the lab bundle).
set -euo pipefail
MESHPILOT_ROOT=$(CDPATH= cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR="$MESHPILOT_ROOT/.tools"
CACHE_DIR="${MESHPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/meshpilot}"
mkdir -p "$TOOLS_DIR/bin" "$CACHE_DIR"

# scripts/setup.sh exports SETUP_PROGRESS ("3/8") so a step's lines say how far the set-up is.
log() { printf '\033[2m[setup%s]\033[0m %s\n' "${SETUP_PROGRESS:+ $SETUP_PROGRESS}" "$*" >&2; }

# with_lock NAME CMD... : runs CMD while holding a machine-wide lock, so two clones setting up at once do not
# build the same cached artifact side by side.
with_lock() {
  local name=$1; shift
  mkdir -p "$CACHE_DIR/locks"
  (
    flock 9
    "$@"
  ) 9>"$CACHE_DIR/locks/$name"
}

# link_tool TARGET LINK : LINK (below .tools) points at TARGET (in the machine cache).
link_tool() {
  mkdir -p "$(dirname -- "$2")"
  ln -sfn "$1" "$2"
}

# go_env WHAT : Go's module and build caches in the machine cache; no toolchain download.
go_env() {
  command -v go >/dev/null || { echo "setup: 'go' is required to build $1 (install Go >= 1.23)" >&2; exit 1; }
  export GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/build" GOPATH="$CACHE_DIR/go/path" \
    GOFLAGS=-modcacherw GOTOOLCHAIN=local
}

# apt_install PKG... : installs Debian packages that are missing, running apt-get update once per run.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  local stamp="$CACHE_DIR/.apt-updated"
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pip_venv NAME SPEC... : a venv with pinned packages in the machine cache (one per spec and Python version),
# linked as .tools/NAME. A venv names its interpreter by absolute path, so it is built where it stays; the
# .complete stamp says it finished.
pip_venv() {
  local name=$1; shift
  local py key dir
  py=$(python3 -c 'import sys; print("py%d.%d" % sys.version_info[:2])')
  key=$(printf '%s' "$*" | sha256sum | cut -c1-12)
  dir="$CACHE_DIR/venv/$name-$py-$key"
  [ -f "$dir/.complete" ] || with_lock "venv-$name-$key" _pip_venv_create "$name" "$dir" "$@"
  link_tool "$dir" "$TOOLS_DIR/$name"
}
_pip_venv_create() {
  local name=$1 dir=$2; shift 2
  [ -f "$dir/.complete" ] && return 0
  log "python venv $name: $* (machine cache)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" || { rm -rf "$dir"; return 1; }
  touch "$dir/.complete"
}

# go_binary NAME VERSION LINK BUILD_FN : the binary NAME built by BUILD_FN (called with the output path) at
# VERSION, kept in the machine cache and linked as LINK. Built once per machine and version.
go_binary() {
  local name=$1 version=$2 link=$3 build_fn=$4
  local out="$CACHE_DIR/bin/$name-$version/$name"
  if [ ! -x "$out" ]; then
    with_lock "bin-$name-$version" _go_binary_build "$out" "$build_fn"
  fi
  link_tool "$out" "$link"
}
_go_binary_build() {
  local out=$1 build_fn=$2
  [ -x "$out" ] && return 0
  mkdir -p "$(dirname -- "$out")"
  local tmp="$out.tmp.$$"
  "$build_fn" "$tmp"
  mv "$tmp" "$out"
}

# go_module_copy MODULE@VERSION DEST : a writable copy of a module from the Go module proxy, without vendor/, for
# builds that must edit its go.mod first (replaces the proxy cannot serve).
go_module_copy() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/go.mod" ] || { echo "setup: go mod download $1 gave no module" >&2; exit 1; }
  rm -rf "$2"
  mkdir -p "$(dirname -- "$2")"
  cp -r "$dir" "$2"
  chmod -R u+w "$2"
  rm -rf "$2/vendor"
}

# go_module_prepared MODULE@VERSION DEST EDIT_FN MESSAGE : go_module_copy, then EDIT_FN DEST edits its go.mod, then
# its dependencies are downloaded; DEST/.complete marks it done, so it is prepared once per machine. Logs MESSAGE
# when there is work to do.
go_module_prepared() {
  local module=$1 dest=$2 edit_fn=$3 message=$4
  [ -f "$dest/.complete" ] && return 0
  log "$message"
  go_module_copy "$module" "$dest"
  "$edit_fn" "$dest"
  (cd "$dest" && GOFLAGS="$GOFLAGS -mod=mod" go mod download)
  touch "$dest/.complete"
}
