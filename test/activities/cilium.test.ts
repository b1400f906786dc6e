import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab, labActivityDeps } from '../../lab/kube/test-fixture.ts';
import { blockedDetailsOf, FailureType } from '../../contracts/failures.ts';
import { ensureCilium, ensureMeshCa } from '../../activities/helm.ts';
import { applyManifests, clustermeshApiserverAddress, ensureLbIpam } from '../../activities/kube.ts';
import { ciliumReady, clustermeshConnect, clustermeshStatus, globalServiceBackends, UNREACHABLE_POLLS } from '../../activities/cilium.ts';
import { withLabState } from '../../lab/state.ts';

const CLUSTERS = {
  'cluster-usa': { id: 1, pool: '10.10.0.200/30', podCidr: '10.1.0.0/16' },
  'cluster-europe': { id: 2, pool: '10.20.0.200/30', podCidr: '10.2.0.0/16' },
} as const;
type Name = keyof typeof CLUSTERS;
const NAMES = Object.keys(CLUSTERS) as Name[];
const base = (c: Name) => ({ cluster: { name: c, id: CLUSTERS[c].id }, kubeProxyReplacement: true, l2announcements: { enabled: true }, ipam: { mode: 'kubernetes' } });
const withMesh = (c: Name) => ({ ...base(c), clustermesh: { useAPIServer: true, apiserver: { service: { type: 'LoadBalancer' } } } });
const lbManifests = (c: Name) =>
  `apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: ${c}-pool}\nspec: {blocks: [{cidr: ${CLUSTERS[c].pool}}]}\n---\napiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: ${c}-l2}\nspec: {loadBalancerIPs: true}\n`;
