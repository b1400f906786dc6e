// The topology picture: a pure model of the blueprint (every cluster with its ranges, pool, pinned apiserver and
// node counts; ClusterMesh links; global services and cross-cluster policies as edges; each warning and failing
// verdict where it applies), drawn by Graphviz, written by `meshpilot plan --out`, and opened in Chromium.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBlueprintFile, loadBlueprintText } from '../../blueprint/load.ts';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { projectRoot } from '../../config/env.ts';
import { topologyModel } from '../../pictures/topology/model.ts';
import { topologySvg } from '../../pictures/topology/render.ts';
import { DARK, LIGHT } from '../../pictures/theme.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { launchChromium, type HeadlessBrowser } from '../ui/browser.ts';
import { assertRenders, backgroundIn } from './browser-check.ts';
import { svgText } from './svg-text.ts';

const example = (name: string) => path.join(projectRoot, 'examples', `${name}.yaml`);

async function load(name: string) {
  const r = await loadBlueprintFile(example(name));
  assert.ok(r.blueprint, JSON.stringify(r.errors));
  return r;
}

describe('topology picture', () => {
  let browser: HeadlessBrowser;
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-topology-'));
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('the seed mesh: each cluster with id, site, ranges, pool, pinned apiserver and node counts; one link; the service and the policy as edges', async () => {
    const r = await load('usa-europe');
    const m = topologyModel(r.blueprint!, { warnings: r.warnings });
    assert.equal(m.verified, false);
    assert.deepEqual(
      m.clusters.map((c) => [c.name, c.id, c.region, c.site, c.podCidrs, c.serviceCidrs, c.nodeCidrs, c.lb.blocks, c.apiserverIP, c.nodes]),
      [
        ['cluster-usa', 1, 'us', 'usa', ['10.1.0.0/16'], ['10.96.0.0/16'], ['192.168.10.0/24'], ['192.168.10.240/28'], '192.168.10.241', { controlplane: 3, worker: 1 }],
        ['cluster-europe', 2, 'eu', 'europe', ['10.2.0.0/16'], ['10.97.0.0/16'], ['192.168.20.0/24'], ['192.168.20.240-192.168.20.250'], '192.168.20.240', { controlplane: 3, worker: 1 }],
      ],
    );
    assert.deepEqual(
      m.links.map((l) => [l.a, l.b, l.health, l.label]),
      [['cluster-usa', 'cluster-europe', 'none', 'ClusterMesh · WireGuard']],
    );
    assert.deepEqual(
      m.services.map((s) => [s.a, s.b, s.services]),
      [['cluster-usa', 'cluster-europe', ['default/payment-api:8080 (affinity local)']]],
    );
    // the seed's policy: frontends in the USA may reach the database, enforced in every cluster
    assert.deepEqual(
      m.policies.map((p) => [p.from, p.to, p.policy, p.rule]),
      [['cluster-usa', 'cluster-europe', 'default/cross-cluster-db-access', 'app=frontend → app=database']],
    );
    assert.deepEqual(m.meshMarks, []);
  });

  test('three regions: a ClusterMesh link and a service edge for every pair', async () => {
    const m = topologyModel((await load('three-regions')).blueprint!);
    assert.equal(m.clusters.length, 3);
    assert.deepEqual(m.links.map((l) => `${l.a}-${l.b}`).sort(), ['cluster-europe-cluster-asia', 'cluster-usa-cluster-asia', 'cluster-usa-cluster-europe'].sort());
    assert.equal(m.services.length, 3);
  });

  test('every validation warning is marked where it applies: a cluster, a policy, the mesh', async () => {
    let text = readFileSync(example('usa-europe'), 'utf8');
    // cluster-usa down to one control plane; Cilium outside the verified minor; a policy naming no source cluster
    text = text.replace(/      - name: usa-cp-2[\s\S]*?credentialsRef: bmc\/usa-cp-3\n/, '');
    text = text.replace('cilium: 1.16.19', 'cilium: 1.17.2');
    const r = loadBlueprintText(text);
    assert.ok(r.blueprint, JSON.stringify(r.errors));
    assert.ok(r.warnings.length >= 2, JSON.stringify(r.warnings));
    const m = topologyModel(r.blueprint!, { warnings: r.warnings });
    const usa = m.clusters.find((c) => c.name === 'cluster-usa')!;
    assert.equal(usa.nodes.controlplane, 1);
    assert.equal(usa.health, 'warn');
    assert.ok(
      usa.marks.some((x) => x.source === 'clusters[0].nodes' && /single control-plane node/.test(x.text)),
      JSON.stringify(usa.marks),
    );
    assert.deepEqual(m.clusters.find((c) => c.name === 'cluster-europe')!.marks, []);
    assert.ok(
      m.meshMarks.some((x) => x.source.startsWith('versions.') && /Cilium/.test(x.text)),
      JSON.stringify(m.meshMarks),
    );
    // every warning is drawn somewhere
    const drawn = [...m.meshMarks, ...m.clusters.flatMap((c) => c.marks), ...m.services.flatMap((s) => s.marks), ...m.policies.flatMap((p) => p.marks)].map((x) => x.source);
    for (const w of r.warnings) assert.ok(drawn.includes(w.path), `warning ${w.path} is not drawn`);
    const svg = await topologySvg(m);
    assert.match(svgText(svg), /cluster-usa has a single control-plane node/);
    assert.match(svg, new RegExp(`stroke="${LIGHT.warn}"`), 'the warned cluster has a warning-coloured border');
  });

  test('verdicts colour it: a disconnected peer is a red link, an exhausted pool a red pool, failing checks listed on their cluster', async () => {
    const r = await load('usa-europe');
    const verdicts: Verdict[] = [
      {
        check: 'clustermesh-status',
        cluster: 'cluster-usa',
        status: 'fail',
        summary: 'cluster-usa: 1 of 1 peer(s) not connected on every agent: cluster-europe',
        evidence: { agents: 4, 'peer.cluster-europe': 'not configured' },
        hint: 'h',
      },
      {
        check: 'clustermesh-status',
        cluster: 'cluster-europe',
        status: 'fail',
        summary: 'cluster-europe: 1 of 1 peer(s) not connected on every agent: cluster-usa',
        evidence: { agents: 4, 'peer.cluster-usa': '0/4 connected' },
        hint: 'h',
      },
      {
        check: 'lb-pool',
        cluster: 'cluster-europe',
        status: 'fail',
        summary: 'cluster-europe: pool cluster-europe-pool has no free address',
        evidence: { 'pool.cluster-europe-pool': '0/11 free', 'pool.cluster-europe-pool.heldBy': 'default/x' },
        hint: 'h',
      },
      { check: 'lb-pool', cluster: 'cluster-usa', status: 'ok', summary: 'ok', evidence: { 'pool.cluster-usa-pool': '15/16 free' }, hint: '' },
      { check: 'wireguard', cluster: 'cluster-usa', status: 'ok', summary: 'ok', evidence: {}, hint: '' },
    ];
    const m = topologyModel(r.blueprint!, { warnings: r.warnings, verdicts, revision: 'abc' });
    assert.equal(m.verified, true);
    assert.equal(m.links[0]!.health, 'fail');
    assert.match(m.links[0]!.label, /DISCONNECTED/);
    const eu = m.clusters.find((c) => c.name === 'cluster-europe')!;
    assert.equal(eu.lb.health, 'fail');
    assert.equal(eu.lb.usage, '0/11 free');
    assert.equal(eu.health, 'fail');
    assert.deepEqual(eu.marks.map((x) => x.source).sort(), ['clustermesh-status@cluster-europe', 'lb-pool@cluster-europe']);
    assert.equal(m.clusters.find((c) => c.name === 'cluster-usa')!.lb.usage, '15/16 free');
    const svg = await topologySvg(m);
    assert.match(svgText(svg), /ClusterMesh · WireGuard · DISCONNECTED/);
    assert.match(svgText(svg), /192\.168\.20\.240-192\.168\.20\.250 \(0\/11 free\) EXHAUSTED/);
    assert.match(svg, new RegExp(`<path fill="none" stroke="${LIGHT.fail}"[^>]*stroke-width="4"`), 'the link is drawn red and thick');

    // with every link up and every pool free, nothing is red
    const healthy = topologyModel(r.blueprint!, {
      verdicts: verdicts.map((v) => ({
        ...v,
        status: 'ok' as const,
        evidence: v.check === 'clustermesh-status' ? { agents: 4, [`peer.${v.cluster === 'cluster-usa' ? 'cluster-europe' : 'cluster-usa'}`]: '4/4 connected' } : v.evidence,
      })),
    });
    assert.equal(healthy.links[0]!.health, 'ok');
    assert.ok(healthy.clusters.every((c) => c.health === 'ok' && c.lb.health !== 'fail'));
  });

  test('meshpilot plan --out writes topology.svg beside the artifacts; it renders in Chromium, light and dark', async () => {
    for (const name of ['usa-europe', 'three-regions']) {
      let stdout = '';
      let stderr = '';
      const io: CliIO = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false, color: false, env: {} };
      const dir = path.join(out, name);
      assert.equal(await main(['plan', example(name), '--out', dir], io), 0, stderr);
      assert.match(stdout, /wrote \d+ files under/);
      const file = path.join(dir, 'topology.svg');
      const raw = readFileSync(file, 'utf8');
      const svg = svgText(raw);
      const bp = (await load(name)).blueprint!;
      for (const c of bp.clusters) {
        for (const fact of [c.name, ...c.network.podSubnets, ...c.network.serviceSubnets, ...c.network.nodeSubnets, c.clustermesh.apiserverIP!, `${c.region}, site ${c.site}`]) {
          assert.ok(svg.includes(fact), `${name}: ${fact} is not in the picture`);
        }
      }
      assert.equal(svg.match(/ClusterMesh · WireGuard/g)?.length, (bp.clusters.length * (bp.clusters.length - 1)) / 2, 'one labelled link per pair');
      assert.match(svg, /global default\/payment-api:8080/);
      assert.match(svg, /policy default\/cross-cluster-db-access/);
      assert.match(raw, /<title>Mesh [a-z-]+ — plan<\/title>/);
      assert.ok(!/bmc\/|credentialsRef|BEGIN/.test(raw), 'no secret reference or material in the picture');
      const rendered = await assertRenders(browser, file, `topology-${name}`);
      assert.ok(rendered.width > 400);
      assert.equal(await backgroundIn(browser, file, 'light'), 'rgb(255, 255, 255)');
      assert.equal(await backgroundIn(browser, file, 'dark'), hexToRgb(DARK.bg), 'dark viewers get the dark palette');
    }
  });

  test('plan --out refuses a path that is a file, naming the flag', async () => {
    let stderr = '';
    const io: CliIO = { out: () => {}, err: (t) => void (stderr += t), isTTY: false, color: false, env: {} };
    assert.equal(await main(['plan', example('usa-europe'), '--out', example('usa-europe')], io), 2);
    assert.match(stderr, /--out .* exists and is not a directory/);
  });
});

function hexToRgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
