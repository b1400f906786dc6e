// `meshpilot lab break|heal KIND …` as an operator types it: bad input is refused naming the argument and changes
// nothing; every kind breaks what it says it breaks (the command `lab faults` names shows it), and `heal` leaves the
// lab's state exactly as it was before the break.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { verifyNow } from '../../client/verify.ts';
import { main } from '../../cli/main.ts';
import { verdictKey } from '../../contracts/verify/report.ts';
import { LAB_FAULTS } from '../../lab/break-heal.ts';
import type { Release } from '../../lab/kube/releases.ts';
import type { K8sLab, KubeObject } from '../../lab/kube/store.ts';
import type { LabState } from '../../lab/state.ts';
import { startLabWorker, SEED_BLUEPRINT, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

/** The CLI with injected I/O on the lab under `dataDir` (its `lab/`). */
function cliOn(dataDir: string) {
  return async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env: { MESHPILOT_DATA_DIR: dataDir, NO_COLOR: '1' } });
    return { code, out, err };
  };
}

const stateText = (labDir: string) => readFileSync(path.join(labDir, 'state.json'), 'utf8');

/**
 * The lab's state without what only moves forward, on a real API server as in Helm's history: resourceVersions,
 * generations, the ClusterIP allocator, when pods last rolled, and older Helm revisions (a fault made and healed by
 * `helm upgrade` leaves two more revisions; the last one holds the values from before the break).
 */
function effectiveState(labDir: string): unknown {
  const s = JSON.parse(stateText(labDir)) as LabState;
  for (const c of Object.values(s.clusters)) {
    for (const o of Object.values(c.kube) as KubeObject[]) {
      delete o.metadata.resourceVersion;
      delete o.metadata.generation;
      // the chart issues the ClusterMesh certificates afresh on every render (genSignedCert): forward-only too
      if (o.kind === 'Secret' && /^clustermesh-apiserver-.*-cert$/.test(o.metadata.name) && o.data) o.data = { ...o.data, 'tls.crt': 'issued', 'tls.key': 'issued' };
    }
    const k8s = (c.extra as { k8sLab?: Partial<K8sLab> }).k8sLab;
    if (k8s) {
      delete k8s.rv;
      delete k8s.nextClusterIp;
      k8s.readyAt = Object.fromEntries(Object.keys(k8s.readyAt ?? {}).map((k) => [k, 0]));
    }
    for (const [name, rel] of Object.entries(c.helm) as Array<[string, Release]>) {
      const last = rel.revisions.at(-1)!;
      c.helm[name] = { status: last.status, chartVersion: last.chartVersion, config: last.config };
    }
  }
  return s;
}
const brokenNow = async (cli: ReturnType<typeof cliOn>) => {
  const r = await cli('lab', 'faults', '--json');
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out) as Array<{ kind: string; broken?: string[][] }>).flatMap((k) => (k.broken ?? []).map((a) => [k.kind, ...a].join(' ')));
};

