import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { lbDiagnosisSchema } from '../../cli/commands/diagnose.ts';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';

// `meshpilot diagnose lb` on the lab: input errors (exit 2), the human and JSON renderings, --context. Every
// LB-IPAM cause is checked on the real stack and the lab alike in test/conformance/lb-ipam.test.ts.
const LAB_BIN = path.resolve(import.meta.dirname, '../../lab/bin');

let work: string;
let env: NodeJS.ProcessEnv;
let kubeconfigs: Record<string, string>;

async function run(args: string[]) {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false, color: false, env };
  const code = await main(['diagnose', 'lb', ...args], io);
  return { code, out, err };
}

before(async () => {
  await ensureLabBundle();
  work = mkdtempSync(path.join(os.tmpdir(), 'diagnose-lb-'));
  const labDir = path.join(work, 'lab');
  kubeconfigs = await bootstrappedLab(labDir, 'happy');
  env = { PATH: `${LAB_BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work };
  const kc = kubeconfigs['cluster-usa']!;
  const sh = (cmd: string, args: string[], input = '') => execa(path.join(LAB_BIN, cmd), args, { env: { ...env, KUBECONFIG: kc }, extendEnv: false, input });
  writeFileSync(path.join(work, 'values.yaml'), 'cluster: {name: cluster-usa, id: 1}\nkubeProxyReplacement: true\nl2announcements: {enabled: true}\nipam: {mode: kubernetes}\n');
  await sh('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '-n', 'kube-system', '-f', path.join(work, 'values.yaml'), '--wait']);
  await sh('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--timeout=30s']);
  await sh(
    'kubectl',
    ['apply', '-f', '-'],
    [
      'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: near}\nspec:\n  blocks: [{cidr: 10.10.0.200/30}]\n',
      'apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: l2}\nspec: {loadBalancerIPs: true}\n',
      'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  type: LoadBalancer\n  ports: [{port: 443}]\n',
      "apiVersion: v1\nkind: Service\nmetadata: {name: far, namespace: default, annotations: {lbipam.cilium.io/ips: '10.99.0.1'}}\nspec:\n  type: LoadBalancer\n  ports: [{port: 443}]\n",
    ].join('---\n'),
  );
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('meshpilot diagnose lb', () => {
  test('an announced address: exit 0; JSON {ok, address, reason, hint, evidence} matches its schema', async () => {
    const r = await run(['default/web', '--kubeconfig', kubeconfigs['cluster-usa']!, '--json']);
    assert.equal(r.code, 0, r.err);
    const d = lbDiagnosisSchema.parse(JSON.parse(r.out));
    assert.deepEqual({ ok: d.ok, address: d.address, announcedBy: d.evidence.announcedBy }, { ok: true, address: '10.10.0.200', announcedBy: 'usa-cp-1' });
    assert.match(d.reason, /default\/web has 10\.10\.0\.200, announced by node usa-cp-1/);
  });

  test('pending: exit 1; the human report names the cause, the hint and the evidence', async () => {
    const r = await run(['default/far', '--kubeconfig', kubeconfigs['cluster-usa']!]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^pending  default\/far\n/);
    assert.match(r.out, /it requests 10\.99\.0\.1 \(annotation lbipam\.cilium\.io\/ips\), which is outside every IP pool \(near: 10\.10\.0\.200\/30\)/);
    assert.match(r.out, /\n {2}hint: request an IP inside a pool/);
    assert.match(r.out, /\n {4}condition: cilium\.io\/IPAMRequestSatisfied=False reason=no_pool\n/);
  });

  test('a cluster without Cilium: nothing serves pools, so nothing assigns LoadBalancer IPs', async () => {
    const kc = kubeconfigs['cluster-europe']!;
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: bare, namespace: default}\nspec:\n  type: LoadBalancer\n  ports: [{port: 443}]\n';
    const applied = await execa(path.join(LAB_BIN, 'kubectl'), ['apply', '-f', '-'], { env: { ...env, KUBECONFIG: kc }, extendEnv: false, input: svc, reject: false });
    assert.equal(applied.exitCode, 0, applied.stderr);
    const r = await run(['default/bare', '--kubeconfig', kc, '--json']);
    assert.equal(r.code, 1, r.err);
    assert.match(JSON.parse(r.out).reason, /is <pending>: the cluster does not serve CiliumLoadBalancerIPPools/);
    assert.match(JSON.parse(r.out).hint, /install Cilium/);
  });

  test('a Service that does not exist is a diagnosis (exit 1), not an input error', async () => {
    const r = await run(['default/nope', '--kubeconfig', kubeconfigs['cluster-usa']!, '--json']);
    assert.equal(r.code, 1);
    assert.match(JSON.parse(r.out).reason, /Service default\/nope does not exist/);
  });

  test('--context picks a context of a kubeconfig with several; an unknown one is refused (exit 2)', async () => {
    const usa = parse(readFileSync(kubeconfigs['cluster-usa']!, 'utf8'));
    const eu = parse(readFileSync(kubeconfigs['cluster-europe']!, 'utf8'));
    const both = path.join(work, 'both.yaml');
    writeFileSync(both, stringify({ ...eu, clusters: [...eu.clusters, ...usa.clusters], users: [...eu.users, ...usa.users], contexts: [...eu.contexts, ...usa.contexts] }), { mode: 0o600 });
    const r = await run(['default/web', '--kubeconfig', both, '--context', 'admin@cluster-usa', '--json']);
    assert.equal(r.code, 0, r.err || r.out);
    assert.equal(JSON.parse(r.out).address, '10.10.0.200');
    const other = await run(['default/web', '--kubeconfig', both, '--json']);
    assert.equal(other.code, 1, 'the current context is cluster-europe, where default/web does not exist');
    const bad = await run(['default/web', '--kubeconfig', both, '--context', 'admin@mars']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--context admin@mars: no such context in .*both\.yaml \(contexts: admin@cluster-europe, admin@cluster-usa\)/);
  });

  test('bad input exits 2 naming the argument, and never prints the kubeconfig', async () => {
    const kc = kubeconfigs['cluster-usa']!;
    const cases: [string[], RegExp][] = [
      [['web', '--kubeconfig', kc], /"web" is not NAMESPACE\/NAME/],
      [['default/Web', '--kubeconfig', kc], /"Web" is not a valid Service name/],
      [['Default/web', '--kubeconfig', kc], /namespace "Default" is not a valid Kubernetes namespace name/],
      [['default/web'], /--kubeconfig FILE is required/],
      [['default/web', '--kubeconfig', path.join(work, 'missing')], /--kubeconfig .*missing: no such readable file/],
      [['default/web', '--kubeconfig', path.join(work, 'values.yaml')], /not a kubeconfig/],
      [['default/web', '--kubeconfig', kc, '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, msg);
      assert.doesNotMatch(r.err + r.out, /client-key-data|TEFCLUtFWQ/);
    }
  });
});
