// All activities, built from their dependencies (createActivities(deps)); workflows import the TYPE only.
import * as backup from './backup.ts';
import type { ActivityDeps } from './deps.ts';
import * as etcd from './etcd.ts';
import * as failover from './failover-drill.ts';
import * as helm from './helm.ts';
import * as kube from './kube.ts';
import * as liveMesh from './live-mesh.ts';
import * as cilium from './cilium.ts';
import * as redfish from './redfish.ts';
import * as restoreDrill from './restore-drill.ts';
import * as rotate from './rotate.ts';
import * as checks from './rollout-checks.ts';
import * as talos from './talos.ts';
import * as upgradeCilium from './upgrade/cilium.ts';
import * as upgradeKubernetes from './upgrade/kubernetes.ts';
import * as upgradeSurvey from './upgrade/survey.ts';
import * as upgradeTalos from './upgrade/talos.ts';
import { createVerifyActivities } from './verify.ts';

type Adapter<I, O> = (deps: ActivityDeps, input: I) => Promise<O>;

function bind<I, O>(deps: ActivityDeps, fn: Adapter<I, O>): (input: I) => Promise<O> {
  return (input) => fn(deps, input);
}

export function createActivities(deps: ActivityDeps) {
  return {
    // preflight, boot and mesh-level checks
    preflightCluster: bind(deps, checks.preflightCluster),
    awaitNodesBooted: bind(deps, checks.awaitNodesBooted),
    verifyGlobalCanary: bind(deps, checks.verifyGlobalCanary),
    bootNodeIntoInstaller: bind(deps, redfish.bootNodeIntoInstaller),
    // Talos
    nodeStage: bind(deps, talos.nodeStage),
    ensureTalosSecrets: bind(deps, talos.ensureTalosSecrets),
    genMachineConfigs: bind(deps, talos.genMachineConfigs),
    applyMachineConfig: bind(deps, talos.applyMachineConfig),
    waitNodeRunning: bind(deps, talos.waitNodeRunning),
    bootstrapEtcd: bind(deps, talos.bootstrapEtcd),
    fetchKubeconfig: bind(deps, talos.fetchKubeconfig),
    etcdMembers: bind(deps, talos.etcdMembers),
    etcdLatencyGate: bind(deps, etcd.etcdLatencyGate),
    // Cilium and Kubernetes
    ensureMeshCa: bind(deps, helm.ensureMeshCa),
    ensureCilium: bind(deps, helm.ensureCilium),
    ciliumReady: bind(deps, cilium.ciliumReady),
    ensureLbIpam: bind(deps, kube.ensureLbIpam),
    clustermeshApiserverAddress: bind(deps, kube.clustermeshApiserverAddress),
    clustermeshStatus: bind(deps, cilium.clustermeshStatus),
    clustermeshConnect: bind(deps, cilium.clustermeshConnect),
    applyManifests: bind(deps, kube.applyManifests),
    // day two: the live mesh a join or a detach changes, and the global services it must keep
    readLiveCluster: bind(deps, liveMesh.readLiveCluster),
    globalServiceSources: bind(deps, cilium.globalServiceSources),
    globalBackendsKept: bind(deps, liveMesh.globalBackendsKept),
    removeMeshPeers: bind(deps, helm.removeMeshPeers),
    // day two: upgrade
    surveyCluster: bind(deps, upgradeSurvey.surveyCluster),
    etcdUpgradeGate: bind(deps, upgradeTalos.etcdUpgradeGate),
    upgradeTalosNode: bind(deps, upgradeTalos.upgradeTalosNode),
    upgradeKubernetes: bind(deps, upgradeKubernetes.upgradeKubernetes),
    ciliumAtVersion: bind(deps, upgradeCilium.ciliumAtVersion),
    // protection (issue #17): etcd snapshots, stored encrypted
    pickSnapshotSource: bind(deps, backup.pickSnapshotSource),
    takeEtcdSnapshot: bind(deps, backup.takeEtcdSnapshot),
    listEtcdSnapshots: bind(deps, backup.listEtcdSnapshots),
    pruneEtcdSnapshots: bind(deps, backup.pruneEtcdSnapshots),
    notifyBackupFailure: bind(deps, backup.notifyBackupFailure),
    drillPreflight: bind(deps, restoreDrill.drillPreflight),
    recoverEtcdOnDrillNode: bind(deps, restoreDrill.recoverEtcdOnDrillNode),
    proveRestoredEtcd: bind(deps, restoreDrill.proveRestoredEtcd),
    // certificate and CA rotation
    meshCaFacts: bind(deps, rotate.meshCaFacts),
    ensureNextMeshCa: bind(deps, rotate.ensureNextMeshCa),
    promoteMeshCa: bind(deps, rotate.promoteMeshCa),
    readClusterTls: bind(deps, rotate.readClusterTls),
    applyClusterTls: bind(deps, rotate.applyClusterTls),
    meshTrustHolds: bind(deps, rotate.meshTrustHolds),
    meshPeersConnected: bind(deps, rotate.meshPeersConnected),
    peerLinksNow: bind(deps, rotate.peerLinksNow),
    // failover drill (issue #17, part 3)
    failoverPreflight: bind(deps, failover.failoverPreflight),
    scaleWorkloads: bind(deps, failover.scaleWorkloads),
    observeFailover: bind(deps, failover.observeFailover),
    awaitWorkloadsReady: bind(deps, failover.awaitWorkloadsReady),
    awaitBackendsReturned: bind(deps, failover.awaitBackendsReturned),
    writeFailoverReport: bind(deps, failover.writeFailoverReport),
    ...createVerifyActivities(deps),
  };
}

export type MeshpilotActivities = ReturnType<typeof createActivities>;
