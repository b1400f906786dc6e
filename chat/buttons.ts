// Resume / Abort clicks on a pause message. Anyone who can see a message can click it, and people double-click:
// each click is checked against the allow-list, then against the rollout as it is now (judgeClick), and clicks
// on one pause are handled one at a time in this process so a double click sends one update.
import { abortRollout, actOnStep, getRolloutView } from '../client/rollouts.ts';
import { slackActor, type ChatCore } from './core.ts';
import { explain } from './commands.ts';
import { pauseKeyOf } from './follower.ts';
import { decodePauseToken, judgeClick } from './pause-token.ts';

export interface Click {
  kind: 'resume' | 'abort';
  userId: string;
  channelId?: string;
  /** ts of the message clicked, to adopt it as the pause message */
  messageTs?: string;
  value?: string;
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
        core.followers.follow(token.w, click.channelId, click.messageTs ? { pauseRef: { adapter: core.notifier.name, channel: click.channelId, id: click.messageTs }, pauseKey: pauseKeyOf(token) } : {});
      }
      if (!verdict.act) return `Nothing sent: ${verdict.message}.`;
      const where = `${token.c ? `${token.c}/` : ''}${token.s}`;
      if (click.kind === 'resume') {
        const r = await actOnStep(core.client, token.w, 'resume', { ...actor, reason: 'resumed from Slack', step: token.s, cluster: token.c });
        core.log(`chat: ${actor.by} resumed ${where} of ${token.w} (button)`);
        return `Resume sent for ${where}: ${r.message}.`;
      }
      const r = await abortRollout(core.client, token.w, { ...actor, reason: `aborted from Slack while paused at ${where}` });
      core.log(`chat: ${actor.by} aborted ${token.w} (button)`);
      return `Abort sent: ${r.message}.`;
    } catch (err) {
      return explain(err);
    } finally {
      core.followers.poke(token.w);
    }
  });
}
