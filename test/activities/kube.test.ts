import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import type { FleetSpec } from '../../lab/fleet.ts';
import { bootstrappedLab, labActivityDeps } from '../../lab/kube/test-fixture.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';
import { blockedDetailsOf, FailureType } from '../../contracts/failures.ts';
import { ensureCilium } from '../../activities/helm.ts';
import { applyManifests, clustermeshApiserverAddress, ensureLbIpam, toolVersions } from '../../activities/kube.ts';
import { EXCLUDE_LB_LABEL, SEED_HINT } from '../../activities/kube/lb-diagnosis.ts';

const fleet = (workers: boolean): FleetSpec => ({
  clusters: [
    {
      name: 'cluster-usa',
      endpoint: '10.10.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: '10.10.0.11', site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        ...(workers ? [{ name: 'usa-w-1', address: '10.10.0.21', site: 'usa', role: 'worker' as const, installDisk: '/dev/sda' }] : []),
      ],
    },
  ],
  siteRttMs: {},
});
const BASE = { cluster: { name: 'cluster-usa', id: 1 }, kubeProxyReplacement: true, l2announcements: { enabled: true }, ipam: { mode: 'kubernetes' } };
const MESH = { clustermesh: { useAPIServer: true, apiserver: { service: { type: 'LoadBalancer' } } } };
const pool = (blocks: string, selector = '') =>
  `apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: cluster-usa-pool}\nspec:\n  blocks: ${blocks}\n${selector}`;
const L2 = 'apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: cluster-usa-l2}\nspec: {loadBalancerIPs: true, externalIPs: false}\n';
const manifests = (p: string) => `${p}---\n${L2}`;

/** A cluster with Cilium installed, ready for LB-IPAM. */
async function env(scenario: ScenarioName, opts: { workers?: boolean; budgetMs?: number } = {}) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'kube-adapters-'));
  const labDir = path.join(work, 'lab');
  const kcs = await bootstrappedLab(labDir, scenario, { fleet: fleet(opts.workers ?? true) });
  const { deps, refs } = await labActivityDeps(work, labDir, kcs, opts.budgetMs ?? 2_500);
  const ref = refs['cluster-usa']!;
  await ensureCilium(deps, { kubeconfigRef: ref, chartVersion: '1.16.6', values: BASE });
  return { labDir, deps, ref, kubectl: (...t: string[]) => callsMatching(readCalls(labDir), 'kubectl', t), cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

const blockedOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    assert.equal((err as ApplicationFailure).type, FailureType.blocked, (err as Error).message);
    const d = blockedDetailsOf(err)!;
    assert.ok(d.hint.includes(SEED_HINT), 'every LB diagnosis carries the seed hint');
    return d;
  }
  assert.fail('expected blocked');
};

before(ensureLabBundle);

