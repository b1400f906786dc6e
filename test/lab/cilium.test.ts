import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { issueCert } from '../../lab/kube/certs.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const CLUSTERS = { 'cluster-usa': { id: 1, pool: '10.10.0.200/30' }, 'cluster-europe': { id: 2, pool: '10.20.0.200/30' } } as const;
type Name = keyof typeof CLUSTERS;
// a real CA (the chart issues the ClusterMesh certificates from it), as tls.ca values: base64 PEM
const SHARED_CA = (({ cert, key }) => ({ cert: Buffer.from(cert).toString('base64'), key: Buffer.from(key).toString('base64') }))(issueCert({ cn: 'Cilium CA', days: 1095 }));

async function meshLab(opts: { sharedCa: boolean }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-cilium-'));
  const labDir = path.join(dir, 'lab');
  const kc = await bootstrappedLab(labDir, 'happy', { podCidrs: { 'cluster-usa': '10.1.0.0/16', 'cluster-europe': '10.2.0.0/16' } });
  const both = `${kc['cluster-usa']}:${kc['cluster-europe']}`;
  const run = (tool: string, args: string[], kubeconfig = both, input = '') =>
    execa(path.join(BIN, tool), args, { reject: false, input, env: { MESHPILOT_LAB_DIR: labDir, PATH: process.env.PATH, KUBECONFIG: kubeconfig }, extendEnv: false });
  const install = async (c: Name) => {
    const ca = opts.sharedCa ? `tls: {ca: {cert: ${SHARED_CA.cert}, key: ${SHARED_CA.key}}}\n` : '';
    const f = path.join(dir, `${c}.yaml`);
    writeFileSync(f, `cluster: {name: ${c}, id: ${CLUSTERS[c].id}}\nkubeProxyReplacement: true\nl2announcements: {enabled: true}\n${ca}`);
    const h = await run('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '-n', 'kube-system', '-f', f, '--wait', '--kube-context', `admin@${c}`]);
    assert.equal(h.exitCode, 0, h.stderr);
  };
  const pools = async (c: Name) => {
    await run('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--context', `admin@${c}`]);
    const y = `apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: p}\nspec:\n  blocks: [{cidr: ${CLUSTERS[c].pool}}]\n---\napiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: l2}\nspec: {loadBalancerIPs: true}\n`;
    const a = await run('kubectl', ['apply', '-f', '-', '--context', `admin@${c}`], both, y);
    assert.equal(a.exitCode, 0, a.stderr);
  };
  return { dir, labDir, kc, run, install, pools, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const waitReady = async (run: Awaited<ReturnType<typeof meshLab>>['run'], ctx: string) => {
  const r = await run('cilium', ['status', '--wait', '--wait-duration', '5s', '-o', 'json', '--context', ctx]);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
};

before(ensureLabBundle);

describe('lab cilium-cli v0.16', () => {
  let m: Awaited<ReturnType<typeof meshLab>>;
  before(async () => {
    m = await meshLab({ sharedCa: true });
  });
  after(() => m.cleanup());

  test('version --client prints the three cli/version.go lines', async () => {
    const v = await m.run('cilium', ['version', '--client']);
    assert.equal(v.stdout, 'cilium-cli: v0.16.24 compiled with go1.23.5 on linux/amd64\ncilium image (default): v1.16.6\ncilium image (stable): unknown');
    const bad = await m.run('cilium', ['clustermesh', 'status', '--bogus']);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /^Error: unknown flag: --bogus/);
  });

  test('status: the DaemonSet error before install (JSON and exit 1); ready JSON (1-space indent, capitalised pod_state) after', async () => {
    const before = await m.run('cilium', ['status', '-o', 'json', '--context', 'admin@cluster-usa']);
    assert.equal(before.exitCode, 1);
    assert.deepEqual(JSON.parse(before.stdout).errors.cilium.cilium, { Errors: ['daemonsets.apps "cilium" not found'], Warnings: [], Disabled: false });
    assert.match(before.stderr, /^status check failed: \[.*daemonsets\.apps "cilium" not found.*\]$/);
    await m.install('cluster-usa');
    await m.install('cluster-europe');
    const s = await waitReady(m.run, 'admin@cluster-usa');
    assert.deepEqual(s.pod_state.cilium, { Type: 'DaemonSet', Desired: 2, Ready: 2, Available: 2, Unavailable: 0 });
    assert.equal(s.helm_chart_version, '1.16.19');
    assert.equal(s.errors['hubble-relay']['hubble-relay'].Disabled, true);
    const agent = Object.values(s.cilium_status)[0] as any;
    assert.equal(agent.cilium.state, 'Ok');
    assert.deepEqual(agent['cluster-mesh'].clusters, []);
    const raw = (await m.run('cilium', ['status', '-o', 'json', '--context', 'admin@cluster-usa'])).stdout;
    assert.match(raw, /^\{\n "image_count"/);
  });

  test('clustermesh enable validates --service-type; status with a pending LoadBalancer fails like the real CLI', async () => {
    const none = await m.run('cilium', ['clustermesh', 'enable', '--context', 'admin@cluster-usa']);
    assert.equal(none.stderr, "\nError: Unable to enable ClusterMesh: cannot auto-detect service type, please specify using '--service-type' option");
    const cip = await m.run('cilium', ['clustermesh', 'enable', '--service-type', 'ClusterIP', '--context', 'admin@cluster-usa']);
    assert.match(cip.stderr, /service type "ClusterIP" is not valid/);
    for (const c of ['cluster-usa', 'cluster-europe']) {
      const e = await m.run('cilium', ['clustermesh', 'enable', '--service-type', 'LoadBalancer', '--context', `admin@${c}`]);
      assert.equal(e.exitCode, 0, e.stderr);
    }
    const pending = await m.run('cilium', ['clustermesh', 'status', '-o', 'json', '--context', 'admin@cluster-usa']);
    assert.equal(pending.exitCode, 1);
    assert.equal(pending.stdout, '');
    assert.equal(pending.stderr, '\nError: Unable to determine status:  unable to derive service IPs automatically');
    const waited = await m.run('cilium', ['clustermesh', 'status', '--wait', '--wait-duration', '1500ms', '-o', 'json', '--context', 'admin@cluster-usa']);
    assert.equal(waited.exitCode, 1);
    assert.match(waited.stderr, /⌛ Waiting \(\d+s\) for access information: unable to derive service IPs automatically/);
    assert.match(waited.stderr, /Error: Unable to determine status:  timeout while waiting for condition, last error: unable to derive service IPs automatically$/);
  });

  test('with pools: access information, then connect: both sides list each other and every agent connects', async () => {
    await m.pools('cluster-usa');
    await m.pools('cluster-europe');
    const before = await m.run('cilium', ['clustermesh', 'status', '--wait', '--wait-duration', '3s', '-o', 'json', '--context', 'admin@cluster-usa']);
    assert.equal(before.exitCode, 0, before.stderr);
    const s0 = JSON.parse(before.stdout);
    assert.deepEqual(s0.access_information.service_ips, ['10.10.0.200']);
    assert.equal(s0.access_information.service_port, 2379);
    assert.equal(s0.connectivity.clusters, undefined, 'an empty map is omitted (omitempty)');
    const c = await m.run('cilium', ['clustermesh', 'connect', '--context', 'admin@cluster-usa', '--destination-context', 'admin@cluster-europe']);
    assert.equal(c.exitCode, 0, c.stderr);
    assert.equal(c.stdout, '✅ Connected cluster cluster-usa and cluster-europe!');
    const after = await m.run('cilium', ['clustermesh', 'status', '--wait', '--wait-duration', '5s', '-o', 'json', '--context', 'admin@cluster-europe']);
    const s1 = JSON.parse(after.stdout);
    assert.deepEqual(s1.connectivity.clusters, { 'cluster-usa': { configured: 2, connected: 2 } });
    assert.equal(s1.connectivity.not_ready, undefined);
    const vals = JSON.parse((await m.run('helm', ['get', 'values', 'cilium', '-n', 'kube-system', '-o', 'json', '--kube-context', 'admin@cluster-usa'])).stdout);
    assert.deepEqual(vals.clustermesh.config.clusters, [{ name: 'cluster-europe', ips: ['10.20.0.200'], port: 2379 }]);
  });

  test('a global Service shows backends from both clusters in cilium-dbg service list', async () => {
    const app = (c: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: default}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: nginx}]}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: default\n  annotations: {service.cilium.io/global: "true"}\nspec:\n  selector: {app: api}\n  ports: [{port: 8080}]\n# ${c}\n`;
    for (const c of ['cluster-usa', 'cluster-europe']) assert.equal((await m.run('kubectl', ['apply', '-f', '-', '--context', `admin@${c}`], undefined, app(c))).exitCode, 0);
    await new Promise((r) => setTimeout(r, 400));
    const svc = JSON.parse((await m.run('kubectl', ['get', 'svc', 'api', '-o', 'json', '--context', 'admin@cluster-usa'])).stdout);
    const list = await m.run('kubectl', ['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--context', 'admin@cluster-usa', '--', 'cilium-dbg', 'service', 'list', '-o', 'json']);
    assert.equal(list.exitCode, 0, list.stderr);
    const entry = JSON.parse(list.stdout).find((e: any) => e.spec['frontend-address'].ip === svc.spec.clusterIP);
    const ips = entry.spec['backend-addresses'].map((b: any) => b.ip);
    assert.equal(ips.filter((ip: string) => ip.startsWith('10.1.')).length, 2);
    assert.equal(ips.filter((ip: string) => ip.startsWith('10.2.')).length, 2);
    const badExec = await m.run('kubectl', ['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'nope', '--context', 'admin@cluster-usa', '--', 'cilium-dbg', 'status']);
    assert.match(badExec.stderr, /container nope is not valid for pod cilium-/);
  });

  test('call log: one connect, and helm upgrades from enable/connect are recorded as cilium calls', () => {
    const calls = readCalls(m.labDir);
    assert.equal(callsMatching(calls, 'cilium', ['clustermesh', 'connect']).length, 1);
    assert.equal(callsMatching(calls, 'helm', ['upgrade']).length, 2);
  });
});

describe('lab cilium-cli: CA mismatch', () => {
  test('connect without a shared CA warns and embeds the remote TLS (connected, degraded)', async () => {
    const m = await meshLab({ sharedCa: false });
    try {
      for (const c of ['cluster-usa', 'cluster-europe'] as const) {
        await m.install(c);
        await m.pools(c);
        assert.equal((await m.run('cilium', ['clustermesh', 'enable', '--service-type', 'LoadBalancer', '--context', `admin@${c}`])).exitCode, 0);
      }
      await new Promise((r) => setTimeout(r, 700));
      const c = await m.run('cilium', ['clustermesh', 'connect', '--context', 'admin@cluster-usa', '--destination-context', 'admin@cluster-europe']);
      assert.equal(c.exitCode, 0, c.stderr);
      assert.match(c.stdout, /^⚠️ Cilium CA certificates do not match between clusters\. Multicluster features will be limited!/);
      const s = JSON.parse((await m.run('cilium', ['clustermesh', 'status', '--wait', '--wait-duration', '5s', '-o', 'json', '--context', 'admin@cluster-usa'])).stdout);
      assert.deepEqual(s.connectivity.clusters, { 'cluster-europe': { configured: 2, connected: 2 } });
    } finally {
      m.cleanup();
    }
  });
});

describe('lab cilium-cli: Hubble relay', () => {
  let m: Awaited<ReturnType<typeof meshLab>>;
  before(async () => {
    m = await meshLab({ sharedCa: false });
  });
  after(() => m.cleanup());

  test('hubble.relay.enabled renders the hubble-relay Deployment, and status reports it in JSON and text', async () => {
    const f = path.join(m.dir, 'hubble.yaml');
    writeFileSync(f, `cluster: {name: cluster-usa, id: ${CLUSTERS['cluster-usa'].id}}\nkubeProxyReplacement: true\nhubble: {relay: {enabled: true}}\n`);
    const h = await m.run('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '-n', 'kube-system', '-f', f, '--wait', '--kube-context', 'admin@cluster-usa']);
    assert.equal(h.exitCode, 0, String(h.stderr));
    const s = await waitReady(m.run, 'admin@cluster-usa');
    assert.deepEqual(s.pod_state['hubble-relay'], { Type: 'Deployment', Desired: 1, Ready: 1, Available: 1, Unavailable: 0 });
    assert.deepEqual(s.errors['hubble-relay'], { 'hubble-relay': { Errors: [], Warnings: [], Disabled: false } });
    assert.equal(s.errors['hubble-ui']['hubble-ui'].Disabled, true);
    const text = await m.run('cilium', ['status', '--context', 'admin@cluster-usa']);
    assert.match(String(text.stdout), /Hubble Relay:\s+OK/);
    const d = await m.run('kubectl', ['get', 'deployment', 'hubble-relay', '-n', 'kube-system', '-o', 'json', '--context', 'admin@cluster-usa']);
    assert.equal(JSON.parse(String(d.stdout)).spec.replicas, 1);
  });
});
