import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutView } from '../../contracts/status.ts';
import { decodePauseToken, judgeClick, tokenForView } from '../../chat/pause-token.ts';
import { ACTION_ABORT, ACTION_OPEN_UI, ACTION_RESUME, outcomeMessage, pauseClearedMessage, pauseMessage, statusMessage } from '../../chat/render.ts';
import { rolloutMessageSchema } from '../../notify/message.ts';

const SINCE = '2026-03-01T10:00:00.000Z';

function view(over: Partial<RolloutView> = {}): RolloutView {
  return {
    id: 'abc123',
    workflowId: 'rollout-usa-europe-abc123',
    mesh: 'usa-europe',
    revision: 'abc123',
    state: 'paused',
    startedAt: '2026-03-01T09:55:00.000Z',
    updatedAt: SINCE,
    clusters: [
      {
        name: 'cluster-usa',
        workflowId: 'rollout-usa-europe-abc123-cluster-cluster-usa',
        state: 'paused',
        step: 'apply-config',
        steps: [
          { name: 'preflight', title: 'p', state: 'done', attempts: 1 },
          { name: 'apply-config', title: 'a', state: 'blocked', attempts: 2 },
        ],
        actions: [],
        outputs: {},
      },
    ],
    meshSteps: [{ name: 'connect', title: 'c', state: 'pending', attempts: 0 }],
    blocked: {
      cluster: 'cluster-usa',
      workflowId: 'rollout-usa-europe-abc123-cluster-cluster-usa',
      step: 'apply-config',
      reason: 'node usa-w-1 (192.168.10.21) does not answer <maintenance API>',
      hint: 'check its power and network, then resume',
      since: SINCE,
      overridable: false,
      skippable: false,
    },
    actions: [],
    startedBy: { by: 'slack:U1OPS', via: 'slack' },
    ...over,
  };
}

const resumed = (by: string, at: string) => ({ at, action: 'resume' as const, cluster: 'cluster-usa', step: 'apply-config', by, via: 'slack' });

describe('pause messages and their buttons', () => {
  test('a pause message holds the reason, the hint and Resume / Abort (confirmed) / Open in Temporal UI', () => {
    const msg = pauseMessage(view(), 'http://ui/namespaces/default/workflows/rollout-usa-europe-abc123')!;
    rolloutMessageSchema.parse(msg);
    assert.match(msg.text ?? '', /Reason: node usa-w-1 .* <maintenance API>\nHint: check its power/);
    assert.deepEqual(msg.actions?.map((a) => a.id), [ACTION_RESUME, ACTION_ABORT, ACTION_OPEN_UI]);
    assert.ok(msg.actions?.[1]?.confirm);
    const token = decodePauseToken(msg.actions?.[0]?.value);
    assert.deepEqual(token, { w: 'rollout-usa-europe-abc123', c: 'cluster-usa', s: 'apply-config', t: SINCE, n: 0 });
    assert.equal(pauseMessage(view({ blocked: undefined, state: 'running' })), undefined);
  });

  test('status, cleared and outcome messages name the steps and who acted', () => {
    const s = statusMessage(view());
    assert.equal(s.title, 'Rollout usa-europe: paused at cluster-usa/apply-config');
    assert.deepEqual(s.fields?.[0], { label: 'cluster-usa', value: 'paused · 1/2 steps · paused at apply-config' });
    const cleared = pauseClearedMessage(view({ state: 'running' }), { cluster: 'cluster-usa', step: 'apply-config' }, resumed('slack:U1OPS', SINCE));
    assert.equal(cleared.title, 'usa-europe cluster-usa/apply-config: resumed');
    assert.equal(cleared.text, `resumed by slack:U1OPS at ${SINCE}`);
    assert.deepEqual(cleared.actions, []);
    const done = outcomeMessage(view({ state: 'completed', blocked: undefined }));
    assert.equal(done.state, 'completed');
    assert.match(done.text ?? '', /All 1 clusters are up and meshed/);
    const aborted = outcomeMessage(view({ state: 'aborted', actions: [{ at: SINCE, action: 'abort', by: 'slack:U2', via: 'slack', reason: 'change window closed' }] }));
    assert.equal(aborted.text, 'Aborted by slack:U2: change window closed.');
  });
});

describe('idempotent clicks', () => {
  const token = tokenForView(view())!;

  test('the first click on a pause acts', () => {
    assert.deepEqual(judgeClick(view(), token, 'resume'), { act: true });
  });

  test('a second click on the same buttons says who already acted', () => {
    const after = view({ actions: [resumed('slack:U1OPS', '2026-03-01T10:01:00.000Z')] });
    const verdict = judgeClick(after, token, 'resume');
    assert.equal(verdict.act, false);
    assert.equal(!verdict.act && verdict.message, 'already resumed by slack:U1OPS');
    // Fresh buttons drawn after that resume (the re-check still failed) act again.
    assert.deepEqual(judgeClick(after, tokenForView(after)!, 'resume'), { act: true });
  });

  test('an action on an earlier pause of the same step does not count', () => {
    const older = view({ actions: [resumed('slack:U9', '2026-03-01T09:00:00.000Z')] });
    assert.deepEqual(judgeClick(older, token, 'resume'), { act: true });
  });

  test('a pause that cleared, or a finished rollout, is not acted on', () => {
    const cleared = judgeClick(view({ state: 'running', blocked: undefined }), token, 'resume');
    assert.equal(!cleared.act && cleared.message, 'cluster-usa/apply-config is no longer paused (its re-check passed)');
    const aborted = judgeClick(view({ state: 'aborted', actions: [{ at: SINCE, action: 'abort', by: 'slack:U2', via: 'slack' }] }), token, 'abort');
    assert.equal(!aborted.act && aborted.message, 'already aborted by slack:U2');
    const completed = judgeClick(view({ state: 'completed', blocked: undefined }), token, 'abort');
    assert.equal(!completed.act && completed.message, 'the rollout already completed');
  });

  test('an Abort button acts only on the pause it was drawn for: a made-up cluster or step, or another pause, is refused (#12, case 9)', () => {
    const forged = [
      { ...token, c: 'cluster-mars' },
      { ...token, s: 'bootstrap' },
      { ...token, t: '2026-03-01T09:00:00.000Z' },
      { ...token, c: undefined },
    ];
    for (const t of forged) {
      const verdict = judgeClick(view(), t, 'abort');
      assert.equal(verdict.act, false, JSON.stringify(t));
      assert.match(!verdict.act ? verdict.message : '', /not the rollout's pause now; to stop the rollout use `\/mesh abort rollout-usa-europe-abc123 <reason>`/);
    }
    assert.deepEqual(judgeClick(view(), token, 'abort'), { act: true });
  });

  test('tampered or foreign button values are not tokens', () => {
    assert.equal(decodePauseToken('{"w":"x"}'), undefined);
    assert.equal(decodePauseToken('not json'), undefined);
    assert.equal(decodePauseToken(undefined), undefined);
  });
});
