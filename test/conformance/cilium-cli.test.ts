// The lab's cilium-cli held to cilium-cli v0.16.24 through fixtures pinned from its source
// (test/conformance/fixtures/cilium-cli.ts: the Go module proxy refuses the v0.16 module, so the binary cannot be
// built here). The lab is driven into each fixture's cluster state and must print the same thing: exit code, stderr,
// and stdout — exactly, or for JSON the same shape with the values that matter equal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { execa } from 'execa';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { issueCert } from '../../lab/kube/certs.ts';
import { withLabState } from '../../lab/state.ts';
import { CILIUM_CLI, type CliFixture, type JsonRules } from './fixtures/cilium-cli.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');

/** Where the lab's JSON differs from the fixture's, by the fixture's rules (an empty list: the same). */
export function shapeDiff(lab: unknown, fix: unknown, rules: JsonRules, at: string[] = []): string[] {
  const here = at.join('.') || '(root)';
  const matches = (pattern: string) => {
    const p = pattern.split('.');
    return p.length === at.length && p.every((seg, i) => seg === '*' || seg === at[i]);
  };
  if (rules.exact.some(matches)) return isDeepStrictEqual(lab, fix) ? [] : [`${here}: ${JSON.stringify(lab)} is not ${JSON.stringify(fix)}`];
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(lab) !== kind(fix)) return [`${here}: a ${kind(lab)} where cilium-cli prints a ${kind(fix)}`];
  if (Array.isArray(fix)) {
    const items = lab as unknown[];
    if (!fix.length) return items.length ? [`${here}: items where cilium-cli prints none`] : [];
    return items.flatMap((x, i) => shapeDiff(x, fix[0], rules, [...at, String(i)]));
  }
  if (kind(fix) !== 'object') return [];
  const l = lab as Record<string, unknown>;
  const f = fix as Record<string, unknown>;
  if (rules.names.some(matches)) {
    const template = Object.values(f)[0];
    if (template === undefined) return Object.keys(l).length ? [`${here}: entries where cilium-cli prints none`] : [];
    return Object.entries(l).flatMap(([k, v]) => shapeDiff(v, template, rules, [...at, k]));
  }
  const out: string[] = [];
  const extra = Object.keys(l).filter((k) => !(k in f));
  if (extra.length) out.push(`${here}: keys cilium-cli does not print: ${extra.join(', ')}`);
  if (!rules.subset.some(matches)) {
    const missing = Object.keys(f).filter((k) => !(k in l));
    if (missing.length) out.push(`${here}: missing keys: ${missing.join(', ')}`);
  }
  for (const k of Object.keys(l)) if (k in f) out.push(...shapeDiff(l[k], f[k], rules, [...at, k]));
  return out;
}

let dir: string;
let labDir: string;
let both: string;

