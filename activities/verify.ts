// The verify activities: one read-only check each (a verdict, never a change to the fleet), plus the outcome
// recorder that decides and sends drift notifications. Spread into createActivities(deps).
import type { ActivityDeps } from './deps.ts';
import { checkLbPool } from './verify/lb-pool.ts';
import { checkClustermeshStatus, checkMeshAddresses } from './verify/clustermesh.ts';
import { checkClustermeshCerts, checkClustermeshTrust } from './verify/certs.ts';
import { checkGlobalCanary } from './verify/canary.ts';
import { checkEtcdLatency } from './verify/etcd.ts';
import { checkHubbleRelay } from './verify/hubble.ts';
import { checkClusterIdentity } from './verify/identity.ts';
import { recordVerifyOutcome } from './verify/notify.ts';
import { checkPolicyConsistency } from './verify/policies.ts';
import { checkCiliumVersions } from './verify/versions.ts';
import { checkWireguard } from './verify/wireguard.ts';

type Adapter<I, O> = (deps: ActivityDeps, input: I) => Promise<O>;
const bind =
  <I, O>(deps: ActivityDeps, fn: Adapter<I, O>) =>
  (input: I) =>
    fn(deps, input);

export function createVerifyActivities(deps: ActivityDeps) {
  return {
    checkClustermeshStatus: bind(deps, checkClustermeshStatus),
    checkMeshAddresses: bind(deps, checkMeshAddresses),
    checkLbPool: bind(deps, checkLbPool),
    checkWireguard: bind(deps, checkWireguard),
    checkCiliumVersions: bind(deps, checkCiliumVersions),
    checkClusterIdentity: bind(deps, checkClusterIdentity),
    checkEtcdLatency: bind(deps, checkEtcdLatency),
    checkGlobalCanary: bind(deps, checkGlobalCanary),
    checkPolicyConsistency: bind(deps, checkPolicyConsistency),
    checkHubbleRelay: bind(deps, checkHubbleRelay),
    checkClustermeshCerts: bind(deps, checkClustermeshCerts),
    checkClustermeshTrust: bind(deps, checkClustermeshTrust),
    recordVerifyOutcome: bind(deps, recordVerifyOutcome),
  };
}

export type VerifyActivities = ReturnType<typeof createVerifyActivities>;
