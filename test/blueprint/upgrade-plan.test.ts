// The upgrade plan (pure): from a live survey to a blueprint revision — the order, the per-node steps between etcd
// gates, the refusals that name the path to take — and the skew guard of `validate`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planRollout, type RolloutPlan } from '../../blueprint/plan.ts';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { planUpgrade } from '../../blueprint/upgrade/plan.ts';
import type { MeshSurvey } from '../../blueprint/upgrade/survey.ts';
import { example, findIssue, withChange, type Doc } from './fixtures.ts';

const LIVE = { talos: 'v1.9.4', kubernetes: '1.31.7', cilium: '1.16.19' };

function planOf(change: (d: Doc) => void = () => {}): RolloutPlan {
  const d = example('usa-europe');
  for (const c of d.clusters) delete c.installImage;
  change(d);
  return planRollout(blueprintSchema.parse(d));
}

/** Every node and cluster of the plan running `live`, Cilium meshed with the other clusters. */
function surveyOf(plan: RolloutPlan, live = LIVE, tweak: (s: MeshSurvey) => void = () => {}): MeshSurvey {
  const s: MeshSurvey = {
    mesh: plan.mesh,
    clusters: plan.clusters.map((c) => ({
      cluster: c.name,
      refs: { talosconfig: 'ref/t', kubeconfig: 'ref/k', meshCa: 'ref/ca' },
      nodes: c.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role, stage: 'running', talos: live.talos, kubelet: live.kubernetes, ready: true })),
      kubernetes: live.kubernetes,
      cilium: {
        release: 'deployed',
        chart: live.cilium,
        meshConfigEnabled: true,
        peers: plan.clusters.filter((o) => o.name !== c.name).map((o) => ({ name: o.name, ips: ['192.168.99.1'], port: 2379 })),
        agents: [live.cilium],
        apiserver: [live.cilium],
      },
      problems: [],
    })),
  };
  tweak(s);
  return s;
}

const labels = (steps: Array<{ name: string; target?: string }>) => steps.map((s) => `${s.name}${s.target ? ` ${s.target}` : ''}`);

