// The pure parts of scheduled verification: when a run notifies, and what a schedule's cadence may be.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cadenceSpec, parseCatchupWindow, parseEvery, scheduleSummaryFacts, ScheduleInputError, validateCron } from '../../client/schedules.ts';
import { driftMessage } from '../../activities/verify/notify.ts';
import { within } from '../../activities/verify/identity.ts';
import { decideNotification, type VerifyLedger } from '../../activities/verify/drift.ts';
import { countsOf, diffVerdictSets, overallOf, reportTable, type Verdict } from '../../contracts/verify/report.ts';

const now = new Date('2026-01-10T12:00:00Z');
const policy = { enabled: true, remindAfterMs: 24 * 3_600_000 };
const ledger = (announced: VerifyLedger['announcedSet'], announcedAt = '2026-01-10T11:00:00Z'): VerifyLedger => ({
  mesh: 'm',
  lastRunAt: '2026-01-10T11:00:00Z',
  lastSet: announced ?? {},
  announcedSet: announced,
  announcedAt,
});

describe('drift notifications', () => {
  test('a healthy first run is not news; a failing first run is', () => {
    assert.equal(decideNotification(undefined, { a: 'ok', b: 'ok' }, now, policy).notify, 'none');
    const d = decideNotification(undefined, { a: 'fail', b: 'ok' }, now, policy);
    assert.equal(d.notify, 'change');
    assert.deepEqual(d.news, [{ check: 'a', to: 'fail' }]);
  });

  test('the same failures again stay quiet; a new one, a worse one or a recovery notifies', () => {
    const l = ledger({ 'wireguard@eu': 'fail', 'lb-pool@eu': 'ok' });
    assert.equal(decideNotification(l, { 'wireguard@eu': 'fail', 'lb-pool@eu': 'ok' }, now, policy).notify, 'none');
    assert.equal(decideNotification(l, { 'wireguard@eu': 'fail', 'lb-pool@eu': 'fail' }, now, policy).notify, 'change');
    const recovered = decideNotification(l, { 'wireguard@eu': 'ok', 'lb-pool@eu': 'ok' }, now, policy);
    assert.equal(recovered.notify, 'change');
    assert.deepEqual(recovered.news, [{ check: 'wireguard', cluster: 'eu', from: 'fail' }]);
    assert.equal(decideNotification(l, { 'wireguard@eu': 'warn', 'lb-pool@eu': 'ok' }, now, policy).notify, 'change', 'fail → warn is a change');
  });

  test('a persisting failure is repeated after the reminder interval, never with reminders off', () => {
    const old = ledger({ 'wireguard@eu': 'fail' }, '2026-01-09T11:00:00Z');
    assert.equal(decideNotification(old, { 'wireguard@eu': 'fail' }, now, policy).notify, 'reminder');
    assert.equal(decideNotification(old, { 'wireguard@eu': 'fail' }, now, { enabled: true, remindAfterMs: 0 }).notify, 'none');
    assert.equal(decideNotification(old, { 'wireguard@eu': 'warn' }, now, policy).notify, 'change', 'warnings do not remind, they change');
  });

  test('without a channel nothing is sent, but changes are still reported', () => {
    const d = decideNotification(ledger({ a: 'ok' }), { a: 'fail' }, now, { enabled: false, remindAfterMs: 0 });
    assert.equal(d.notify, 'none');
    assert.deepEqual(d.changes, [{ check: 'a', from: 'ok', to: 'fail' }]);
  });

  test('verdict-set diffs name what appeared, changed and went away', () => {
    assert.deepEqual(diffVerdictSets({ 'x@a': 'ok', y: 'fail' }, { 'x@a': 'warn', z: 'ok' }), [
      { check: 'x', cluster: 'a', from: 'ok', to: 'warn' },
      { check: 'y', from: 'fail' },
      { check: 'z', to: 'ok' },
    ]);
  });

  test('the message leads with the change, lists what is wrong and offers the remediation as a button', () => {
    const verdicts: Verdict[] = [
      { check: 'lb-pool', cluster: 'eu', status: 'fail', summary: 'eu: pool exhausted', evidence: {}, hint: 'free addresses', remediation: { kind: 'rollout', command: 'meshpilot rollout bp.yaml' } },
      { check: 'wireguard', cluster: 'eu', status: 'ok', summary: 'ok', evidence: {}, hint: '' },
    ];
    const report = { mesh: 'm', revision: 'r1', workflowId: 'verify-m-x', startedAt: '', finishedAt: '', overall: overallOf(verdicts), counts: countsOf(verdicts), verdicts };
    const d = decideNotification(undefined, { 'lb-pool@eu': 'fail', 'wireguard@eu': 'ok' }, now, policy);
    const msg = driftMessage(report, d, 'C1');
    assert.equal(msg.state, 'failed');
    assert.match(msg.title, /m: 1 failing/);
    assert.match(msg.text ?? '', /lb-pool@eu: ok → fail/);
    assert.deepEqual(msg.fields?.map((f) => f.label), ['✖ lb-pool@eu']);
    assert.equal(msg.actions?.[0]?.id, 'verify.remediate');
    assert.equal(msg.channel, 'C1');
    assert.match(reportTable(report), /\| ✖ lb-pool \| eu \| fail \|.*remedy: `meshpilot rollout bp.yaml`/);
  });
});

