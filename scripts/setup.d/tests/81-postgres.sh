#!/usr/bin/env bash
# PostgreSQL for the production stack (scripts/prod-stack.sh): Debian's package (bookworm: 15). Only the server
# binaries are used; the stack runs its own cluster in its own data directory on loopback, never the packaged
# service. Linked as .tools/postgresql (the newest installed major's bin directory).
source "$(dirname "$0")/../../lib.sh"
apt_install postgresql
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] ||
  { echo "81-postgres: postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin" >&2; exit 1; }
link_tool "$bindir" "$TOOLS_DIR/postgresql"
"$TOOLS_DIR/postgresql/postgres" --version >/dev/null
# PostgreSQL refuses to run as root; the stack then runs it as the package's system user.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "81-postgres: running as root and there is no 'postgres' user to run PostgreSQL as" >&2
  exit 1
fi