describe('kube adapters against the lab', () => {
  test('toolVersions reads the three clients', async () => {
    const e = await env('happy');
    try {
      assert.deepEqual(await toolVersions(e.deps), { helm: 'v3.16.4', kubectl: 'v1.32.3', cilium: 'v0.16.24' });
      const r1 = await applyManifests(e.deps, { kubeconfigRef: e.ref, manifests: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n' });
      assert.deepEqual(r1.results, ['namespace/demo created']);
      const r2 = await applyManifests(e.deps, { kubeconfigRef: e.ref, manifests: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n' });
      assert.deepEqual(r2.results, ['namespace/demo unchanged']);
      const bad = await applyManifests(e.deps, { kubeconfigRef: e.ref, manifests: 'kind: [' }).catch((err) => err as ApplicationFailure);
      assert.equal((bad as ApplicationFailure).type, FailureType.fatal);
    } finally {
      e.cleanup();
    }
  });

  test('happy: the canary gets an IP and an announcer, is deleted, and the apiserver then gets its address', async () => {
    const e = await env('happy');
    try {
      const r = await ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}]')), canary: true });
      assert.deepEqual(r, { canaryAddress: '10.10.0.200', announcedBy: 'usa-cp-1' });
      assert.equal(e.kubectl('delete', 'meshpilot-lb-canary').length, 1);
      await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: { ...BASE, ...MESH } });
      assert.deepEqual(await clustermeshApiserverAddress(e.deps, { kubeconfigRef: e.ref }), { address: '10.10.0.200' });
      const again = await ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}]')), canary: true });
      assert.equal(again.canaryAddress, '10.10.0.201', 'idempotent: re-applying is unchanged and the canary takes the next free IP');
    } finally {
      e.cleanup();
    }
  });

  test('no pool: blocked, naming the missing pool', async () => {
    const e = await env('happy');
    try {
      const d = await blockedOf(ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: L2, canary: true }));
      assert.match(d.reason, /<pending>: there is no CiliumLoadBalancerIPPool in the cluster/);
      assert.equal(d.evidence?.condition, 'none', 'LB-IPAM writes no condition before the first pool exists');
    } finally {
      e.cleanup();
    }
  });

  test('selector mismatch: blocked, naming the pool whose selector misses', async () => {
    const e = await env('happy');
    try {
      const d = await blockedOf(
        ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}]', '  serviceSelector: {matchLabels: {app: other}}\n')), canary: true }),
      );
      assert.match(d.reason, /no IP pool selects it \(pools: cluster-usa-pool selector \{"matchLabels":\{"app":"other"\}\}\)/);
      assert.match(d.hint, /serviceSelector/);
    } finally {
      e.cleanup();
    }
  });

  test('lb-pending: out of IPs names who holds them; amending the pool and retrying succeeds', async () => {
    const e = await env('lb-pending');
    try {
      const d = await blockedOf(ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}]')), canary: true }));
      assert.match(d.reason, /every IP of pool cluster-usa-pool is taken by default\/legacy-ingress \(4\)/);
      assert.equal(d.evidence?.['pool.cluster-usa-pool.IPsAvailable'], '0');
      assert.match(d.hint, /meshpilot amend with a new clusters\[\]\.loadBalancer\.pool/);
      const ok = await ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}, {cidr: 10.10.0.208/30}]')), canary: true });
      assert.equal(ok.canaryAddress, '10.10.0.208');
    } finally {
      e.cleanup();
    }
  });

  test('cp-only-excluded: IP assigned, no announcer, no error anywhere: the pause names the label and the Talos patch', async () => {
    const e = await env('cp-only-excluded', { workers: false });
    try {
      const d = await blockedOf(ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 10.10.0.200/30}]')), canary: true }));
      assert.ok(d.reason.includes(EXCLUDE_LB_LABEL), d.reason);
      assert.match(d.reason, /has IP 10\.10\.0\.200 but no node announces it/);
      assert.match(d.hint, /\$patch: delete/);
      assert.equal(d.evidence?.excludedNodes, 'usa-cp-1');
    } finally {
      e.cleanup();
    }
  });

  test('wrong subnet: the IP is outside every announcing node subnet', async () => {
    const e = await env('happy');
    try {
      const d = await blockedOf(ensureLbIpam(e.deps, { kubeconfigRef: e.ref, manifests: manifests(pool('[{cidr: 192.0.2.0/30}]')), canary: true }));
      assert.match(d.reason, /has IP 192\.0\.2\.0, outside the subnet of every node/);
    } finally {
      e.cleanup();
    }
  });

  test('clustermeshApiserverAddress diagnoses the same way (shared diagnosis)', async () => {
    const e = await env('happy', { budgetMs: 1_000 });
    try {
      await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: { ...BASE, ...MESH } });
      const d = await blockedOf(clustermeshApiserverAddress(e.deps, { kubeconfigRef: e.ref }));
      assert.match(d.reason, /LoadBalancer kube-system\/clustermesh-apiserver is <pending>: there is no CiliumLoadBalancerIPPool/);
    } finally {
      e.cleanup();
    }
  });
});
