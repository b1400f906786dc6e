#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases with the server's own schema tool (temporal-sql-tool).
# Runs as the compose job `temporal-schema` (temporalio/admin-tools) and from scripts/prod-stack.sh, unchanged.
# Idempotent: create-database accepts an existing database, the 0.0 baseline only adds the version tables when
# missing, and update-schema applies exactly the versioned steps a database has not had yet (a server upgrade
# brings new ones: docs/deployment.md, "Upgrading the Temporal schema").
set -eu
: "${POSTGRES_USER:?set in deploy/db.env}" "${POSTGRES_PWD:?set in deploy/db.env}"
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMA_DIR=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
HOST=${POSTGRES_SEEDS:-postgresql}
PORT=${DB_PORT:-5432}
sql() { temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$POSTGRES_USER" "$@"; }

[ -d "$SCHEMA_DIR/temporal/versioned" ] || { echo "no Temporal schema files under $SCHEMA_DIR" >&2; exit 1; }
# The database may still be starting (compose starts this job once PostgreSQL reports healthy; be patient anyway).
tries=0
until sql --db postgres create-database --defaultdb postgres >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { sql --db postgres create-database --defaultdb postgres; exit 1; }
  sleep 2
done
for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}
  dir=${db##*:}
  sql --db "$name" create-database --defaultdb postgres
  if ! sql --db "$name" setup-schema -v 0.0 >/dev/null 2>&1; then echo "database $name already has its version tables"; fi
  sql --db "$name" update-schema -d "$SCHEMA_DIR/$dir/versioned"
done
echo "temporal schema ready"
