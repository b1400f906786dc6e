import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { parse as parseYaml, parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { parseAddr, parsePrefix } from '../../lab/kube/ip-range.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { ARTIFACT } from '../../blueprint/artifact-paths.ts';
import { LAB_SOCKET_ENV, startLabToolServer, type LabToolServer } from '../../lab/server/tool-server.ts';
import { startRealStack, TOOLS_BIN, type KubectlResult, type RealStack } from '../helpers/real-stack.ts';
import { CASE_LABEL, pool, service, type LbCase, type NormalizedCondition, type Snapshot } from './lb-ipam-cases.ts';

/**
 * Differential tests: every LB-IPAM case goes through the real stack (kube-apiserver v1.32.3, etcd,
 * cilium-operator-generic v1.16.19, driven by the real kubectl) and through the lab (its kubectl), and the
 * Services' and pools' status must be the same: addresses, condition type, status, reason and message. Then
 * `meshpilot diagnose lb` must name the same cause on both.
 */
const LAB_BIN = path.resolve(import.meta.dirname, '../../lab/bin');

interface Cluster {
  name: 'real' | 'lab';
  kubeconfig: string;
  /** PATH and env under which `kubectl` is this cluster's */
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
}

const IPAM = 'cilium.io/IPAMRequestSatisfied';

function normConditions(conds: any[] | undefined, generation?: number): NormalizedCondition[] {
  return (conds ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    ...(generation !== undefined ? { observedGeneration: c.observedGeneration === generation ? 'current' : String(c.observedGeneration) } : { observedGeneration: c.observedGeneration !== undefined }),
    lastTransitionTime: typeof c.lastTransitionTime === 'string' && c.lastTransitionTime.length > 0,
  }));
}

