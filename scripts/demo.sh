#!/usr/bin/env bash
# The README's first command: set-up, then the seed's USA/Europe mesh rolled out on the lab (lb-pending trap,
# pause, fix, resume) on the embedded Temporal dev server, with the Web UI on :8233. Extra args go to `demo`.
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
bash scripts/setup.sh
exec node bin/meshpilot.mjs demo "$@"
