// The production topology, end to end, on real parts: `scripts/prod-stack.sh up --lab` starts PostgreSQL, the
// Temporal server built from go.temporal.io/server (schema by its own SQL tool), the Web UI server, the codec server,
// an orchestration worker and two site workers, and the chat app (against a loopback Slack). Then the seed's mesh
// is rolled out with --site-queues and payload encryption: it pauses, an operator heals the lab and resumes from
// the CLI, a site worker is SIGKILLed and the Temporal server restarted mid-run, and it completes without a step
// done twice; a verify schedule fires on the server; histories are encrypted at rest and readable through the
// codec server. A part that cannot be built or started fails the suite: nothing here is skipped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { getRolloutView } from '../../client/rollouts.ts';
import { dataConverterFromEnv } from '../../codec/data-converter.ts';
import { projectRoot } from '../../config/env.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { readLabState } from '../../lab/state.ts';
import { venvTemporalPath } from '../../temporal/cli-binary.ts';
import type { VerifyReport } from '../../contracts/verify/report.ts';
import { runCli } from '../helpers/cli.ts';
import { healLab, SEED_BLUEPRINT } from '../helpers/lab-worker.ts';
import { isFinished, waitFor } from '../helpers/rollout.ts';
import { sendSigned, slashCommand } from '../chat/slack-requests.ts';
import { startFakeSlack, type FakeSlack } from '../notify/fake-slack.ts';
import { isAlive, prodStack, SERVICES, type ProdStack } from './stack.ts';

const SIGNING_SECRET = 'prod-stack-signing-secret-0123456789';
const OPS_USER = 'U1OPS';
const OPS_CHANNEL = 'C1OPS';

