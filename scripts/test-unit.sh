#!/usr/bin/env bash
# The suites that need no server and no built peer (no Temporal dev server, sushy, etcd, Chromium, real helm):
# seconds to a couple of minutes, for the edit-test loop. `npm test` runs these and everything else.
source "$(dirname "$0")/lib.sh"
cd "$MESHPILOT_ROOT"
UNIT_TESTS=(
  test/activities/backup.test.ts
  test/activities/cilium.test.ts
  test/activities/exec/run-tool.test.ts
  test/activities/helm.test.ts
  test/activities/kube.test.ts
  test/activities/talos.test.ts
  test/backup/model.test.ts
  test/blueprint/cli.test.ts
  test/blueprint/hostile-input.test.ts
  test/blueprint/plan.test.ts
  test/blueprint/rules.test.ts
  test/chat/command-text.test.ts
  test/client/failover-drill.test.ts
  test/chat/pause-token.test.ts
  test/chat/replay-guard.test.ts
  test/chat/signature.test.ts
  test/chat/slack-app.test.ts
  test/cli/diagnose-lb.test.ts
  test/codec/aes-gcm-codec.test.ts
  test/codec/server.test.ts
  test/config/env.test.ts
  test/deploy/compose.test.ts
  test/lab/*.test.ts
  test/notify/*.test.ts
  test/scripts/lint-rules.test.ts
  test/secrets/*.test.ts
  test/verify/cli.test.ts
  test/verify/drift-and-cadence.test.ts
  test/workflows/*.test.ts
)
exec node --import tsx --test --test-concurrency="${MESHPILOT_TEST_CONCURRENCY:-2}" --test-timeout=600000 "${UNIT_TESTS[@]}" "$@"
