#!/usr/bin/env bash
# Set-up, idempotent, in two parts:
#   scripts/setup.sh          what the demo and the CLI need: npm packages, the temporal CLI, the lab shim
#   scripts/setup.sh --all    that, plus every peer and real component the tests use
#   scripts/setup.sh [--all] --list   print the steps it would run, one per line, and nothing else
# Pinned tools land in the machine cache (see scripts/lib.sh), so only the first clone on a machine pays for them.
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
parts=(base)
list=false
for arg in "$@"; do
  case "$arg" in
    --all) parts=(base tests) ;;
    --list) list=true ;;
    *) echo "setup: unknown argument '$arg' (use --all, --list)" >&2; exit 2 ;;
  esac
done
steps=(npm)
for part in "${parts[@]}"; do
  for f in scripts/setup.d/"$part"/*.sh; do steps+=("$f"); done
done
if $list; then printf '%s\n' "${steps[@]}"; exit 0; fi

n=${#steps[@]} i=0
for step in "${steps[@]}"; do
  i=$((i + 1))
  export SETUP_PROGRESS="$i/$n"
  if [ "$step" = npm ]; then
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      log "npm ci"
      npm ci --no-audit --no-fund --loglevel=error
    fi
    continue
  fi
  # a step says what it does when it has work to do; a step already done stays quiet
  start=$SECONDS
  bash "$step"
  [ $((SECONDS - start)) -lt 10 ] || log "$(basename "$step" .sh) done in $((SECONDS - start)) s"
done
unset SETUP_PROGRESS
