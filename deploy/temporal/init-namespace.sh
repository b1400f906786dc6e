#!/bin/sh
# One-shot job (temporalio/admin-tools) after the server is healthy: the namespace and meshpilot's search
# attributes (contracts/names.ts). Both steps are idempotent, so re-running `compose up` is safe.
set -eu
NS=${TEMPORAL_NAMESPACE:-default}
ADDR=${TEMPORAL_ADDRESS:-temporal:7233}
RETENTION=${MESHPILOT_NAMESPACE_RETENTION:-720h}

temporal operator cluster health --address "$ADDR"
temporal operator namespace describe --address "$ADDR" -n "$NS" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$ADDR" -n "$NS" --retention "$RETENTION"
for attr in MeshpilotMesh MeshpilotState MeshpilotBlockedStep MeshpilotCluster MeshpilotKind; do
  temporal operator search-attribute create --address "$ADDR" -n "$NS" --name "$attr" --type Keyword 2>/dev/null \
    || echo "search attribute $attr exists"
done
echo "namespace $NS ready"
