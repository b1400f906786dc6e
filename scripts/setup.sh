#!/usr/bin/env bash
# One-time (idempotent) set-up: npm packages, the pinned temporal CLI, and every peer the tests use.
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
for step in scripts/setup.d/*.sh; do
  bash "$step"
done