async function getJson(c: Cluster, args: string[]): Promise<any> {
  const r = await c.kubectl(['get', ...args, '-o', 'json']);
  assert.equal(r.exitCode, 0, `${c.name}: kubectl get ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function snapshot(c: Cluster, lbCase: LbCase): Promise<{ snap: Snapshot; raw: { services: any[]; pools: any[]; allPools: number } }> {
  const services = (await getJson(c, ['services', '-n', 'default', '-l', `${CASE_LABEL}=${lbCase.id}`])).items as any[];
  const allPools = (await getJson(c, ['ciliumloadbalancerippools.cilium.io'])).items as any[];
  const pools = allPools.filter((p) => p.metadata.labels?.[CASE_LABEL] === lbCase.id);
  const snap: Snapshot = { services: {}, pools: {} };
  for (const s of services) {
    snap.services[s.metadata.name] = {
      ingress: s.status?.loadBalancer?.ingress ?? [],
      loadBalancer: s.status?.loadBalancer,
      conditions: normConditions(s.status?.conditions),
    };
  }
  for (const p of pools) snap.pools[p.metadata.name] = { disabled: p.spec?.disabled, conditions: normConditions(p.status?.conditions, p.metadata.generation) };
  return { snap, raw: { services, pools, allPools: allPools.length } };
}

/** Addresses a pool's counts must include: its reserved first/last addresses and the case's Services' IPs in it. */
function expectedUsed(p: any, services: any[]): number {
  let used = 0;
  for (const b of p.spec?.blocks ?? []) {
    const r = b.cidr ? parsePrefix(b.cidr) : undefined;
    const first = r?.first ?? parseAddr(b.start)!.n;
    const last = r?.last ?? parseAddr(b.stop ?? b.start)!.n;
    const family = r?.family ?? parseAddr(b.start)!.family;
    if (r && p.spec?.allowFirstLastIPs === 'No' && last - first >= 2n) used += 2;
    for (const s of services) {
      for (const i of s.status?.loadBalancer?.ingress ?? []) {
        const a = parseAddr(i.ip ?? '');
        if (a && a.family === family && a.n >= first && a.n <= last) used++;
      }
    }
  }
  return used;
}

/**
 * The real operator works asynchronously: a case is settled when every pool's conditions describe its current
 * generation, every non-conflicting pool counts exactly the addresses the case's Services hold in it, and (once
 * any pool exists) every Service carries the LB-IPAM condition. Bounded and generous for a loaded machine.
 */
async function settle(c: Cluster, lbCase: LbCase): Promise<void> {
  const deadline = Date.now() + 90_000;
  let last = '';
  for (;;) {
    const { raw } = await snapshot(c, lbCase);
    const problems: string[] = [];
    for (const p of raw.pools) {
      const conds = (p.status?.conditions ?? []) as any[];
      // the counts follow every generation; PoolConflict only changes when a conflict does
      const counts = ['cilium.io/IPsTotal', 'cilium.io/IPsAvailable', 'cilium.io/IPsUsed'].map((t) => conds.find((x) => x.type === t));
      const conflictCond = conds.find((x) => x.type === 'cilium.io/PoolConflict');
      if (!conflictCond || counts.some((x) => !x || x.observedGeneration !== p.metadata.generation)) problems.push(`pool ${p.metadata.name} not processed at generation ${p.metadata.generation}`);
      const conflict = conflictCond?.status === 'True';
      if (!conflict && counts[2] && Number(counts[2].message) !== expectedUsed(p, raw.services)) problems.push(`pool ${p.metadata.name} counts ${counts[2].message} used`);
    }
    if (raw.allPools > 0) {
      for (const s of raw.services) if (!(s.status?.conditions ?? []).some((x: any) => x.type === IPAM)) problems.push(`service ${s.metadata.name} has no ${IPAM}`);
    }
    if (!problems.length) return;
    last = problems.join('; ');
    if (Date.now() > deadline) throw new Error(`${c.name}: case ${lbCase.id} did not settle within 90 s: ${last}`);
    await sleep(250);
  }
}

async function runCase(c: Cluster, lbCase: LbCase): Promise<Snapshot> {
  for (const step of lbCase.steps) {
    if ('wait' in step) {
      // creationTimestamp has a one-second resolution; "the newer pool" needs a later second
      await sleep(1_100);
      continue;
    }
    const r = await c.kubectl(['apply', '-f', '-'], step.apply);
    assert.equal(r.exitCode, 0, `${c.name}: kubectl apply failed: ${r.stderr}\n${step.apply}`);
    if (c.name === 'real') await settle(c, lbCase);
  }
  if (c.name === 'real' && !lbCase.pools.length) {
    // Nothing to wait for: LB-IPAM without pools is dormant. Give it time to (wrongly) act anyway.
    await sleep(3_000);
  }
  return (await snapshot(c, lbCase)).snap;
}

async function cleanup(c: Cluster, lbCase: LbCase): Promise<void> {
  for (const s of lbCase.services) await c.kubectl(['delete', 'service', s, '-n', 'default', '--ignore-not-found']);
  for (const p of lbCase.pools) await c.kubectl(['delete', `ciliumloadbalancerippools.cilium.io/${p}`, '--ignore-not-found']);
}

async function diagnose(c: Cluster, target: string): Promise<{ code: number; json: any; stderr: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false, color: false, env: c.env };
  const code = await main(['diagnose', 'lb', target, '--kubeconfig', c.kubeconfig, '--json'], io);
  return { code, json: out ? JSON.parse(out) : undefined, stderr: err };
}

const byName = (s: Snapshot, name: string) => s.services[name]!;
const cond = (s: Snapshot, name: string) => byName(s, name).conditions.find((c) => c.type === IPAM);
const ips = (s: Snapshot, name: string) => byName(s, name).ingress.map((i) => i.ip);
const poolCond = (s: Snapshot, p: string, type: string) => s.pools[p]!.conditions.find((c) => c.type === type);
const counts = (s: Snapshot, p: string) => ['cilium.io/IPsTotal', 'cilium.io/IPsAvailable', 'cilium.io/IPsUsed'].map((t) => poolCond(s, p, t)?.message);
function expectCondition(s: Snapshot, svc: string, status: string, reason: string, message: string) {
  const c = cond(s, svc);
  assert.ok(c, `${svc} has no ${IPAM} condition`);
  assert.deepEqual({ status: c.status, reason: c.reason, message: c.message }, { status, reason, message }, svc);
}
const NO_POOL = 'There are no enabled CiliumLoadBalancerIPPools that match this service';

const CASES: LbCase[] = [
  {
    id: 'none',
    title: 'no pool at all: LB-IPAM stays dormant and writes no condition',
    steps: [{ apply: service('none', 'none-a') }],
    services: ['none-a'],
    pools: [],
    expect: (s) => {
      assert.deepEqual(byName(s, 'none-a').loadBalancer, {});
      assert.deepEqual(byName(s, 'none-a').conditions, []);
    },
    diagnose: { service: 'none-a', ok: false, reason: /is <pending>: there is no CiliumLoadBalancerIPPool in the cluster/, hint: /add an IP pool/ },
  },
  {
    id: 'fits',
    title: 'pool fits: the first address, condition satisfied, the pool counts it',
    steps: [{ apply: pool('fits', 'fits-pool', [{ cidr: '10.61.0.0/30' }]) }, { apply: service('fits', 'fits-a') }],
    services: ['fits-a'],
    pools: ['fits-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'fits-a'), ['10.61.0.0']);
      expectCondition(s, 'fits-a', 'True', 'satisfied', '');
      assert.deepEqual(counts(s, 'fits-pool'), ['4', '3', '1']);
      assert.deepEqual(
        { ...poolCond(s, 'fits-pool', 'cilium.io/PoolConflict') },
        { type: 'cilium.io/PoolConflict', status: 'False', reason: 'resolved', message: '', observedGeneration: 'current', lastTransitionTime: true },
      );
    },
    // no agents, no L2 policy: an address nobody announces is not ok (the lease case is tested below)
    diagnose: { service: 'fits-a', ok: false, address: '10.61.0.0', reason: /has IP 10\.61\.0\.0 but no CiliumL2AnnouncementPolicy announces LoadBalancer IPs/ },
  },
  {
    id: 'edges',
    title: 'allowFirstLastIPs: No reserves the network and broadcast addresses (counted as used)',
    steps: [{ apply: pool('edges', 'edges-pool', [{ cidr: '10.62.1.0/30' }], { allowFirstLastIPs: 'No' }) }, { apply: service('edges', 'edges-a') }],
    services: ['edges-a'],
    pools: ['edges-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'edges-a'), ['10.62.1.1']);
      assert.deepEqual(counts(s, 'edges-pool'), ['4', '1', '3']);
    },
  },
  {
    id: 'exhausted',
    title: 'exhausted: out_of_ips once every address is taken',
    steps: [
      { apply: pool('exhausted', 'exhausted-pool', [{ cidr: '10.62.0.0/31' }]) },
      { apply: service('exhausted', 'exhausted-a') },
      { apply: service('exhausted', 'exhausted-b') },
      { apply: service('exhausted', 'exhausted-c') },
    ],
    services: ['exhausted-a', 'exhausted-b', 'exhausted-c'],
    pools: ['exhausted-pool'],
    expect: (s) => {
      assert.deepEqual([ips(s, 'exhausted-a'), ips(s, 'exhausted-b'), ips(s, 'exhausted-c')], [['10.62.0.0'], ['10.62.0.1'], []]);
      expectCondition(s, 'exhausted-c', 'False', 'out_of_ips', 'All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs');
      assert.deepEqual(counts(s, 'exhausted-pool'), ['2', '0', '2']);
    },
    diagnose: { service: 'exhausted-c', ok: false, reason: /every IP of pool exhausted-pool is taken by default\/exhausted-a \(1\), default\/exhausted-b \(1\)/, hint: /more or different addresses/ },
  },
  {
    id: 'mismatch',
    title: 'selector mismatch: no_pool, "no enabled pools that match"',
    steps: [{ apply: pool('mismatch', 'mismatch-pool', [{ cidr: '10.63.0.0/30' }], { select: { app: 'other' } }) }, { apply: service('mismatch', 'mismatch-a') }],
    services: ['mismatch-a'],
    pools: ['mismatch-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'mismatch-a'), []);
      expectCondition(s, 'mismatch-a', 'False', 'no_pool', NO_POOL);
      assert.deepEqual(counts(s, 'mismatch-pool'), ['4', '4', '0']);
    },
    diagnose: { service: 'mismatch-a', ok: false, reason: /is <pending>: no IP pool selects it \(pools: mismatch-pool selector/, hint: /fix the pool's serviceSelector/ },
  },
  {
    id: 'outside-ann',
    title: 'requested IP outside every pool (lbipam.cilium.io/ips): no_pool with the IP in the message',
    steps: [{ apply: pool('outside-ann', 'outside-ann-pool', [{ cidr: '10.64.0.0/30' }]) }, { apply: service('outside-ann', 'outside-ann-a', { requestIps: '10.99.99.99' }) }],
    services: ['outside-ann-a'],
    pools: ['outside-ann-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'outside-ann-a'), []);
      expectCondition(s, 'outside-ann-a', 'False', 'no_pool', "No pool exists with a CIDR containing '10.99.99.99'");
    },
    diagnose: {
      service: 'outside-ann-a',
      ok: false,
      reason: /it requests 10\.99\.99\.99 \(annotation lbipam\.cilium\.io\/ips\), which is outside every IP pool \(outside-ann-pool: 10\.64\.0\.0\/30\)/,
      hint: /request an IP inside a pool/,
    },
  },
  {
    id: 'outside-spec',
    title: 'requested IP outside every pool (spec.loadBalancerIP): the same no_pool message',
    steps: [{ apply: pool('outside-spec', 'outside-spec-pool', [{ cidr: '10.65.0.0/30' }]) }, { apply: service('outside-spec', 'outside-spec-a', { loadBalancerIP: '10.99.99.98' }) }],
    services: ['outside-spec-a'],
    pools: ['outside-spec-pool'],
    expect: (s) => expectCondition(s, 'outside-spec-a', 'False', 'no_pool', "No pool exists with a CIDR containing '10.99.99.98'"),
    diagnose: { service: 'outside-spec-a', ok: false, reason: /it requests 10\.99\.99\.98 \(spec\.loadBalancerIP\), which is outside every IP pool/ },
  },
  {
    id: 'foreign',
    title: 'requested IP in a pool that does not select the Service: pool_selector_mismatch',
    steps: [
      { apply: pool('foreign', 'foreign-pool', [{ cidr: '10.66.0.0/30' }], { select: { team: 'b' } }) },
      { apply: service('foreign', 'foreign-a', { requestIps: '10.66.0.2', labels: { team: 'a' } }) },
    ],
    services: ['foreign-a'],
    pools: ['foreign-pool'],
    expect: (s) => expectCondition(s, 'foreign-a', 'False', 'pool_selector_mismatch', "The pool with the CIDR containing '10.66.0.2', doesn't select this service"),
    diagnose: {
      service: 'foreign-a',
      ok: false,
      reason: /the IP 10\.66\.0\.2 it requests .* is in pool foreign-pool, whose serviceSelector .* does not select it/,
      hint: /make the pool foreign-pool select the Service/,
    },
  },
  {
    id: 'taken',
    title: 'IP already allocated: already_allocated; a generic request then takes the smallest free block',
    steps: [
      { apply: pool('taken', 'taken-pool', [{ cidr: '10.67.0.0/29' }]) },
      { apply: service('taken', 'taken-a', { requestIps: '10.67.0.5' }) },
      { apply: service('taken', 'taken-b', { requestIps: '10.67.0.5' }) },
      { apply: service('taken', 'taken-c') },
    ],
    services: ['taken-a', 'taken-b', 'taken-c'],
    pools: ['taken-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'taken-a'), ['10.67.0.5']);
      expectCondition(s, 'taken-b', 'False', 'already_allocated', "The IP '10.67.0.5' is already allocated to another service");
      // free blocks .0-.4 (5) and .6-.7 (2): ipalloc takes from the smallest
      assert.deepEqual(ips(s, 'taken-c'), ['10.67.0.6']);
    },
    diagnose: { service: 'taken-b', ok: false, reason: /the IP 10\.67\.0\.5 it requests \(annotation lbipam\.cilium\.io\/ips\) is already held by default\/taken-a/ },
  },
  {
    id: 'overlap',
    title: 'overlapping pools: the newer gets cilium.io/PoolConflict, its Services no_pool',
    steps: [
      { apply: pool('overlap', 'overlap-old', [{ cidr: '10.68.0.0/29' }], { select: { pool: 'old' } }) },
      { wait: 'creation-second' },
      { apply: pool('overlap', 'overlap-new', [{ cidr: '10.68.0.4/30' }], { select: { pool: 'new' } }) },
      { apply: service('overlap', 'overlap-a', { labels: { pool: 'new' } }) },
      { apply: service('overlap', 'overlap-b', { labels: { pool: 'new' }, requestIps: '10.68.0.5' }) },
    ],
    services: ['overlap-a', 'overlap-b'],
    pools: ['overlap-old', 'overlap-new'],
    expect: (s) => {
      assert.deepEqual(
        { ...poolCond(s, 'overlap-new', 'cilium.io/PoolConflict') },
        {
          type: 'cilium.io/PoolConflict',
          status: 'True',
          reason: 'cidr_overlap',
          message: "Pool conflicts since range '10.68.0.4 - 10.68.0.7' overlaps range '10.68.0.0 - 10.68.0.7' from IP Pool 'overlap-old'",
          observedGeneration: 'current',
          lastTransitionTime: true,
        },
      );
      assert.equal(poolCond(s, 'overlap-old', 'cilium.io/PoolConflict')?.status, 'False');
      expectCondition(s, 'overlap-a', 'False', 'no_pool', NO_POOL);
      // the IP is in the older (active) pool, which does not select the Service
      expectCondition(s, 'overlap-b', 'False', 'pool_selector_mismatch', "The pool with the CIDR containing '10.68.0.5', doesn't select this service");
    },
    diagnose: {
      service: 'overlap-a',
      ok: false,
      reason:
        /the pool that selects it, overlap-new, is disabled by Cilium because it overlaps another pool: Pool conflicts since range '10\.68\.0\.4 - 10\.68\.0\.7' overlaps range '10\.68\.0\.0 - 10\.68\.0\.7' from IP Pool 'overlap-old'/,
      hint: /make the blocks of overlap-new disjoint/,
    },
  },
  {
    id: 'disabled',
    title: 'disabled pool: no_pool for a generic request and for an IP inside it',
    steps: [
      { apply: pool('disabled', 'disabled-pool', [{ cidr: '10.69.0.0/30' }], { disabled: true }) },
      { apply: service('disabled', 'disabled-a') },
      { apply: service('disabled', 'disabled-b', { requestIps: '10.69.0.1' }) },
    ],
    services: ['disabled-a', 'disabled-b'],
    pools: ['disabled-pool'],
    expect: (s) => {
      expectCondition(s, 'disabled-a', 'False', 'no_pool', NO_POOL);
      expectCondition(s, 'disabled-b', 'False', 'no_pool', "No pool exists with a CIDR containing '10.69.0.1'");
      assert.deepEqual(counts(s, 'disabled-pool'), ['4', '4', '0']);
    },
    diagnose: { service: 'disabled-a', ok: false, reason: /every pool that selects it is disabled \(disabled-pool: spec\.disabled: true\)/, hint: /enable a pool/ },
  },
  {
    id: 'later',
    title: 'pool disabled after an allocation: the address stays, a new Service gets no_pool',
    steps: [
      { apply: pool('later', 'later-pool', [{ cidr: '10.70.0.0/30' }]) },
      { apply: service('later', 'later-a') },
      { apply: pool('later', 'later-pool', [{ cidr: '10.70.0.0/30' }], { disabled: true }) },
      { apply: service('later', 'later-b') },
    ],
    services: ['later-a', 'later-b'],
    pools: ['later-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'later-a'), ['10.70.0.0']);
      expectCondition(s, 'later-a', 'True', 'satisfied', '');
      expectCondition(s, 'later-b', 'False', 'no_pool', NO_POOL);
      assert.deepEqual(counts(s, 'later-pool'), ['4', '3', '1']);
    },
    diagnose: { service: 'later-b', ok: false, reason: /every pool that selects it is disabled \(later-pool/ },
  },
  {
    id: 'dual',
    title: 'dual-stack pool: one address per requested family',
    steps: [
      { apply: pool('dual', 'dual-pool', [{ cidr: '10.71.0.0/30' }, { cidr: 'fd00:71::/126' }], { select: { pool: 'main' } }) },
      { apply: service('dual', 'dual-both', { ipFamilyPolicy: 'RequireDualStack', labels: { pool: 'main' } }) },
      { apply: service('dual', 'dual-v4', { labels: { pool: 'main' } }) },
      { apply: service('dual', 'dual-v6', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], labels: { pool: 'main' } }) },
      { apply: pool('dual', 'dual-v4only', [{ cidr: '10.71.1.0/30' }], { select: { pool: 'v4only' } }) },
      { apply: service('dual', 'dual-short', { ipFamilyPolicy: 'RequireDualStack', labels: { pool: 'v4only' } }) },
    ],
    services: ['dual-both', 'dual-v4', 'dual-v6', 'dual-short'],
    pools: ['dual-pool', 'dual-v4only'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'dual-both'), ['10.71.0.0', 'fd00:71::']);
      assert.deepEqual(ips(s, 'dual-v4'), ['10.71.0.1']);
      assert.deepEqual(ips(s, 'dual-v6'), ['fd00:71::1']);
      expectCondition(s, 'dual-both', 'True', 'satisfied', '');
      assert.deepEqual(counts(s, 'dual-pool'), ['8', '4', '4']);
      assert.deepEqual(ips(s, 'dual-short'), ['10.71.1.0']);
      // an IPv4 address, but the IPv6 half of the request cannot be met
      expectCondition(s, 'dual-short', 'False', 'no_pool', NO_POOL);
    },
    diagnose: { service: 'dual-short', ok: false, address: '10.71.1.0', reason: /has 10\.71\.1\.0 but not all it asks for: it asks for an IPv6 address/, hint: /add an IPv6 block to dual-v4only/ },
  },
  {
    id: 'any',
    title: 'a pool without a serviceSelector serves every Service',
    steps: [{ apply: pool('any', 'any-pool', [{ start: '10.72.0.10', stop: '10.72.0.11' }], { select: 'any' }) }, { apply: service('any', 'any-a') }],
    services: ['any-a'],
    pools: ['any-pool'],
    expect: (s) => {
      assert.deepEqual(ips(s, 'any-a'), ['10.72.0.10']);
      assert.deepEqual(counts(s, 'any-pool'), ['2', '1', '1']);
    },
  },
];

let stack: RealStack;
let real: Cluster;
let lab: Cluster;
let work: string;
let labServer: LabToolServer | undefined;

before(async () => {
  await ensureLabBundle();
  stack = await startRealStack('lbipam');
  real = {
    name: 'real',
    kubeconfig: stack.kubeconfig,
    env: { ...process.env, PATH: `${TOOLS_BIN}:${process.env.PATH}` },
    kubectl: (args, input) => stack.kubectl(args, { input }),
  };
  work = mkdtempSync(path.join(os.tmpdir(), 'conformance-lab-'));
  const labDir = path.join(work, 'lab');
  const kcs = await bootstrappedLab(labDir, 'happy', { serviceCidrs: { 'cluster-usa': ['10.96.0.0/16', 'fd00:10:96::/112'] } });
  // the lab's tools answer from this process through the labcall shim, as on a lab worker (no node per call)
  labServer = await startLabToolServer();
  const env = { PATH: `${LAB_BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work, [LAB_SOCKET_ENV]: labServer.socketPath };
  lab = {
    name: 'lab',
    kubeconfig: kcs['cluster-usa']!,
    env,
    kubectl: async (args, input) => {
      const r = await execa(path.join(LAB_BIN, 'kubectl'), ['--kubeconfig', kcs['cluster-usa']!, ...args], { reject: false, input: input ?? '', env, extendEnv: false });
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    },
  };
  // the same cilium-config as the real operator's: IPv4 and IPv6, L2 announcements
  const values = path.join(work, 'values.yaml');
  writeFileSync(
    values,
    'cluster: {name: cluster-usa, id: 1}\nkubeProxyReplacement: true\nl2announcements: {enabled: true}\nipam: {mode: kubernetes}\nipv6: {enabled: true}\nbgpControlPlane: {enabled: true}\n',
  );
  const helm = await execa(path.join(LAB_BIN, 'helm'), ['upgrade', '--install', 'cilium', 'cilium/cilium', '--version', '1.16.19', '-n', 'kube-system', '-f', values, '--wait'], {
    reject: false,
    env: { ...env, KUBECONFIG: kcs['cluster-usa']! },
    extendEnv: false,
  });
  assert.equal(helm.exitCode, 0, helm.stderr);
  const w = await lab.kubectl(['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--timeout=60s']);
  assert.equal(w.exitCode, 0, w.stderr);
});

