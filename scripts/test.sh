#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, type check, then every test file on node's test runner.
# Arguments narrow it to directories or files (`npm run conformance` = scripts/test.sh test/conformance).
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
bash scripts/setup.sh --all
log "typecheck"
npx tsc --noEmit -p .
log "lint"
npm run --silent lint
mapfile -t files < <(find "${@:-test}" -name '*.test.ts' | sort)
[ ${#files[@]} -gt 0 ] || { echo "test: no *.test.ts under $*" >&2; exit 2; }
log "node --test (${#files[@]} files)"
exec node --import tsx --test --test-concurrency="${MESHPILOT_TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