describe('lab break|heal on a lab that is only built', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-break-'));
  const labDir = path.join(dataDir, 'lab');
  const cli = cliOn(dataDir);

  test('without a lab: break says how to make one', async () => {
    const r = await cli('lab', 'break', 'flaky-tools');
    assert.equal(r.code, 1);
    assert.match(r.err, /no lab at .*: start one with `meshpilot rollout FILE --lab happy` or `meshpilot lab init FILE`/);
  });

  test('bad input exits 2 naming the argument, and changes nothing', async () => {
    assert.equal((await cli('lab', 'init', SEED_BLUEPRINT)).code, 0);
    const before = stateText(labDir);
    const refused: Array<[string[], RegExp]> = [
      [['nope'], /KIND: unknown fault "nope"; one of: peer-disconnect, pool-exhausted, /],
      [['peer-disconnect', 'cluster-usa'], /PEER: missing \(usage: peer-disconnect CLUSTER PEER\)/],
      [['peer-disconnect', 'cluster-usa', 'cluster-mars'], /PEER: no cluster "cluster-mars" in the lab \(clusters: cluster-usa, cluster-europe\)/],
      [['peer-disconnect', 'cluster-usa', 'cluster-usa'], /PEER: cluster-usa is CLUSTER itself/],
      [['pool-exhausted', 'usa'], /CLUSTER: no cluster "usa" in the lab/],
      [['wireguard-off', 'usa-cp-9'], /NODE: no node "usa-cp-9" in the lab \(nodes: usa-cp-1, /],
      [['etcd-slow', 'usa-worker-1'], /NODE: usa-worker-1 is a worker: etcd runs on control-plane nodes only/],
      [['policy-edited', 'cluster-usa', 'cross-cluster-db-access'], /POLICY: "cross-cluster-db-access" is not NAMESPACE\/NAME/],
      [['flaky-tools', 'cluster-usa'], /"cluster-usa": flaky-tools takes no arguments/],
      [['flaky-tools', '--every', '1'], /--every: expected a whole number ≥ 2/],
      [['flaky-tools', '--every', 'often'], /--every: expected a whole number ≥ 2/],
      [['wireguard-off', 'usa-cp-1', '--every', '3'], /--every: wireguard-off does not take --every/],
      [['etcd-slow', 'usa-cp-1', '--every', '3', '--extra-ms', '5'], /--every, --extra-ms and --days: give at most one/],
    ];
    for (const [argv, message] of refused) {
      const r = await cli('lab', 'break', ...argv);
      assert.equal(r.code, 2, `lab break ${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, message, `lab break ${argv.join(' ')}`);
    }
    const notBroken = await cli('lab', 'heal', 'wireguard-off', 'usa-cp-1');
    assert.equal(notBroken.code, 1);
    assert.match(notBroken.err, /wireguard-off usa-cp-1 is not broken/);
    const notRolledOut = await cli('lab', 'break', 'pool-exhausted', 'cluster-europe');
    assert.equal(notRolledOut.code, 1);
    assert.match(notRolledOut.err, /pool-exhausted: cluster-europe has no LB pool yet \(roll the mesh out first/);
    assert.equal(stateText(labDir), before, 'nothing refused touched the lab');
  });

  test('lab faults lists every kind with what it simulates and what shows it; nothing is broken on a happy lab', async () => {
    const r = await cli('lab', 'faults');
    assert.equal(r.code, 0, r.err);
    for (const k of LAB_FAULTS) {
      assert.ok(r.out.includes(k.kind), k.kind);
      assert.ok(r.out.includes(k.simulates), `${k.kind}: what it simulates`);
      for (const s of k.shownBy) assert.ok(r.out.includes(`shown by: ${s}`), `${k.kind}: ${s}`);
    }
    assert.match(r.out, /nothing broken now \(happy lab\)/);
  });

  test('the node faults, by name or address: break, listed as broken, refused twice, healed back to the same state', async () => {
    const cases: Array<{ argv: string[]; listed: string }> = [
      { argv: ['wireguard-off', 'eu-worker-1'], listed: 'wireguard-off eu-worker-1' },
      { argv: ['etcd-slow', 'usa-cp-2', '--extra-ms', '40'], listed: 'etcd-slow usa-cp-2' },
      { argv: ['node-unreachable', '192.168.20.12'], listed: 'node-unreachable eu-cp-2' },
      { argv: ['flaky-tools', '--every', '3'], listed: 'flaky-tools' },
      { argv: ['lb-excluded'], listed: 'lb-excluded' },
    ];
    for (const { argv, listed } of cases) {
      const before = stateText(labDir);
      const broke = await cli('lab', 'break', ...argv);
      assert.equal(broke.code, 0, broke.err);
      assert.match(broke.out, /simulates: .*\n(.*\n)*\s+heal:\s+meshpilot lab heal /);
      assert.notEqual(stateText(labDir), before, `${argv.join(' ')} changed the lab`);
      assert.deepEqual(await brokenNow(cli), [listed]);
      const twice = await cli('lab', 'break', ...argv);
      assert.equal(twice.code, 1);
      assert.match(twice.err, /is already broken/);
      const healArgs = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
      const healed = await cli('lab', 'heal', ...healArgs);
      assert.equal(healed.code, 0, healed.err);
      assert.deepEqual(JSON.parse(stateText(labDir)), JSON.parse(before), `heal ${healArgs.join(' ')} left the lab as it was`);
    }
  });
});

describe('lab break|heal on a rolled-out mesh: verify shows each fault, heal takes it back exactly', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let cli: ReturnType<typeof cliOn>;
  const tester = { by: 'tester', via: 'test' };
  const red = async () =>
    (await verifyNow(env.client, lab.plan, tester, { taskQueue: lab.taskQueue, source: 'examples/usa-europe.yaml' })).verdicts
      .filter((v) => v.status === 'fail')
      .map(verdictKey)
      .sort();

  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy' });
    cli = cliOn(lab.dataDir);
    const started = await start(env.client, lab.plan, lab.taskQueue);
    const view = await waitFor(env.client, started.workflowId, isFinished, 300_000);
    assert.equal(view.state, 'completed');
  });
  after(async () => {
    await lab?.stop();
    await env?.teardown();
  });

  // Each kind whose `lab faults` entry names a verify check, with the checks that must then fail.
  const cases: Array<{ argv: string[]; fails: string[] }> = [
    { argv: ['peer-disconnect', 'cluster-usa', 'cluster-europe'], fails: ['clustermesh-status@cluster-europe', 'clustermesh-status@cluster-usa', 'global-canary@cluster-europe', 'global-canary@cluster-usa'] },
    { argv: ['pool-exhausted', 'cluster-europe'], fails: ['lb-pool@cluster-europe'] },
    { argv: ['wireguard-off', 'usa-worker-1'], fails: ['wireguard@cluster-usa'] },
    { argv: ['hubble-relay-down', 'cluster-europe'], fails: ['hubble-relay@cluster-europe'] },
    { argv: ['policy-edited', 'cluster-usa', 'default/cross-cluster-db-access'], fails: ['policy-consistency'] },
    { argv: ['etcd-slow', 'eu-cp-1'], fails: ['etcd-latency@cluster-europe'] },
    { argv: ['node-unreachable', 'usa-cp-3'], fails: ['etcd-latency@cluster-usa'] },
    { argv: ['helm-pending', 'cluster-usa'], fails: ['cilium-version'] },
    { argv: ['certs-expiring', 'cluster-europe'], fails: ['clustermesh-certs@cluster-europe'] },
  ];

  test('every kind verify names is covered here', () => {
    const named = LAB_FAULTS.filter((k) => k.shownBy.some((s) => s.startsWith('verify:'))).map((k) => k.kind);
    assert.deepEqual(cases.map((c) => c.argv[0]).sort(), [...named].sort());
  });

  for (const { argv, fails } of cases) {
    test(`${argv.join(' ')}: ${fails.join(', ')} fail; heal takes back exactly what break did`, async () => {
      const before = effectiveState(lab.labDir);
      assert.equal((await cli('lab', 'break', ...argv)).code, 0);
      assert.equal((await cli('lab', 'heal', ...argv)).code, 0);
      assert.deepEqual(effectiveState(lab.labDir), before, 'break then heal changes nothing but forward-only counters');

      const broke = await cli('lab', 'break', ...argv);
      assert.equal(broke.code, 0, broke.err);
      try {
        assert.deepEqual(await red(), fails);
      } finally {
        const healed = await cli('lab', 'heal', ...argv);
        assert.equal(healed.code, 0, healed.err);
      }
      assert.deepEqual(await brokenNow(cli), []);
    });
  }

  // One verify for all the heals above (a verify per heal would double this file's time on a loaded machine).
  test('after every heal, every check passes again', async () => {
    assert.deepEqual(await red(), []);
  });
});