after(async () => {
  await labServer?.close();
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** One case through both clusters: the same status on both, the real values spelled out, the same diagnosis. */
async function runDifferential(lbCase: LbCase): Promise<void> {
  try {
    const fromReal = await runCase(real, lbCase);
    const fromLab = await runCase(lab, lbCase);
    lbCase.expect(fromReal);
    assert.deepEqual(fromLab, fromReal, 'the lab writes what the real operator writes');
    if (lbCase.diagnose) {
      const d = lbCase.diagnose;
      const [r, l] = [await diagnose(real, `default/${d.service}`), await diagnose(lab, `default/${d.service}`)];
      assert.equal(r.code, d.ok ? 0 : 1, r.stderr || JSON.stringify(r.json));
      assert.equal(r.json.ok, d.ok);
      assert.equal(r.json.address, d.address);
      assert.match(r.json.reason, d.reason);
      if (d.hint) assert.match(r.json.hint, d.hint);
      assert.deepEqual(l.json, r.json, 'diagnose lb says the same on the lab');
      assert.equal(l.code, r.code);
    }
  } catch (err) {
    (err as Error).message += `\n${await stack.logs()}`;
    throw err;
  } finally {
    await cleanup(real, lbCase);
    await cleanup(lab, lbCase);
  }
}

describe('LB-IPAM: the lab against cilium-operator 1.16.19 on a real kube-apiserver', () => {
  // Every pool selects only its own case's Services but the last case's, so the lease test runs before it.
  for (const lbCase of CASES.filter((c) => c.id !== 'any')) test(lbCase.title, () => runDifferential(lbCase));

  test('an address an agent announces: diagnose lb says ok, exit 0 (real: the test writes the L2 Lease an agent would)', async () => {
    const leaseCase: LbCase = { id: 'lease', title: '', steps: [], services: ['lease-a'], pools: ['lease-pool'], expect: () => {} };
    const manifests = pool('lease', 'lease-pool', [{ cidr: '10.10.0.200/30' }]) + '---\n' + service('lease', 'lease-a');
    const policy = 'apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: lease-l2}\nspec: {loadBalancerIPs: true}\n';
    const lease =
      'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: cilium-l2announce-default-lease-a, namespace: kube-system}\nspec: {holderIdentity: node-a, leaseDurationSeconds: 15}\n';
    try {
      for (const c of [real, lab]) assert.equal((await c.kubectl(['apply', '-f', '-'], manifests)).exitCode, 0);
      await settle(real, leaseCase);
      const before = await diagnose(real, 'default/lease-a');
      assert.equal(before.code, 1);
      assert.match(before.json.reason, /has IP 10\.10\.0\.200 but no CiliumL2AnnouncementPolicy announces LoadBalancer IPs/);
      assert.deepEqual((await diagnose(lab, 'default/lease-a')).json, before.json);
      // real: no agent runs, so the test takes the lease as the elected agent would; lab: its agents elect one
      assert.equal((await real.kubectl(['apply', '-f', '-'], lease)).exitCode, 0);
      assert.equal((await lab.kubectl(['apply', '-f', '-'], policy)).exitCode, 0);
      const [r, l] = [await diagnose(real, 'default/lease-a'), await diagnose(lab, 'default/lease-a')];
      assert.equal(r.code, 0, JSON.stringify(r.json));
      assert.deepEqual({ ok: r.json.ok, address: r.json.address, by: r.json.evidence.announcedBy }, { ok: true, address: '10.10.0.200', by: 'node-a' });
      assert.match(r.json.reason, /default\/lease-a has 10\.10\.0\.200, announced by node node-a/);
      assert.equal(l.code, 0, JSON.stringify(l.json));
      assert.deepEqual({ ok: l.json.ok, address: l.json.address, by: l.json.evidence.announcedBy }, { ok: true, address: '10.10.0.200', by: 'usa-cp-1' });
    } finally {
      await real.kubectl(['delete', 'lease', 'cilium-l2announce-default-lease-a', '-n', 'kube-system', '--ignore-not-found']);
      await lab.kubectl(['delete', 'ciliuml2announcementpolicies.cilium.io/lease-l2', '--ignore-not-found']);
      await cleanup(real, leaseCase);
      await cleanup(lab, leaseCase);
    }
  });

  const last = CASES.find((c) => c.id === 'any')!;
  test(last.title, () => runDifferential(last));
});

/** `meshpilot plan FILE --out DIR` in-process; returns the Kubernetes manifests it wrote (what kubectl applies). */
async function planManifests(file: string, dir: string): Promise<string[]> {
  let err = '';
  const io: CliIO = { out: () => {}, err: (t) => (err += t), isTTY: false, color: false, env: process.env };
  assert.equal(await main(['plan', file, '--out', dir], io), 0, err);
  const plan = JSON.parse(readFileSync(path.join(dir, ARTIFACT.plan), 'utf8')) as { clusters: { name: string }[] };
  return plan.clusters
    .flatMap((c) => [ARTIFACT.lbIpam(c.name), ARTIFACT.globalCanary(c.name), ARTIFACT.meshManifests(c.name)])
    .map((f) => path.join(dir, f))
    .filter((f) => existsSync(f));
}

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

/** A copy of an example whose clusters announce by BGP instead of L2 (meshpilot renders the BGP v2 resources). */
function bgpVariant(file: string, dir: string): string {
  const doc = parseYaml(readFileSync(file, 'utf8'));
  for (const [i, c] of (doc.clusters as any[]).entries()) {
    c.loadBalancer = { mode: 'bgp', pool: c.loadBalancer.pool, bgp: { localASN: 65001 + i, peers: [{ name: 'tor', address: '10.255.0.1', asn: 65000 }] } };
  }
  const out = path.join(dir, `bgp-${path.basename(file)}`);
  writeFileSync(out, stringifyYaml(doc));
  return out;
}

const BAD_MANIFESTS: { what: string; yaml: string }[] = [
  {
    what: 'spec.cidrs (the pool field of Cilium before 1.16)',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-cidrs}\nspec:\n  cidrs: [{cidr: 10.80.0.0/24}]\n',
  },
  {
    what: 'unknown fields at several depths (sorted in one error)',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-unknown}\nspec:\n  cidrs: [{cidr: 10.80.0.0/24}]\n  bogus: 1\n  blocks: [{cidr: 10.80.1.0/24, foo: 1}]\n',
  },
  { what: 'a CIDR that does not parse', yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-cidr}\nspec:\n  blocks: [{cidr: 10.80.0.300/24}]\n' },
  { what: 'a prefix longer than the address', yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-prefix}\nspec:\n  blocks: [{cidr: 10.80.0.0/33}]\n' },
  {
    what: 'allowFirstLastIPs outside its enum',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-enum}\nspec:\n  allowFirstLastIPs: Maybe\n  blocks: [{cidr: 10.80.0.0/24}]\n',
  },
  {
    what: 'allowFirstLastIPs: No unquoted (kubectl reads YAML 1.1: a boolean)',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-yaml11}\nspec:\n  allowFirstLastIPs: No\n  blocks: [{cidr: 10.80.0.0/24}]\n',
  },
  { what: 'blocks as a string', yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-type}\nspec:\n  blocks: 10.80.0.0/24\n' },
  {
    what: 'a selector operator that does not exist',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-op}\nspec:\n  blocks: [{cidr: 10.80.0.0/24}]\n  serviceSelector:\n    matchExpressions: [{key: app, operator: Equals, values: [a]}]\n',
  },
  {
    what: 'a label value with a space',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-label}\nspec:\n  blocks: [{cidr: 10.80.0.0/24}]\n  serviceSelector:\n    matchLabels: {app: "has space"}\n',
  },
  {
    what: 'a selector expression without an operator',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata: {name: bad-required}\nspec:\n  blocks: [{cidr: 10.80.0.0/24}]\n  serviceSelector:\n    matchExpressions: [{key: app}]\n',
  },
  {
    what: 'an L2 policy with `interface` (singular)',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: bad-l2}\nspec:\n  interface: [eth0]\n  loadBalancerIPs: true\n',
  },
  {
    what: 'an L2 policy with loadBalancerIPs as a string',
    yaml: 'apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata: {name: bad-l2-type}\nspec:\n  loadBalancerIPs: "true"\n',
  },
];

