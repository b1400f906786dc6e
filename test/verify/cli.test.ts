// `meshpilot verify` / `meshpilot schedule` argument handling through cli/main.ts: bad input is one clear line
// naming the flag, exit 2, before anything talks to Temporal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { SEED_BLUEPRINT } from '../helpers/lab-worker.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // An address nothing listens on: a command that got as far as Temporal would fail differently.
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('verify and schedule commands', () => {
  test('schedule create needs exactly one cadence, validated', async () => {
    let r = await run('schedule', 'create', SEED_BLUEPRINT);
    assert.equal(r.code, 2);
    assert.match(r.err, /--every <duration> .* or --cron <expr> .* is required/);
    r = await run('schedule', 'create', SEED_BLUEPRINT, '--every', '6h', '--cron', '0 * * * *');
    assert.equal(r.code, 2);
    assert.match(r.err, /one of --every or --cron, not both/);
    r = await run('schedule', 'create', SEED_BLUEPRINT, '--every', '10s');
    assert.equal(r.code, 2);
    assert.match(r.err, /--every: 10s is shorter than the 1m minimum/);
    r = await run('schedule', 'create', SEED_BLUEPRINT, '--cron', '0 0 * * * *');
    assert.equal(r.code, 2);
    assert.match(r.err, /--cron: expected 5 fields/);
  });

  test('notification flags are secret references and go together', async () => {
    let r = await run('verify', SEED_BLUEPRINT, '--notify-slack-channel', 'C123');
    assert.equal(r.code, 2);
    assert.match(r.err, /--notify-slack-channel and --notify-slack-token-ref go together/);
    r = await run('verify', SEED_BLUEPRINT, '--notify-webhook-ref', 'notify/hook', '--remind-after', 'soon');
    assert.equal(r.code, 2);
    assert.match(r.err, /--remind-after: "soon" is not a duration/);
  });

  test('schedule commands take a mesh name', async () => {
    const r = await run('schedule', 'pause', 'Not A Mesh');
    assert.equal(r.code, 2);
    assert.match(r.err, /mesh: "Not A Mesh" is not a mesh name/);
    const c = await run('schedule', 'create', SEED_BLUEPRINT, '--every', '6h', '--catchup', '1s');
    assert.equal(c.code, 2);
    assert.match(c.err, /--catchup: 1s is shorter than the 10s minimum/);
  });
});
