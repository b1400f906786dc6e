#!/bin/sh
# One-shot schema job (temporalio/admin-tools): creates or upgrades the two Temporal databases.
# Idempotent: "create" and the 0.0 baseline are no-ops on an existing database; update-schema must succeed.
set -eu
: "${POSTGRES_USER:?set in deploy/db.env}" "${POSTGRES_PWD:?set in deploy/db.env}"
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS:-postgresql}" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"; }

nc -z -w 10 "${POSTGRES_SEEDS:-postgresql}" "${DB_PORT:-5432}"
for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}
  dir=${db##*:}
  sql --db "$name" create 2>/dev/null || echo "database $name exists"
  sql --db "$name" setup-schema -v 0.0 2>/dev/null || echo "database $name already has a schema baseline"
  sql --db "$name" update-schema -d "$SCHEMA_DIR/$dir/versioned"
done
echo "temporal schema ready"
