// Resume / Abort clicks on a pause message. Anyone who can see a message can click it, and people double-click:
// each click is checked against the allow-list, then against the rollout as it is now (judgeClick), and clicks
// on one pause are handled one at a time in this process so a double click sends one update.
import { startDetach } from '../client/detach.ts';
import { startFailoverDrill } from '../client/failover-drill.ts';
import { parseDrillNode, startRestoreDrill } from '../client/restore-drill.ts';
import { planBlueprint } from './blueprints.ts';
import { abortRollout, actOnStep, getRolloutView } from '../client/rollouts.ts';
import { slackActor, type ChatCore } from './core.ts';
import { explain } from './commands.ts';
import { pauseKeyOf } from './follower.ts';
import { decodePauseToken, judgeClick } from './pause-token.ts';
import { decodeDetachRequest, decodeDrillRequest, decodeFailoverRequest } from './render.ts';

export interface Click {
  kind: 'resume' | 'abort';
  userId: string;
  channelId?: string;
  /** ts of the message clicked, to adopt it as the pause message */
  messageTs?: string;
  value?: string;
  /** Slack's trigger_id for this click: its idempotency key */
  requestId?: string;
}

const inFlight = new Map<string, Promise<unknown>>();

/** Runs `fn` after any earlier click on the same key finished. */
async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = inFlight.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(fn);
  inFlight.set(key, run);
  try {
    return await run;
  } finally {
    if (inFlight.get(key) === run) inFlight.delete(key);
  }
}

/** Returns the ephemeral answer for the person who clicked. */
export async function handleClick(core: ChatCore, click: Click): Promise<string> {
  const allowed = core.allow.mayChange(click.userId, click.channelId);
  if (!allowed.ok) return allowed.message;
  const token = decodePauseToken(click.value);
  if (!token) return 'This button does not carry a rollout this version of meshpilot understands; use `/mesh status` for the current state.';
  const actor = slackActor(click.userId);
  return serialized(JSON.stringify([token.w, token.c ?? null, token.s, token.t]), async () => {
    try {
      const view = await getRolloutView(core.client, token.w);
      const verdict = judgeClick(view, token, click.kind);
      if (click.channelId) {
        // Adopt the clicked message as the pause message only when it is the message of the pause there is.
        const b = view.blocked;
        const isThisPause = b !== undefined && b.step === token.s && (b.cluster ?? undefined) === (token.c ?? undefined) && b.since === token.t;
        core.followers.follow(view.workflowId, click.channelId, isThisPause && click.messageTs ? { pauseRef: { adapter: core.notifier.name, channel: click.channelId, id: click.messageTs }, pauseKey: pauseKeyOf(token) } : {});
      }
      if (!verdict.act || !view.blocked) return `Nothing sent: ${verdict.act ? 'nothing is paused' : verdict.message}.`;
      // From here on, only what the server reported: the token matched it, but the audit is written from the view.
      const pause = view.blocked;
      const where = `${pause.cluster ? `${pause.cluster}/` : ''}${pause.step}`;
      const requestId = click.requestId ? `slack-${click.requestId}` : undefined;
      if (click.kind === 'resume') {
        const r = await actOnStep(core.client, view.workflowId, 'resume', { ...actor, reason: 'resumed from Slack', step: pause.step, cluster: pause.cluster, requestId });
        if (r.duplicate) return `Already done: this click was carried out before (${r.message}).`;
        core.log(`chat: ${actor.by} resumed ${where} of ${view.workflowId} (button)`);
        return `Resume sent for ${where}: ${r.message}.`;
      }
      const r = await abortRollout(core.client, view.workflowId, { ...actor, reason: `aborted from Slack while paused at ${where} (since ${pause.since})`, requestId });
      if (r.duplicate) return `Already done: this click was carried out before (${r.message}).`;
      core.log(`chat: ${actor.by} aborted ${view.workflowId} (button)`);
      return `Abort sent: ${r.message}.`;
    } catch (err) {
      return explain(err);
    } finally {
      core.followers.poke(token.w);
    }
  });
}

/**
 * The confirmed Detach button of a `/mesh detach` reply: checked against the allow-list again (anyone who sees the
 * message can click), then started. A second click attaches to the detach already running instead of starting
 * another (one detach per mesh and cluster at a time).
 */