describe('upgrade plan', () => {
  test('Talos node by node (control planes between etcd gates, then workers), then Kubernetes, then Cilium; mesh checks after each cluster', () => {
    const plan = planOf((d) => Object.assign(d.versions, { talos: 'v1.9.5', kubernetes: '1.32.3', cilium: '1.17.6' }));
    const u = planUpgrade(plan, surveyOf(plan));
    assert.deepEqual(u.refusals, []);
    assert.deepEqual(u.order, ['cluster-usa', 'cluster-europe']);
    assert.equal(u.canary, 'cluster-usa');
    assert.deepEqual(labels(u.clusters[0]!.steps), [
      'upgrade-preflight',
      'etcd-gate-before usa-cp-1', 'talos-upgrade usa-cp-1', 'etcd-gate-after usa-cp-1',
      'etcd-gate-before usa-cp-2', 'talos-upgrade usa-cp-2', 'etcd-gate-after usa-cp-2',
      'etcd-gate-before usa-cp-3', 'talos-upgrade usa-cp-3', 'etcd-gate-after usa-cp-3',
      'talos-upgrade usa-worker-1',
      'kubernetes-upgrade', 'cilium-upgrade', 'cilium-verify',
    ]);
    assert.deepEqual(labels(u.meshSteps), ['survey', 'mesh-verify cluster-usa', 'global-canary cluster-usa', 'mesh-verify cluster-europe', 'global-canary cluster-europe']);
    const cilium = u.clusters[0]!.cilium!;
    assert.equal(cilium.upgradeCompatibility, '1.16', 'the minor first installed');
    assert.equal((cilium.values as any).upgradeCompatibility, '1.16');
    // the peers the cluster has now are handed back unchanged
    assert.deepEqual((cilium.values as any).clustermesh.config.clusters, [{ name: 'cluster-europe', ips: ['192.168.99.1'], port: 2379 }]);
    assert.equal(u.clusters[0]!.talos!.image, 'ghcr.io/siderolabs/installer:v1.9.5');
  });

  test('the canary comes first when the blueprint names one; an upgradeCompatibility already set is kept', () => {
    const plan = planOf((d) => {
      d.versions.cilium = '1.17.6';
      d.upgrade = { canary: 'cluster-europe' };
    });
    const u = planUpgrade(plan, surveyOf(plan, { ...LIVE, talos: 'v1.9.5', kubernetes: '1.32.3' }, (s) => (s.clusters[1]!.cilium.upgradeCompatibility = '1.15')));
    assert.deepEqual(u.order, ['cluster-europe', 'cluster-usa']);
    assert.equal(u.clusters[0]!.canary, true);
    assert.equal(u.clusters[0]!.cilium!.upgradeCompatibility, '1.15');
    assert.deepEqual(labels(u.clusters[0]!.steps), ['upgrade-preflight', 'cilium-upgrade', 'cilium-verify'], 'only what changed');
  });

  test('nodes already at the version are left out (a resumed or repeated upgrade converges); nothing left: no clusters', () => {
    const plan = planOf((d) => (d.versions.talos = 'v1.9.5'));
    const u = planUpgrade(plan, surveyOf(plan, { ...LIVE, kubernetes: '1.32.3' }, (s) => (s.clusters[0]!.nodes[0]!.talos = 'v1.9.5')));
    assert.ok(!labels(u.clusters[0]!.steps).some((l) => l.endsWith('usa-cp-1')));
    const done = planUpgrade(plan, surveyOf(plan, { talos: 'v1.9.5', kubernetes: '1.32.3', cilium: '1.16.19' }));
    assert.deepEqual([done.clusters, done.unchanged, done.refusals], [[], ['cluster-usa', 'cluster-europe'], []]);
  });

  test('a skipped Cilium minor is refused with the path to take', () => {
    const plan = planOf((d) => (d.versions.cilium = '1.18.1'));
    const u = planUpgrade(plan, surveyOf(plan, { ...LIVE, kubernetes: '1.32.3' }));
    assert.equal(u.refusals.length, 2);
    assert.match(u.refusals[0]!.message, /skips 1 minor.*take the path 1\.16\.19 → 1\.17\.x \(its latest patch\) → 1\.18\.1/);
  });

  test('Kubernetes two minors ahead, a downgrade, and a Talos minor skipped are refused', () => {
    const k8s = planOf((d) => (d.versions.kubernetes = '1.32.3'));
    assert.match(planUpgrade(k8s, surveyOf(k8s, { ...LIVE, kubernetes: '1.30.2' })).refusals[0]!.message, /1\.30\.2 → 1\.31\.x \(its latest patch\) → 1\.32\.3/);
    const down = planOf((d) => (d.versions.cilium = '1.16.19'));
    assert.match(planUpgrade(down, surveyOf(down, { ...LIVE, cilium: '1.17.6' })).refusals[0]!.message, /older than 1\.17\.6.*helm rollback/);
    const talos = planOf((d) => (d.versions.talos = 'v1.9.5'));
    const r = planUpgrade(talos, surveyOf(talos, { ...LIVE, talos: 'v1.7.6' })).refusals;
    assert.equal(r[0]!.node, 'usa-cp-1');
    assert.match(r[0]!.message, /v1\.7\.6 → v1\.8\.x \(its latest patch\) → v1\.9\.5/);
  });

  test('a clustermesh-apiserver left on the old version gets a cilium-verify step even with the chart at the target', () => {
    const plan = planOf((d) => (d.versions.kubernetes = '1.31.7'));
    const u = planUpgrade(plan, surveyOf(plan, { ...LIVE, talos: 'v1.9.5' }, (s) => (s.clusters[1]!.cilium.apiserver = ['1.15.12'])));
    assert.deepEqual(u.clusters.map((c) => [c.name, labels(c.steps)]), [['cluster-europe', ['upgrade-preflight', 'cilium-verify']]]);
    assert.match(u.warnings.join('\n'), /clustermesh-apiserver 1\.15\.12/);
  });
});

describe('skew guard (validate)', () => {
  test('clusters two Cilium minors apart are an error naming the way forward; one minor apart is a warning', () => {
    // cluster-europe held back on 1.16 while the mesh-wide version moves on
    const two = withChange((d) => {
      d.versions.cilium = '1.18.1';
      d.clusters[1].versions = { cilium: '1.16.19' };
    });
    assert.equal(two.ok, false);
    findIssue(two.errors, 'clusters[1].versions.cilium', /cluster-europe runs Cilium 1\.16\.19 and cluster-usa 1\.18\.1: ClusterMesh supports clusters at most one Cilium minor apart/);
    const one = withChange((d) => {
      d.versions.cilium = '1.17.6';
      d.clusters[1].versions = { cilium: '1.16.19' };
    });
    assert.equal(one.ok, true, JSON.stringify(one.errors));
    findIssue(one.warnings, 'clusters[1].versions.cilium', /two Cilium minors \(1\.16 and 1\.17\)/);
    // a cluster's own version is held to the same floor as the mesh-wide one
    const old = withChange((d) => (d.clusters[1].versions = { cilium: '1.15.12' }));
    findIssue(old.errors, 'clusters[1].versions.cilium', /older than 1\.16/);
  });
  test('an installer image tagged with another Talos version, and an unknown canary, are errors', () => {
    const r = withChange((d) => {
      d.versions.talos = 'v1.9.4';
      d.upgrade = { canary: 'cluster-mars' };
    });
    findIssue(r.errors, 'clusters[0].installImage', /tagged v1\.9\.5 but cluster-usa runs Talos v1\.9\.4/);
    findIssue(r.errors, 'upgrade.canary', /no cluster named cluster-mars/);
  });
});
