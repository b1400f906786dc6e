# Shared helpers for scripts/*.sh. Every installer is idempotent and fails loudly: a test that needs a peer
# must never be skipped because the peer is missing.
set -euo pipefail
MESHPILOT_ROOT=$(CDPATH= cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR="$MESHPILOT_ROOT/.tools"
mkdir -p "$TOOLS_DIR"

log() { printf '\033[2m[setup]\033[0m %s\n' "$*" >&2; }

# apt_install PKG... : installs Debian packages that are missing, running apt-get update once per run.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f "$TOOLS_DIR/.apt-updated" ] || [ -n "$(find "$TOOLS_DIR/.apt-updated" -mmin +360 2>/dev/null)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    touch "$TOOLS_DIR/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pip_venv DIR SPEC... : a project-local venv with pinned packages (re-created when the spec changes).
pip_venv() {
  local dir=$1; shift
  local want="$*"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.spec" 2>/dev/null)" = "$want" ]; then return 0; fi
  log "python venv $dir: $want"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$want" > "$dir/.spec"
}
