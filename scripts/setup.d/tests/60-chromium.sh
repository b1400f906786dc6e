#!/usr/bin/env bash
# A real browser for test/ui/web-ui.test.ts: Debian's chromium (playwright's own browser download cannot reach
# its CDN from here) driven by playwright-core, which `npm ci` installs from the devDependencies. The emoji font
# draws the step icons of the details table (⏸ ✔ ↷) as an operator's desktop would, so screenshots tell the truth.
source "$(dirname "$0")/../../lib.sh"
apt_install chromium fonts-noto-color-emoji
# The binary, not the /usr/bin/chromium wrapper (its /dev/shm probe misparses two mounts: test/ui/browser.ts).
bin=/usr/lib/chromium/chromium
[ -x "$bin" ] || { echo "setup: $bin is missing after apt-get install chromium" >&2; exit 1; }
"$bin" --headless --no-sandbox --disable-gpu --version >/dev/null \
  || { echo "setup: $bin does not start" >&2; exit 1; }
cd "$MESHPILOT_ROOT"
node -e "import('playwright-core').then(() => {}, (e) => { console.error('setup: playwright-core is not installed (npm ci): ' + e.message); process.exit(1); })"