describe('production stack: Temporal server on PostgreSQL, site workers, codec server, UI, chat', () => {
  let stack: ProdStack;
  let slack: FakeSlack;
  let cliEnv: NodeJS.ProcessEnv;
  let client: Client;
  let rolloutId: string;

  before(
    async () => {
      slack = await startFakeSlack();
      stack = await prodStack({
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-prod-stack-test',
        SLACK_API_URL: slack.apiUrl,
        SLACK_ALLOWED_USERS: OPS_USER,
        SLACK_ALLOWED_CHANNELS: OPS_CHANNEL,
        MESHPILOT_BLUEPRINT_DIR: path.join(projectRoot, 'examples'),
      });
      await stack.run('up', '--lab');
      cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', MESHPILOT_ACTOR: 'oncall', ...stack.clientEnv() };
      client = new Client({
        connection: await Connection.connect({ address: cliEnv.TEMPORAL_ADDRESS! }),
        namespace: 'default',
        dataConverter: await dataConverterFromEnv(cliEnv),
      });
    },
    { timeout: 900_000 },
  );

  after(async () => {
    await client?.connection.close().catch(() => undefined);
    await stack?.destroy();
    await slack?.close();
  });

  const cli = (...argv: string[]) => runCli(cliEnv, ...argv);

  test('every service is up, on the ports it was given; the server is the one built from go.temporal.io/server', async () => {
    const status = await stack.run('status');
    for (const s of SERVICES) assert.match(status.stdout, new RegExp(`^${s}\\s+running\\s+\\d+`, 'm'), status.stdout);
    assert.equal(cliEnv.TEMPORAL_ADDRESS, `127.0.0.1:${stack.ports.FRONTEND_GRPC_PORT}`);
    const info = await client.workflowService.getSystemInfo({});
    assert.match(info.serverVersion ?? '', /^1\.32\./);
    const cluster = await client.workflowService.getClusterInfo({});
    assert.match(String(cluster.persistenceStore), /postgres/i, 'persistence is PostgreSQL, not the dev server\'s SQLite');
    assert.match(String(cluster.visibilityStore), /postgres/i);
    assert.equal(cluster.historyShardCount, 512, 'the shard count of deploy/temporal/server.yaml');
  });

  test('the seed mesh with --site-queues: a pause resumed from the CLI, a SIGKILLed site worker, a server restart, then complete', async () => {
    // The rollout starts paused: a USA node never reaches maintenance mode.
    const started = await cli('rollout', SEED_BLUEPRINT, '--lab', 'node-unreachable', '--site-queues', '--tool-latency', '150', '--json');
    assert.equal(started.code, 0, started.err);
    rolloutId = (JSON.parse(started.out) as { workflowId: string }).workflowId;
    const created = await cli('schedule', 'create', SEED_BLUEPRINT, '--every', '1m', '--json');
    assert.equal(created.code, 0, created.err);

    const watched = await cli('watch', rolloutId, '--until-paused');
    assert.equal(watched.code, 0, watched.err);
    assert.match(watched.out, /paused at cluster-usa\/boot/);

    // Each cluster ran on its site's queue, polled by that site's worker.
    const usa = await client.workflow.getHandle(`${rolloutId}-cluster-cluster-usa`).describe();
    const europe = await client.workflow.getHandle(`${rolloutId}-cluster-cluster-europe`).describe();
    assert.equal(usa.taskQueue, 'meshpilot-site-usa');
    assert.equal(europe.taskQueue, 'meshpilot-site-europe');

    await healLab(stack.labDir, 'node-unreachable');
    const resumed = await cli('resume', rolloutId, '--reason', 'switch port fixed', '--json');
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(JSON.parse(resumed.out).accepted, true);

    // Past bootstrap in the USA, pull the plug on the USA site worker, then restart the Temporal server.
    await waitFor(client, rolloutId, (v) => v.clusters.find((c) => c.name === 'cluster-usa')!.steps.find((s) => s.name === 'bootstrap')!.state === 'done', 300_000);
    const europePid = stack.pid('worker-europe');
    const killed = stack.pid('worker-usa')!;
    process.kill(killed, 'SIGKILL');
    const atKill = await getRolloutView(client, rolloutId);
    assert.equal(atKill.state, 'running', 'the kill lands mid-run');
    assert.notEqual(atKill.clusters.find((c) => c.name === 'cluster-usa')!.state, 'completed');
    const serverPid = stack.pid('temporal')!;
    await stack.run('restart', 'temporal');
    assert.notEqual(stack.pid('temporal'), serverPid, 'a new server process');
    assert.ok(!isAlive(serverPid));
    const down = await stack.status();
    assert.equal(down.exitCode, 3);
    assert.match(down.stdout, /^worker-usa\s+stopped/m, 'status reports the killed worker');
    // `up` converges: it starts only what is not running.
    await stack.run('up', '--lab');
    assert.notEqual(stack.pid('worker-usa'), killed);
    assert.equal(stack.pid('worker-europe'), europePid, 'the running workers are left alone');

    const done = await waitFor(client, rolloutId, isFinished, 600_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const final = await cli('status', rolloutId, '--json');
    assert.equal(JSON.parse(final.out).state, 'completed');
    assert.ok(done.actions.some((a) => a.action === 'resume' && a.by === 'oncall' && a.via === 'cli'), 'the resume is audited');

    const lab = readLabState(stack.labDir);
    assert.equal(lab.clusters['cluster-usa']!.bootstrapCount, 1, 'bootstrapped once despite the kill and the restart');
    assert.equal(lab.clusters['cluster-europe']!.bootstrapCount, 1);
    assert.equal(callsMatching(readCalls(stack.labDir), 'talosctl', ['gen', 'secrets']).length, 2, 'secrets generated once per cluster');
  });

  test('histories are encrypted at rest and read back through the codec server', async () => {
    assert.ok(rolloutId, 'needs the rollout of the previous test');
    // the rollout's input as `temporal workflow show -o json` prints it: encoding and data of the first payload
    const input = async (extra: string[]) => {
      const r = await execa(venvTemporalPath, ['workflow', 'show', '--address', cliEnv.TEMPORAL_ADDRESS!, '-w', rolloutId, '-o', 'json', ...extra], { timeout: 120_000 });
      const started = (JSON.parse(r.stdout) as { events: Array<Record<string, any>> }).events[0]!;
      const payload = started.workflowExecutionStartedEventAttributes.input.payloads[0] as { metadata: { encoding: string }; data: string };
      return { encoding: Buffer.from(payload.metadata.encoding, 'base64').toString(), data: Buffer.from(payload.data, 'base64').toString() };
    };
    const stored = await input([]);
    assert.equal(stored.encoding, 'binary/encrypted', 'the server holds ciphertext');
    assert.doesNotMatch(stored.data, /usa-worker-1/);
    const decoded = await input(['--codec-endpoint', cliEnv.MESHPILOT_CODEC_ENDPOINT!]);
    assert.equal(decoded.encoding, 'json/plain');
    assert.match(decoded.data, /"usa-worker-1"/, 'the codec server decodes the plan');
  });

  test('the verify schedule fires on the server and reports every cluster', async () => {
    const handle = client.schedule.getHandle('verify-usa-europe');
    let report: VerifyReport | undefined;
    const deadline = Date.now() + 240_000;
    while (!report) {
      const d = await handle.describe();
      const fired = d.info.recentActions.map((a) => a.action.workflow.workflowId);
      for (const id of fired) {
        const desc = await client.workflow.getHandle(id).describe();
        if (desc.status.name === 'COMPLETED') report = (await client.workflow.getHandle(id).result()) as VerifyReport;
      }
      if (!report) {
        assert.ok(Date.now() < deadline, `no completed scheduled verify run within 4 min (fired: ${fired.join(', ') || 'none'})`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    assert.equal(report.mesh, 'usa-europe');
    for (const cluster of ['cluster-usa', 'cluster-europe']) {
      assert.ok(report.verdicts.some((v) => v.cluster === cluster && v.check === 'clustermesh-status'), `${cluster} was checked`);
    }
  });

  test('the chat app answers /mesh status from the stack', async () => {
    const body = slashCommand({ text: `status ${rolloutId}`, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl('status') });
    const r = await sendSigned(`${cliEnv.MESHPILOT_CHAT_URL}/slack/events`, body, { secret: SIGNING_SECRET });
    assert.equal(r.status, 200);
    const answer = await slack.waitFor('the status reply', () => slack.responses.find((x) => x.id === 'status'), 120_000);
    assert.match(JSON.stringify(answer.body), /completed/);
  });

  test('the Web UI server reaches the frontend and sends browsers to the codec server', async () => {
    const ui = cliEnv.MESHPILOT_UI_URL!;
    const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    assert.equal(settings.Codec?.Endpoint, `http://localhost:${stack.ports.MESHPILOT_CODEC_PORT}`);
    const res = await fetch(`${ui}/api/v1/namespaces/default/workflows/${encodeURIComponent(rolloutId)}`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(await res.text(), /meshRollout/);
    const page = await fetch(`${ui}/namespaces/default/workflows`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /_app\/immutable/);
  });

  test('down stops every process it started', async () => {
    const pids = SERVICES.map((s) => stack.pid(s)).filter((p): p is number => p !== undefined);
    assert.equal(pids.length, SERVICES.length);
    await client.connection.close();
    await stack.run('down');
    // `down` waits for each service itself; this only covers a reaper that is slow on a loaded machine.
    const deadline = Date.now() + 60_000;
    while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const cmdline = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return 'exited just now';
      }
    };
    for (const pid of pids.filter(isAlive)) assert.fail(`pid ${pid} (${cmdline(pid)}) still alive`);
    const status = await stack.status();
    assert.equal(status.exitCode, 3);
    assert.doesNotMatch(status.stdout, /running/);
    assert.ok(!readFileSync(path.join(stack.dir, 'logs', 'temporal.log'), 'utf8').includes('panic'));
  });
});
