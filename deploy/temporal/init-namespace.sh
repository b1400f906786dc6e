#!/bin/sh
# After the server is up: the namespace with its retention, and meshpilot's search attributes (contracts/names.ts).
# Runs as the compose job `temporal-init` (temporalio/admin-tools) and from scripts/prod-stack.sh, unchanged.
# Converges: an existing namespace gets the configured retention, existing attributes are left alone.
set -eu
NS=${TEMPORAL_NAMESPACE:-default}
ADDR=${TEMPORAL_ADDRESS:-temporal:7233}
RETENTION=${MESHPILOT_NAMESPACE_RETENTION:-720h}
t() { temporal --address "$ADDR" "$@"; }

tries=0
until t operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { t operator cluster health; exit 1; }
  sleep 2
done
if t operator namespace describe -n "$NS" >/dev/null 2>&1; then
  t operator namespace update -n "$NS" --retention "$RETENTION"
else
  t operator namespace create -n "$NS" --retention "$RETENTION"
fi
# a namespace just created reaches every service within seconds (their namespace caches refresh)
tries=0
until existing=$(t operator search-attribute list -n "$NS" -o json 2>/dev/null); do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { t operator search-attribute list -n "$NS" -o json; exit 1; }
  sleep 2
done
for attr in MeshpilotMesh MeshpilotState MeshpilotBlockedStep MeshpilotCluster MeshpilotKind; do
  case $existing in
    *"\"$attr\""*) echo "search attribute $attr exists" ;;
    *) t operator search-attribute create -n "$NS" --name "$attr" --type Keyword ;;
  esac
done
echo "namespace $NS ready (retention $RETENTION)"
