// Which activities each step calls, in the order it calls them (workflows/cluster-rollout.ts, mesh-rollout.ts):
// a history records activities, not steps, so the timeline gives each activity to its step by this table. Each
// entry is a phase; a phase lists alternatives (connect calls one or the other, by mesh.method). Typed against
// the activity registry, so a renamed activity fails to compile here; test/pictures/timeline.test.ts holds the
// table to the workflows' own step states on real rollouts.
import type { MeshpilotActivities } from '../../activities/index.ts';
import type { CLUSTER_STEPS, MESH_STEPS } from '../../contracts/steps.ts';

type ActivityName = keyof MeshpilotActivities;
type Phases = ReadonlyArray<readonly ActivityName[]>;

export const STEP_ACTIVITIES: Record<string, Phases> = {
  preflight: [['preflightCluster']],
  boot: [['nodeStage'], ['bootNodeIntoInstaller'], ['awaitNodesBooted']],
  'talos-config': [['ensureTalosSecrets'], ['genMachineConfigs']],
  'apply-config': [['applyMachineConfig'], ['waitNodeRunning']],
  bootstrap: [['bootstrapEtcd']],
  kubeconfig: [['fetchKubeconfig']],
  'etcd-latency': [['etcdMembers'], ['etcdLatencyGate']],
  'cilium-install': [['ensureCilium']],
  'cilium-ready': [['ciliumReady']],
  'lb-ipam': [['ensureLbIpam']],
  'clustermesh-enable': [['ensureCilium']],
  'clustermesh-address': [['clustermeshApiserverAddress']],
  'mesh-preflight': [['readLiveCluster']],
  'mesh-ca': [['ensureMeshCa']],
  // with live members (a join) connect also reads and re-checks global services between the members' changes
  connect: [['ensureCilium', 'clustermeshConnect', 'globalServiceSources', 'ciliumReady', 'globalBackendsKept']],
  'mesh-verify': [['clustermeshStatus']],
  'global-canary': [['applyManifests'], ['verifyGlobalCanary']],
  'apply-manifests': [['applyManifests']],
} satisfies Record<(typeof CLUSTER_STEPS)[number]['name'] | (typeof MESH_STEPS)[number]['name'], Phases>;

/** The phase of `step` that calls `activity`, or undefined when the step never calls it. */
export function phaseOf(step: string, activity: string): number | undefined {
  const i = (STEP_ACTIVITIES[step] ?? []).findIndex((alternatives) => (alternatives as readonly string[]).includes(activity));
  return i < 0 ? undefined : i;
}
