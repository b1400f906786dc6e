import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { bootNodeIntoInstaller, type BootNodeInput } from '../../activities/redfish.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import { RedfishClient } from '../../activities/redfish/client.ts';
import { blockedDetailsOf, FailureType, findApplicationFailure } from '../../contracts/failures.ts';
import { EncryptedFileSecretStore, keyFromString } from '../../secrets/encrypted-file-store.ts';
import { selfSignedCert, startIsoServer, startSushy, type Sushy } from '../helpers/sushy.ts';

const SYSTEMS = [
  { uuid: '11111111-0000-0000-0000-000000000001', name: 'cp-1' },
  { uuid: '11111111-0000-0000-0000-000000000002', name: 'cp-2' },
  { uuid: '11111111-0000-0000-0000-000000000003', name: 'cp-3' },
  { uuid: '11111111-0000-0000-0000-000000000004', name: 'worker-pxe' },
  { uuid: '11111111-0000-0000-0000-000000000005', name: 'worker-badimage' },
];
const PASSWORD = 'sushy-Secret-pw-7';

describe('bootNodeIntoInstaller against sushy-tools (fake driver, TLS, basic auth)', () => {
  let sushy: Sushy;
  let iso: Awaited<ReturnType<typeof startIsoServer>>;
  let dir: string;
  let deps: ActivityDeps;
  let bmcAgent: Agent;

  before(async () => {
    [sushy, iso] = await Promise.all([startSushy({ systems: SYSTEMS, users: { admin: PASSWORD } }), startIsoServer()]);
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshpilot-redfish-test-'));
    const secrets = new EncryptedFileSecretStore(path.join(dir, 'secrets'), keyFromString('redfish-test'));
    await secrets.put('bmc/good', JSON.stringify({ username: 'admin', password: PASSWORD }));
    await secrets.put('bmc/wrong', JSON.stringify({ username: 'admin', password: 'not-the-password' }));
    await secrets.put('bmc/ca', sushy.caPem);
    await secrets.put('bmc/other-ca', (await selfSignedCert(dir, 'unrelated-ca')).pem);
    deps = {
      tools: { env: process.env },
      secrets,
      workDir: dir,
      etcdMetricsUrl: () => 'http://127.0.0.1:1/metrics',
      // sushy applies a power change 1-11 s after the request.
      pollBudgetMs: 30_000,
    };
    bmcAgent = new Agent({ connect: { ca: sushy.caPem } });
  });

  after(async () => {
    await bmcAgent?.close();
    await sushy?.close();
    await iso?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const input = (name: string, over: Partial<Omit<BootNodeInput, 'bmc'>> & { bmc?: Partial<BootNodeInput['bmc']> } = {}): BootNodeInput => ({
    node: name,
    imageUrl: iso.url(),
    bootMode: 'virtualmedia',
    ...over,
    bmc: { endpoint: sushy.url, credentialsRef: 'bmc/good', caRef: 'bmc/ca', systemId: name, ...over.bmc },
  });

  /** The BMC's own view, read directly (not through the code under test). */
  async function bmcState(uuid: string) {
    const get = async (p: string) => {
      const res = await request(`${sushy.url}${p}`, {
        dispatcher: bmcAgent,
        headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` },
      });
      return (await res.body.json()) as Record<string, any>;
    };
    const system = await get(`/redfish/v1/Systems/${uuid}`);
    const cd = await get(`/redfish/v1/Systems/${uuid}/VirtualMedia/Cd`);
    return { power: system.PowerState, target: system.Boot.BootSourceOverrideTarget, image: cd.Image, inserted: cd.Inserted };
  }

  const changes = (since: number) => sushy.requests().slice(since).filter((r) => r.method !== 'GET');

  test('boots several systems in parallel: media, boot override, power on', async () => {
    const nodes = ['cp-1', 'cp-2', 'cp-3'];
    const results = await Promise.all([
      ...nodes.map((n) => bootNodeIntoInstaller(deps, input(n))),
      bootNodeIntoInstaller(deps, input('worker-pxe', { bootMode: 'pxe' })),
    ]);
    for (const r of results.slice(0, 3)) assert.deepEqual(r.actions, ['insert-media', 'set-boot-override', 'power-on']);
    assert.deepEqual(results[3]!.actions, ['set-boot-override', 'power-on']);
    for (const s of SYSTEMS.slice(0, 3)) {
      assert.deepEqual(await bmcState(s.uuid), { power: 'On', target: 'Cd', image: iso.url(), inserted: true });
    }
    const pxe = await bmcState(SYSTEMS[3]!.uuid);
    assert.equal(pxe.power, 'On');
    assert.equal(pxe.target, 'Pxe');
    assert.equal(pxe.inserted, false);
    assert.equal(iso.hits(), 3, 'the BMC downloaded the image once per virtual-media node');
  });

  test('a re-run after success does nothing twice', async () => {
    const mark = sushy.requests().length;
    const results = await Promise.all([
      ...['cp-1', 'cp-2', 'cp-3'].map((n) => bootNodeIntoInstaller(deps, input(n))),
      bootNodeIntoInstaller(deps, input('worker-pxe', { bootMode: 'pxe' })),
    ]);
    for (const r of results) assert.deepEqual(r.actions, []);
    assert.deepEqual(changes(mark), [], 'no POST/PATCH reached the BMC');
    assert.equal(iso.hits(), 3);
  });

  test('a different image on a running node: eject, insert, power-cycle', async () => {
    const next = iso.url('talos-v2.iso');
    const r = await bootNodeIntoInstaller(deps, input('cp-1', { imageUrl: next }));
    assert.deepEqual(r.actions, ['eject-media', 'insert-media', 'power-cycle']);
    assert.deepEqual(await bmcState(SYSTEMS[0]!.uuid), { power: 'On', target: 'Cd', image: next, inserted: true });
  });

  test('a wrong password is fatal, names the credentials ref, and costs exactly one refused request', async () => {
    const mark = sushy.requests().length;
    const err = await bootNodeIntoInstaller(deps, input('cp-2', { bmc: { credentialsRef: 'bmc/wrong' } })).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    const app = findApplicationFailure(err);
    assert.equal(app?.type, FailureType.fatal);
    assert.equal(app?.nonRetryable, true);
    assert.match(app!.message, /refused the credentials \(HTTP 401\)/);
    assert.match(app!.message, /bmc\/wrong/);
    assert.doesNotMatch(app!.message, /not-the-password/);
    const seen = sushy.requests().slice(mark);
    assert.equal(seen.filter((r) => r.status === 401).length, 1, JSON.stringify(seen));
    assert.equal(seen.length, 2, 'service root (public) + one refused request, nothing after');
  });

  test('an image URL the BMC cannot reach pauses the step with the URL in the reason', async () => {
    const unreachable = 'http://127.0.0.1:9/never/talos.iso';
    const err = await bootNodeIntoInstaller(deps, input('worker-badimage', { imageUrl: unreachable })).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    const details = blockedDetailsOf(err);
    assert.ok(details, `expected blocked, got ${String(err)}`);
    assert.match(details.reason, /could not load the installer image http:\/\/127\.0\.0\.1:9\/never\/talos\.iso/);
    assert.equal(details.evidence?.status, 500);
    const state = await bmcState(SYSTEMS[4]!.uuid);
    assert.equal(state.power, 'Off', 'nothing after the failed insert');
    assert.equal(state.inserted, false);
  });

  test('TLS: a CA that did not sign the BMC cert is refused; insecureTls is explicit', async () => {
    const err = await bootNodeIntoInstaller(deps, input('cp-2', { bmc: { caRef: 'bmc/other-ca' } })).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    const app = findApplicationFailure(err);
    assert.equal(app?.type, FailureType.fatal);
    assert.match(app!.message, /TLS verification failed/);
    assert.match(app!.message, /bmc\/other-ca/);

    const noCa = await bootNodeIntoInstaller(deps, input('cp-2', { bmc: { caRef: undefined } })).then(
      () => assert.fail('the system trust store does not know this self-signed cert'),
      (e: unknown) => findApplicationFailure(e),
    );
    assert.match(noCa!.message, /bmc\.caRef|insecureTls/);

    const insecure = await bootNodeIntoInstaller(deps, input('cp-2', { bmc: { caRef: undefined, insecureTls: true } }));
    assert.deepEqual(insecure.actions, []);
  });

  test('bad input names the field', async () => {
    const err = await bootNodeIntoInstaller(deps, input('cp-3', { imageUrl: 'not a url' })).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => findApplicationFailure(e),
    );
    assert.equal(err?.type, FailureType.fatal);
    assert.match(err!.message, /imageUrl/);
  });
});

describe('RedfishClient quirks sushy does not show (loopback BMC stand-in)', () => {
  test('412 on a weak ETag retries it strong; a 202 task monitor is polled until it completes', async () => {
    const seen: string[] = [];
    let polls = 0;
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} if-match=${req.headers['if-match'] ?? '-'}`);
      if (req.method === 'PATCH') {
        // Like BMCs that hand out weak ETags (compression) but only accept the strong form.
        if (req.headers['if-match'] !== '"abc"') return void res.writeHead(412).end();
        return void res.writeHead(204).end();
      }
      if (req.method === 'POST') return void res.writeHead(202, { location: '/redfish/v1/TaskService/Tasks/7' }).end();
      if (req.url === '/redfish/v1/TaskService/Tasks/7') {
        polls++;
        if (polls < 2) return void res.writeHead(202).end();
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ TaskState: 'Completed' }));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const client = new RedfishClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, username: 'u', password: 'p' });
    try {
      await client.patch('/redfish/v1/Systems/1', { Boot: { BootSourceOverrideTarget: 'Cd' } }, 'W/"abc"');
      assert.deepEqual(seen.filter((s) => s.startsWith('PATCH')), [
        'PATCH /redfish/v1/Systems/1 if-match=W/"abc"',
        'PATCH /redfish/v1/Systems/1 if-match="abc"',
      ]);
      const done = await client.post('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' });
      assert.equal(done.status, 200);
      assert.deepEqual(done.body, { TaskState: 'Completed' });
      assert.equal(polls, 2);
    } finally {
      await client.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