async function cilium(argv: string[], context = 'admin@cluster-usa') {
  const withContext = argv.includes('--context') || (argv[0] === 'version' && argv.includes('--client')) ? argv : [...argv, '--context', context];
  const r = await execa(path.join(BIN, 'cilium'), withContext, {
    reject: false,
    stripFinalNewline: false,
    env: { MESHPILOT_LAB_DIR: labDir, PATH: process.env.PATH, KUBECONFIG: both },
    extendEnv: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
async function tool(name: string, args: string[], input = '') {
  const r = await execa(path.join(BIN, name), args, { reject: false, input, env: { MESHPILOT_LAB_DIR: labDir, PATH: process.env.PATH, KUBECONFIG: both }, extendEnv: false });
  assert.equal(r.exitCode, 0, `${name} ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** The lab's `cilium` in the fixture's cluster state, held to the fixture. */
async function holds(name: string, f: CliFixture = CILIUM_CLI[name]!): Promise<void> {
  const r = await cilium(f.argv);
  assert.equal(r.exitCode, f.exitCode, `${name}: exit code (stderr: ${r.stderr})`);
  if (typeof f.stderr === 'string') assert.equal(r.stderr, f.stderr, `${name}: stderr`);
  else assert.match(r.stderr, f.stderr, `${name}: stderr`);
  if (typeof f.stdout === 'string') assert.equal(r.stdout, f.stdout, `${name}: stdout`);
  else {
    assert.match(r.stdout, /^\{\n "/, `${name}: JSON with a one-space indent`);
    assert.deepEqual(shapeDiff(JSON.parse(r.stdout), f.stdout.json, f.stdout.rules), [], `${name}: the JSON`);
  }
}

// a real CA (the chart issues the ClusterMesh certificates from it), as tls.ca values: base64 PEM
const SHARED_CA = (({ cert, key }) => ({ cert: Buffer.from(cert).toString('base64'), key: Buffer.from(key).toString('base64') }))(issueCert({ cn: 'Cilium CA', days: 1095 }));
const values = (c: 'cluster-usa' | 'cluster-europe', id: number, extra = '') => {
  const f = path.join(dir, `${c}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    f,
    `cluster: {name: ${c}, id: ${id}}\nkubeProxyReplacement: true\nl2announcements: {enabled: true}\nhubble: {relay: {enabled: true}}\ntls: {ca: {cert: ${SHARED_CA.cert}, key: ${SHARED_CA.key}}}\n${extra}`,
  );
  return f;
};
const helm = (c: string, file: string, wait = true) =>
  tool('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '--version', '1.16.19', '-n', 'kube-system', '-f', file, ...(wait ? ['--wait'] : []), '--kube-context', `admin@${c}`]);
const pool = (c: string, cidr: string) =>
  tool(
    'kubectl',
    ['apply', '-f', '-', '--context', `admin@${c}`],
    `apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: p}\nspec:\n  blocks: [{cidr: ${cidr}}]\n---\napiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: l2}\nspec: {loadBalancerIPs: true}\n`,
  );
const mesh = 'clustermesh: {useAPIServer: true, apiserver: {service: {type: LoadBalancer}}}\n';
const peers = (peer: string, ip: string) =>
  `clustermesh:\n  useAPIServer: true\n  apiserver: {service: {type: LoadBalancer}}\n  config: {enabled: true, clusters: [{name: ${peer}, ips: [${ip}], port: 2379}]}\n`;

before(ensureLabBundle);
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'conformance-cilium-'));
  labDir = path.join(dir, 'lab');
  const kc = await bootstrappedLab(labDir, 'happy', { podCidrs: { 'cluster-usa': '10.1.0.0/16', 'cluster-europe': '10.2.0.0/16' } });
  both = `${kc['cluster-usa']}:${kc['cluster-europe']}`;
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('cilium-cli: the lab against the fixtures pinned from v0.16.24', () => {
  test('version --client', () => holds('version --client'));

  test('an unknown context fails before any command, unwrapped', () => holds('unknown context'));

  test('status before Cilium is installed: JSON on stdout AND exit 1 with the collection errors', () => holds('status: Cilium not installed'));

  test('status when the API does not answer: JSON on stdout AND exit 1', async () => {
    await withLabState(labDir, (s) => {
      s.clusters['cluster-usa']!.extra.bootstrappedAtSaved = s.clusters['cluster-usa']!.bootstrappedAt;
      s.clusters['cluster-usa']!.bootstrappedAt = undefined;
    });
    try {
      await holds('status: API unreachable');
    } finally {
      await withLabState(labDir, (s) => {
        s.clusters['cluster-usa']!.bootstrappedAt = s.clusters['cluster-usa']!.extra.bootstrappedAtSaved as number;
      });
    }
  });

  test('status --wait that times out: the summary on stderr, no JSON', () => holds('status --wait: timeout'));

  test('status of a ready cluster, and version with the release running', async () => {
    await helm('cluster-usa', values('cluster-usa', 1));
    await holds('status: ready');
    await holds('version');
  });

  test('clustermesh status: a pending LoadBalancer fails before any JSON', async () => {
    // no pool yet: --wait would wait for the LoadBalancer's address in vain
    await helm('cluster-usa', values('cluster-usa', 1, mesh), false);
    await holds('clustermesh status: LoadBalancer pending');
  });

  test('clustermesh status: a configured peer that is not connected still exits 0 with JSON', async () => {
    await tool('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--context', 'admin@cluster-usa']);
    await pool('cluster-usa', '10.10.0.200/30');
    await helm('cluster-usa', values('cluster-usa', 1, peers('cluster-europe', '10.20.0.200')));
    await holds('clustermesh status: peer not connected');
  });

  test('clustermesh status: connected through KVStoreMesh', async () => {
    await helm('cluster-europe', values('cluster-europe', 2));
    await tool('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--context', 'admin@cluster-europe']);
    await pool('cluster-europe', '10.20.0.200/30');
    await helm('cluster-europe', values('cluster-europe', 2, peers('cluster-usa', '10.10.0.200')));
    await holds('clustermesh status: connected');
  });
});