describe('schedule cadence', () => {
  test('--every takes whole d/h/m/s units, at least a minute', () => {
    assert.equal(parseEvery('6h'), 6 * 3_600_000);
    assert.equal(parseEvery('1d12h'), 36 * 3_600_000);
    assert.deepEqual(cadenceSpec({ every: '30m' }), { spec: { intervals: [{ every: 1_800_000 }] }, text: 'every 30m' });
    assert.throws(() => parseEvery('6 hours'), (e) => e instanceof ScheduleInputError && e.argument === 'every' && /^"6 hours" is not a duration/.test(e.problem));
    assert.throws(() => parseEvery('30s'), /shorter than the 1m minimum/);
    assert.throws(() => parseEvery(''), ScheduleInputError);
    assert.equal(parseCatchupWindow('10s'), 10_000);
    assert.throws(() => parseCatchupWindow('5s'), (e) => e instanceof ScheduleInputError && e.argument === 'catchup' && e.problem === '5s is shorter than the 10s minimum');
  });

  test('--cron takes five fields with ranges, lists, steps and names; errors name the field', () => {
    for (const ok of ['0 */6 * * *', '15 2 * * MON-FRI', '0 0 1,15 JAN-JUN *', '@daily', '*/5 * * * 0']) assert.doesNotThrow(() => validateCron(ok), ok);
    assert.throws(() => validateCron('0 */6 * *'), /expected 5 fields .* got 4/);
    assert.throws(() => validateCron('61 * * * *'), /minute "61" is not in 0-59/);
    assert.throws(() => validateCron('0 25 * * *'), /hour "25"/);
    assert.throws(() => validateCron('0 0 * * FUNDAY'), /day of week "FUNDAY"/);
    assert.throws(() => validateCron('0 0 * * */0'), /step "0"/);
    assert.throws(() => validateCron('0 10-2 * * *'), /range 10-2 runs backwards/);
    assert.deepEqual(cadenceSpec({ cron: ' 0  */6 * * * ' }), { spec: { cronExpressions: ['0 */6 * * *'] }, text: 'cron 0 */6 * * *' });
  });

  test("a schedule's summary gives its cadence back whole, commas in a cron list included", () => {
    const rev = 'a1b2c3d4e5f6-x1';
    assert.deepEqual(scheduleSummaryFacts(`Verify usa-europe (cron 0 0 1,15 JAN-JUN *, revision ${rev})`), { cadence: 'cron 0 0 1,15 JAN-JUN *', revision: rev });
    assert.deepEqual(scheduleSummaryFacts(`Verify usa-europe (every 6h, revision ${rev})`), { cadence: 'every 6h', revision: rev });
    assert.deepEqual(scheduleSummaryFacts(`Backup cluster-usa (mesh usa-europe, cron 0 3 * * 1,4, revision ${rev})`), { cadence: 'cron 0 3 * * 1,4', revision: rev });
    assert.deepEqual(scheduleSummaryFacts('something else'), { cadence: 'unknown' });
    assert.deepEqual(scheduleSummaryFacts(undefined), { cadence: 'unknown' });
  });
});

describe('address ranges', () => {
  test('an address belongs to a CIDR of its own family only', () => {
    assert.ok(within('10.1.3.4', ['10.1.0.0/16']));
    assert.ok(!within('10.2.3.4', ['10.1.0.0/16']));
    assert.ok(within('fd00:1::5', ['10.1.0.0/16', 'fd00:1::/64']));
    assert.ok(!within('not-an-ip', ['10.1.0.0/16']));
  });
});
