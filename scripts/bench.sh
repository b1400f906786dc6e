#!/usr/bin/env bash
# `npm run bench`: set-up (npm packages, the pinned temporal CLI), then bench/main.ts. Not a test: no pass/fail,
# it prints a table and rewrites bench/README.md. Extra args go to bench/main.ts (--sizes 2,4 --latency 500).
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
# --capacity also runs the production stack (PostgreSQL, the Temporal server and UI built from Go): the test set-up
case " $* " in *" --capacity "*) bash scripts/setup.sh --all ;; *) bash scripts/setup.sh ;; esac
exec node --import tsx bench/main.ts "$@"
