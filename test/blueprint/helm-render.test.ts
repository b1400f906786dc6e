// The rendered Cilium values through the real Helm 3 and the real Cilium 1.16 chart (installed by
// scripts/setup.d/tests/50-helm-chart.sh): the chart's values schema must accept them, and the manifests must
// carry what the blueprint asked for.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { planRollout, type ClusterPlan, type RolloutPlan } from '../../blueprint/plan.ts';
import { example, type Doc } from './fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HELM = join(ROOT, '.tools/bin/helm');
const SETUP_HINT = 'run: bash scripts/setup.d/tests/50-helm-chart.sh';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshpilot-helm-'));
  assert.ok(existsSync(HELM), `helm is missing at ${HELM}: ${SETUP_HINT}`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function chartFor(c: ClusterPlan): string {
  const chart = join(ROOT, `.tools/charts/cilium-${c.cilium.chartVersion}.tgz`);
  assert.ok(existsSync(chart), `the Cilium chart ${c.cilium.chartVersion} is missing at ${chart}: ${SETUP_HINT}`);
  return chart;
}

let fileNo = 0;
/** helm template with the values passed as files, in order (as the engine passes them to helm upgrade). */
async function template(c: ClusterPlan, values: Array<Record<string, unknown>>) {
  const args = ['template', 'cilium', chartFor(c), '--namespace', 'kube-system', '--kube-version', c.talos.kubernetesVersion];
  for (const v of values) {
    const f = join(dir, `values-${fileNo++}.json`);
    writeFileSync(f, JSON.stringify(v));
    args.push('--values', f);
  }
  const r = await execa(HELM, args, { reject: false, timeout: 60_000, env: { HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir } });
  const manifests: Doc[] = r.exitCode === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean) : [];
  const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata?.name === name);
  return { exitCode: r.exitCode, stderr: r.stderr, manifests, find };
}

const planOf = (doc: Doc): RolloutPlan => planRollout(blueprintSchema.parse(doc));

describe('Cilium values through helm template (real Helm 3.16, real Cilium 1.16 chart)', () => {
  const plan = planOf(example('three-regions'));

  test('base values of every cluster: schema accepted, agent ConfigMap carries name, ID, WireGuard, KPR', async () => {
    for (const c of plan.clusters) {
      const r = await template(c, [c.cilium.values]);
      assert.equal(r.exitCode, 0, r.stderr);
      const cfg = r.find('ConfigMap', 'cilium-config')?.data;
      assert.ok(cfg, 'cilium-config rendered');
      assert.equal(cfg['cluster-name'], c.name);
      assert.equal(cfg['cluster-id'], String(c.id));
      assert.equal(cfg['enable-wireguard'], 'true');
      assert.equal(cfg['kube-proxy-replacement'], 'true');
      assert.equal(cfg['ipam'], 'kubernetes');
      assert.equal(cfg['enable-l2-announcements'], 'true');
      assert.equal(cfg['max-connected-clusters'], '255');
      assert.equal(cfg['cgroup-root'], '/sys/fs/cgroup');
      const agent = r.find('DaemonSet', 'cilium')!.spec.template.spec;
      const env = Object.fromEntries(agent.containers[0].env.filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, e.value]));
      assert.equal(env.KUBERNETES_SERVICE_HOST, 'localhost');
      assert.equal(env.KUBERNETES_SERVICE_PORT, '7445');
      assert.equal(agent.containers[0].securityContext.capabilities.add.includes('SYS_MODULE'), false);
      assert.equal(r.find('Service', 'clustermesh-apiserver'), undefined, 'no apiserver before clustermesh-enable');
    }
  });

  test('base + clustermesh + peer values: a pinned LoadBalancer apiserver and the other clusters configured', async () => {
    const c = plan.clusters[0]!;
    const r = await template(c, [c.cilium.values, c.cilium.clustermeshValues, plan.meshPhase.peerValues[c.name]!]);
    assert.equal(r.exitCode, 0, r.stderr);
    const svc = r.find('Service', 'clustermesh-apiserver');
    assert.equal(svc.spec.type, 'LoadBalancer');
    assert.equal(svc.metadata.annotations['lbipam.cilium.io/ips'], '192.168.10.241');
    const mesh = r.find('Secret', 'cilium-clustermesh');
    assert.deepEqual(Object.keys(mesh.data ?? mesh.stringData ?? {}).filter((k) => k.startsWith('cluster-')).sort(), ['cluster-asia', 'cluster-europe']);
    const kvstore = r.find('Secret', 'cilium-kvstoremesh');
    assert.ok(kvstore, 'KVStoreMesh is on');
    // with KVStoreMesh the apiserver pod (not the agents) dials the peers, at their pinned addresses
    const apiserver = r.find('Deployment', 'clustermesh-apiserver')!.spec.template.spec;
    const aliases = (apiserver.hostAliases ?? []).flatMap((a: Doc) => a.hostnames.map((h: string) => `${h}=${a.ip}`));
    assert.deepEqual(aliases.sort(), ['cluster-asia.mesh.cilium.io=192.168.30.230', 'cluster-europe.mesh.cilium.io=192.168.20.240']);
  });

  test('encryption waived: the chart renders WireGuard off', async () => {
    const d = example('usa-europe');
    d.mesh.encryption = 'none';
    d.mesh.waivers = { unencryptedCrossSite: 'dedicated encrypted carrier link' };
    const c = planOf(d).clusters[1]!;
    const r = await template(c, [c.cilium.values]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.notEqual(r.find('ConfigMap', 'cilium-config').data['enable-wireguard'], 'true');
    assert.equal(r.find('ConfigMap', 'cilium-config').data['cluster-id'], '2');
  });

  test('the chart\'s schema really is enforced (a wrong type is refused)', async () => {
    const c = plan.clusters[0]!;
    const r = await template(c, [{ ...c.cilium.values, cluster: { name: c.name, id: 'one' } }]);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /values don't meet the specifications of the schema/);
  });
});
