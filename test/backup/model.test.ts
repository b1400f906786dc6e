// The pure parts of backups: which snapshots a retention policy keeps, how snapshot ids and talosctl's output are
// read, and the CLI refusing bad input with one line naming the argument (exit 2) before it talks to Temporal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSnapshotOutput } from '../../activities/backup/talosctl-output.ts';
import { planBackup } from '../../blueprint/backup-plan.ts';
import { parseRetention } from '../../client/backup.ts';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { DEFAULT_RETENTION, retentionVerdict, snapshotId } from '../../contracts/backup.ts';
import { BACKUP_STEPS } from '../../contracts/steps.ts';
import { SEED_BLUEPRINT } from '../helpers/lab-worker.ts';

const DAY = 86_400_000;
const now = Date.parse('2026-11-30T12:00:00Z');
const snap = (id: string, daysAgo: number) => ({ id, takenAt: new Date(now - daysAgo * DAY).toISOString() });

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('backup model', () => {
  test('retention: keep-last, max-age, both; the newest always stays', () => {
    const all = [snap('a', 0), snap('b', 1), snap('c', 2), snap('d', 10), snap('e', 40)];
    assert.deepEqual(retentionVerdict(all, { keepLast: 2 }, now), { keep: ['a', 'b'], drop: ['c', 'd', 'e'] });
    assert.deepEqual(retentionVerdict(all, { maxAgeMs: 7 * DAY }, now), { keep: ['a', 'b', 'c'], drop: ['d', 'e'] });
    assert.deepEqual(retentionVerdict(all, { keepLast: 4, maxAgeMs: 30 * DAY }, now), { keep: ['a', 'b', 'c', 'd'], drop: ['e'] });
    assert.deepEqual(retentionVerdict([snap('old', 100)], { maxAgeMs: DAY }, now), { keep: ['old'], drop: [] }, 'never leaves a cluster without a backup');
    assert.deepEqual(retentionVerdict([...all].reverse(), { keepLast: 1 }, now).keep, ['a'], 'order of the input does not matter');
    assert.deepEqual(DEFAULT_RETENTION, { keepLast: 7 });
  });

  test('snapshot ids sort by time and differ between runs started in the same second', () => {
    const a = snapshotId('2026-11-30T23:45:07.123Z', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    const b = snapshotId('2026-11-30T23:45:07.456Z', '0193a1b2-c3d4-7e5f-8a9b-99999999aaaa');
    assert.equal(a, '20261130-234507-1d2e3f4a5b', "the run id's random tail, not its time-ordered head");
    assert.notEqual(a, b);
    assert.match(a, /^20261130-234507-[0-9a-f]{10}$/);
    assert.ok(snapshotId('2026-12-01T00:00:00Z', 'x') > a);
  });

  test("talosctl 1.9.5's two output lines", () => {
    const out = 'etcd snapshot saved to "/dev/shm/x/etcd.snapshot" (4128 bytes)\nsnapshot info: hash 1a2b3c4d, revision 1042, total keys 77, total size 4096\n';
    assert.deepEqual(parseSnapshotOutput(out), { bytes: 4128, info: { hash: '1a2b3c4d', revision: 1042, totalKeys: 77, totalSize: 4096 } });
    assert.equal(parseSnapshotOutput('etcd snapshot saved to "x" (4128 bytes)\n'), undefined);
  });

  test('retention flags', () => {
    assert.deepEqual(parseRetention({}), DEFAULT_RETENTION);
    assert.deepEqual(parseRetention({ keepLast: '3', maxAge: '1d12h' }), { keepLast: 3, maxAgeMs: 36 * 3_600_000 });
    assert.throws(() => parseRetention({ keepLast: '0' }), /keep-last: "0" is not a whole number/);
    assert.throws(() => parseRetention({ maxAge: '2w' }), /max-age: "2w" is not a duration/);
    assert.throws(() => parseRetention({ maxAge: '30m' }), /shorter than an hour/);
  });

  test('the plan names every step of the table, with the blueprint control planes', () => {
    const steps = planBackup('usa-europe', { name: 'cluster-usa', controlPlanes: [{ name: 'usa-cp-1', address: '192.168.10.11' }] }, { keepLast: 3 });
    assert.deepEqual(steps.map((s) => s.name), BACKUP_STEPS.map((s) => s.name));
    assert.match(steps[0]!.details.join(' '), /usa-cp-1 192\.168\.10\.11/);
    assert.match(steps[2]!.details.join(' '), /keep the last 3/);
  });
});

describe('backup commands: bad input', () => {
  test('each error names its argument, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['backup', 'now', SEED_BLUEPRINT, '--cluster', 'cluster-mars'], /^error: --cluster: "cluster-mars" is not a cluster of mesh usa-europe \(clusters: cluster-usa, cluster-europe\)/],
      [['backup', 'now', SEED_BLUEPRINT, '--keep-last', 'many'], /^error: --keep-last: "many" is not a whole number/],
      [['backup', 'list', 'Not A Mesh'], /^error: MESH: "Not A Mesh" is not a mesh name/],
      [['backup', 'prune', 'usa-europe', '--max-age', 'forever'], /^error: --max-age: "forever" is not a duration/],
      [['backup', 'schedule', 'create', SEED_BLUEPRINT], /--every <duration>.*or --cron <expr>.*is required/],
      [['backup', 'schedule', 'create', 'usa-europe', '--every', '1d', '--notify-webhook-ref', 'notify/x'], /--notify-\* flags need the blueprint FILE/],
      [['backup', 'schedule', 'create', SEED_BLUEPRINT, '--every', '10s'], /^error: --every: 10s is shorter than the 1m minimum/],
    ];
    for (const [argv, want] of cases) {
      const r = await run(...argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, want, argv.join(' '));
    }
  });

  test('--plan prints the steps per cluster and starts nothing', async () => {
    const r = await run('backup', 'now', SEED_BLUEPRINT, '--plan', '--json');
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out) as { mesh: string; clusters: Array<{ cluster: string; steps: Array<{ name: string }> }> };
    assert.deepEqual(plan.clusters.map((c) => c.cluster), ['cluster-usa', 'cluster-europe']);
    assert.deepEqual(plan.clusters[0]!.steps.map((s) => s.name), ['backup-target', 'etcd-snapshot', 'retention']);
  });
});