describe('the manifests meshpilot renders, through the real CRD schemas and the lab alike', () => {
  test('the operator registers the same CRDs (L2 and BGP control plane on)', async () => {
    const [r, l] = [await real.kubectl(['get', 'crd', '-o', 'name']), await lab.kubectl(['get', 'crd', '-o', 'name'])];
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /ciliumloadbalancerippools\.cilium\.io/);
    assert.deepEqual(l.stdout.split('\n').sort(), r.stdout.split('\n').sort());
  });

  test('kubectl apply --dry-run=server accepts every manifest `meshpilot plan --out` renders for the examples (L2 and BGP)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'conformance-plan-'));
    try {
      const files: string[] = [];
      for (const example of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
        const file = path.join(EXAMPLES, example);
        for (const src of [file, bgpVariant(file, dir)]) files.push(...(await planManifests(src, path.join(dir, path.basename(src, '.yaml')))));
      }
      assert.ok(files.length >= 28, `rendered manifests: ${files.length}`);
      const kinds = new Set<string>();
      for (const f of files) {
        const text = readFileSync(f, 'utf8');
        const docs = parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJSON());
        for (const d of docs) if (d?.kind) kinds.add(d.kind);
        // a dry run creates nothing: the namespaces the file creates must exist for what it puts in them
        const namespaces = docs.filter((d) => d?.kind === 'Namespace');
        if (namespaces.length) {
          const nsYaml = namespaces.map((d) => stringifyYaml(d, { version: '1.1' })).join('---\n');
          for (const c of [real, lab]) assert.equal((await c.kubectl(['apply', '-f', '-'], nsYaml)).exitCode, 0);
        }
        const [r, l] = [await real.kubectl(['apply', '--dry-run=server', '-f', f]), await lab.kubectl(['apply', '--dry-run=server', '-f', f])];
        assert.equal(r.exitCode, 0, `${path.relative(dir, f)} refused by the real apiserver: ${r.stderr}`);
        assert.match(r.stdout, /\(server dry run\)$/m);
        assert.deepEqual({ code: l.exitCode, stdout: l.stdout, stderr: l.stderr }, { code: 0, stdout: r.stdout, stderr: '' }, path.relative(dir, f));
      }
      for (const k of [
        'CiliumLoadBalancerIPPool',
        'CiliumL2AnnouncementPolicy',
        'CiliumNetworkPolicy',
        'Service',
        'Namespace',
        'Deployment',
        'CiliumBGPClusterConfig',
        'CiliumBGPPeerConfig',
        'CiliumBGPAdvertisement',
      ]) {
        assert.ok(kinds.has(k), `no rendered ${k} was checked`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const bad of BAD_MANIFESTS) {
    test(`refused alike: ${bad.what}`, async () => {
      const [r, l] = [await real.kubectl(['apply', '--dry-run=server', '-f', '-'], bad.yaml), await lab.kubectl(['apply', '--dry-run=server', '-f', '-'], bad.yaml)];
      assert.equal(r.exitCode, 1, `the real apiserver accepted it: ${r.stdout}`);
      assert.deepEqual({ code: l.exitCode, stdout: l.stdout, stderr: l.stderr }, { code: r.exitCode, stdout: r.stdout, stderr: r.stderr });
    });
  }
});