export async function handleDetachClick(core: ChatCore, click: Omit<Click, 'kind' | 'messageTs'>): Promise<string> {
  const allowed = core.allow.mayChange(click.userId, click.channelId);
  if (!allowed.ok) return allowed.message;
  const req = decodeDetachRequest(click.value);
  if (!req) return 'This button does not carry a detach this version of meshpilot understands; type `/mesh detach MESH CLUSTER REASON` again.';
  const actor = slackActor(click.userId);
  return serialized(JSON.stringify(['detach', req.m, req.c]), async () => {
    try {
      const started = await startDetach(core.client, { mesh: req.m, cluster: req.c, reason: req.r, requestedBy: actor, taskQueue: core.taskQueue, limits: core.limits });
      core.log(`chat: ${actor.by} ${started.started ? 'started' : 'attached to'} ${started.workflowId}`);
      const follow = click.channelId ? core.followers.follow(started.workflowId, click.channelId) : 'too-many';
      core.followers.poke(started.workflowId);
      const head = started.started ? `Detach started: \`${started.workflowId}\`.` : `A detach of ${req.c} is already running: \`${started.workflowId}\` (not started twice).`;
      return `${head}${follow === 'too-many' ? ' Use `/mesh status ' + started.workflowId + '` to follow it.' : ' Progress follows in this channel.'}`;
    } catch (err) {
      return explain(err);
    }
  });
}

/**
 * The confirmed Drill button of a `/mesh drill` reply: allow-list again, the blueprint read again by name, then
 * started. A second click attaches to the drill already running (one per mesh, cluster and node at a time).
 */
export async function handleDrillClick(core: ChatCore, click: Omit<Click, 'kind' | 'messageTs'>): Promise<string> {
  const allowed = core.allow.mayChange(click.userId, click.channelId);
  if (!allowed.ok) return allowed.message;
  const req = decodeDrillRequest(click.value);
  if (!req) return 'This button does not carry a drill this version of meshpilot understands; type `/mesh drill NAME CLUSTER NODE=ADDRESS` again.';
  const actor = slackActor(click.userId);
  return serialized(JSON.stringify(['drill', req.n, req.c, req.d]), async () => {
    try {
      const plan = await planBlueprint(core.blueprintDir, req.n);
      const started = await startRestoreDrill(core.client, { plan, cluster: req.c, drillNode: parseDrillNode(req.d), by: actor, taskQueue: core.taskQueue, limits: core.limits, ...(req.s ? { snapshotId: req.s } : {}) });
      core.log(`chat: ${actor.by} ${started.started ? 'started' : 'attached to'} ${started.workflowId}`);
      const follow = click.channelId ? core.followers.follow(started.workflowId, click.channelId) : 'too-many';
      core.followers.poke(started.workflowId);
      const head = started.started ? `Restore drill started: \`${started.workflowId}\`.` : `That drill is already running: \`${started.workflowId}\` (not started twice).`;
      return `${head}${follow === 'too-many' ? ' Use `/mesh status ' + started.workflowId + '` to follow it.' : ' Progress follows in this channel.'}`;
    } catch (err) {
      return explain(err);
    }
  });
}

/**
 * The confirmed failover Drill button of a `/mesh drill failover` reply: allow-list again, the blueprint read again by
 * name, then started. A second click attaches to the drill already running (one per mesh and region at a time).
 */
export async function handleFailoverDrillClick(core: ChatCore, click: Omit<Click, 'kind' | 'messageTs'>): Promise<string> {
  const allowed = core.allow.mayChange(click.userId, click.channelId);
  if (!allowed.ok) return allowed.message;
  const req = decodeFailoverRequest(click.value);
  if (!req) return 'This button does not carry a failover drill this version of meshpilot understands; type `/mesh drill failover NAME REGION` again.';
  const actor = slackActor(click.userId);
  return serialized(JSON.stringify(['failover-drill', req.n, req.r]), async () => {
    try {
      const plan = await planBlueprint(core.blueprintDir, req.n);
      const started = await startFailoverDrill(core.client, { plan, region: req.r, by: actor, taskQueue: core.taskQueue, limits: core.limits, ...(req.s ? { service: req.s } : {}) });
      core.log(`chat: ${actor.by} ${started.started ? 'started' : 'attached to'} ${started.workflowId}`);
      const follow = click.channelId ? core.followers.follow(started.workflowId, click.channelId) : 'too-many';
      core.followers.poke(started.workflowId);
      const head = started.started ? `Failover drill started: \`${started.workflowId}\`.` : `That failover drill is already running: \`${started.workflowId}\` (not started twice).`;
      return `${head}${follow === 'too-many' ? ' Use `/mesh status ' + started.workflowId + '` to follow it.' : ' Progress and the report follow in this channel.'}`;
    } catch (err) {
      return explain(err);
    }
  });
}