const globalApp = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payment-api, namespace: default}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: payment-api}}\n  template:\n    metadata: {labels: {app: payment-api}}\n    spec: {containers: [{name: api, image: payment-api}]}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: payment-api\n  namespace: default\n  annotations: {service.cilium.io/global: "true", service.cilium.io/affinity: local}\nspec:\n  selector: {app: payment-api}\n  ports: [{port: 8080}]\n`;

before(ensureLabBundle);

describe('cilium adapters: a two-cluster mesh in the lab', () => {
  let work: string;
  let labDir: string;
  let deps: Awaited<ReturnType<typeof labActivityDeps>>['deps'];
  let refs: Record<string, string>;
  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cilium-adapters-'));
    labDir = path.join(work, 'lab');
    const kcs = await bootstrappedLab(labDir, 'happy', { podCidrs: { 'cluster-usa': CLUSTERS['cluster-usa'].podCidr, 'cluster-europe': CLUSTERS['cluster-europe'].podCidr } });
    ({ deps, refs } = await labActivityDeps(work, labDir, kcs, 3_000));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('ciliumReady: blocked with pod counts before install, a summary once the agents run', async () => {
    const quick = { ...deps, pollBudgetMs: 600 };
    const err = await ciliumReady(quick, { kubeconfigRef: refs['cluster-usa']! }).catch((e) => e as ApplicationFailure);
    assert.equal((err as ApplicationFailure).type, FailureType.blocked);
    assert.equal(blockedDetailsOf(err)!.reason, 'Cilium is not ready: the cilium DaemonSet does not exist');
    const caRef = (await ensureMeshCa(deps, { mesh: 'usa-europe' })).caRef;
    await Promise.all(NAMES.map((c) => ensureCilium(deps, { kubeconfigRef: refs[c]!, chartVersion: '1.16.6', values: base(c), secretValuesRefs: [caRef] })));
    const r = await ciliumReady(deps, { kubeconfigRef: refs['cluster-usa']! });
    assert.equal(r.summary, 'Cilium 1.16.6 ready: cilium 2/2, cilium-envoy 2/2, cilium-operator 2/2');
  });

  test('clustermeshStatus before the mesh is wired: every expected peer is missing', async () => {
    const caRef = (await ensureMeshCa(deps, { mesh: 'usa-europe' })).caRef;
    for (const c of NAMES) {
      await ensureLbIpam(deps, { kubeconfigRef: refs[c]!, manifests: lbManifests(c), canary: true });
      await ensureCilium(deps, { kubeconfigRef: refs[c]!, chartVersion: '1.16.6', values: withMesh(c), secretValuesRefs: [caRef] });
    }
    const addr = await clustermeshApiserverAddress(deps, { kubeconfigRef: refs['cluster-europe']! });
    assert.equal(addr.address, '10.20.0.200');
    const s = await clustermeshStatus({ ...deps, pollBudgetMs: 800 }, { kubeconfigRef: refs['cluster-usa']!, expectPeers: ['cluster-europe'] });
    assert.deepEqual({ connected: s.connected, missing: s.missing }, { connected: [], missing: ['cluster-europe'] });
  });

  test('clustermeshConnect connects both ways once; a retry is a no-op; status then reports the peer connected', async () => {
    await clustermeshConnect(deps, { kubeconfigRef: refs['cluster-usa']!, peerKubeconfigRef: refs['cluster-europe']!, cluster: 'cluster-usa', peer: 'cluster-europe' });
    await clustermeshConnect(deps, { kubeconfigRef: refs['cluster-usa']!, peerKubeconfigRef: refs['cluster-europe']!, cluster: 'cluster-usa', peer: 'cluster-europe' });
    assert.equal(callsMatching(readCalls(labDir), 'cilium', ['clustermesh', 'connect']).length, 1);
    for (const [c, peer] of [['cluster-usa', 'cluster-europe'], ['cluster-europe', 'cluster-usa']] as const) {
      const s = await clustermeshStatus(deps, { kubeconfigRef: refs[c]!, expectPeers: [peer] });
      assert.deepEqual(s.missing, []);
      assert.equal(s.summary, 'all 1 peers connected on all 2 agents');
    }
  });

  test('globalServiceBackends counts local and remote backends of a global Service', async () => {
    for (const c of NAMES) await applyManifests(deps, { kubeconfigRef: refs[c]!, manifests: globalApp });
    await new Promise((r) => setTimeout(r, 400));
    const b = await globalServiceBackends(deps, { kubeconfigRef: refs['cluster-usa']!, namespace: 'default', name: 'payment-api', remotePodCidrs: [CLUSTERS['cluster-europe'].podCidr] });
    assert.deepEqual(b, { local: 2, remote: 2 });
    const none = await globalServiceBackends(deps, { kubeconfigRef: refs['cluster-usa']!, namespace: 'default', name: 'absent', remotePodCidrs: [] });
    assert.deepEqual(none, { local: 0, remote: 0 });
  });
});

describe('cilium adapters: a pending apiserver blocks connect with the LB diagnosis', () => {
  test('no pool in the peer: blocked naming the missing pool', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'cilium-pending-'));
    try {
      const labDir = path.join(work, 'lab');
      const kcs = await bootstrappedLab(labDir, 'happy');
      const { deps, refs } = await labActivityDeps(work, labDir, kcs, 1_000);
      for (const c of NAMES) await ensureCilium(deps, { kubeconfigRef: refs[c]!, chartVersion: '1.16.6', values: withMesh(c) });
      await new Promise((r) => setTimeout(r, 1_000));
      const err = await clustermeshConnect(deps, { kubeconfigRef: refs['cluster-usa']!, peerKubeconfigRef: refs['cluster-europe']!, cluster: 'cluster-usa', peer: 'cluster-europe' }).catch(
        (e) => e as ApplicationFailure,
      );
      assert.equal((err as ApplicationFailure)?.type, FailureType.blocked, String(err));
      assert.match(blockedDetailsOf(err)!.reason, /clustermesh-apiserver is <pending>: there is no CiliumLoadBalancerIPPool/);
      const st = await clustermeshStatus(deps, { kubeconfigRef: refs['cluster-usa']!, expectPeers: ['cluster-europe'] }).catch((e) => e as ApplicationFailure);
      assert.equal((st as ApplicationFailure).type, FailureType.blocked);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('cilium adapters: an API that does not answer', () => {
  test('ciliumReady pauses after a few polls with "cannot reach the cluster\'s API", not after the whole budget', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'cilium-unreachable-'));
    try {
      const labDir = path.join(work, 'lab');
      const kcs = await bootstrappedLab(labDir, 'happy');
      // a budget far longer than the test: only an early pause lets it end
      const { deps, refs } = await labActivityDeps(work, labDir, kcs, 600_000);
      await withLabState(labDir, (s) => {
        s.clusters['cluster-usa']!.bootstrappedAt = undefined;
      });
      const err = await ciliumReady(deps, { kubeconfigRef: refs['cluster-usa']! }).catch((e) => e as ApplicationFailure);
      assert.equal((err as ApplicationFailure).type, FailureType.blocked, String(err));
      const details = blockedDetailsOf(err)!;
      assert.match(details.reason, /^Cilium status: cannot reach the cluster's API \(Get "https:\/\/10\.10\.0\.10:6443\/api\/v1\/namespaces\/kube-system\/pods\?labelSelector=k8s-app%3Dcilium": dial tcp 10\.10\.0\.10:6443: connect: connection refused\)$/);
      assert.match(details.hint, /talosctl health/);
      // UNREACHABLE_POLLS polls, each retried in place twice (callTool retries: 2)
      assert.equal(callsMatching(readCalls(labDir), 'cilium', ['status']).length, UNREACHABLE_POLLS * 3);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
