#!/usr/bin/env bash
# sushy-tools (the Redfish BMC emulator, fake driver) for test/activities/redfish.test.ts: PyPI, pinned 2.x, in a
# cached venv linked as .tools/sushy-venv. Its deps (Flask, requests, tenacity, bcrypt, WebOb) come along; bcrypt
# also makes the test htpasswd.
source "$(dirname "$0")/../../lib.sh"
VERSION=2.2.0
pip_venv sushy-venv "sushy-tools==$VERSION"
"$TOOLS_DIR/sushy-venv/bin/sushy-emulator" --help >/dev/null
"$TOOLS_DIR/sushy-venv/bin/python" -c 'import bcrypt'
