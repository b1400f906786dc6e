// Background followers: one per (rollout, channel) in the chat process, polling the rollout view and keeping
// its Slack messages current. No state of their own beyond message refs: after a restart a rollout is followed
// again only when someone asks about it (status, a click), and the rollout's truth is always the workflow.
import type { Client } from '@temporalio/client';
import { fetchRolloutFacts } from '../client/rollout-history.ts';
import { getRolloutView, RolloutNotFound } from '../client/rollouts.ts';
import { isTerminal, type RolloutView } from '../contracts/status.ts';
import { rolloutReport } from '../pictures/timeline/report.ts';
import { duration } from '../pictures/timeline/svg.ts';
import type { MessageRef, RolloutMessage } from '../notify/message.ts';
import { isNotifyError, type Notifier } from '../notify/notifier.ts';
import { actionsOnPause } from './pause-token.ts';
import { outcomeMessage, pauseClearedMessage, pauseMessage, statusMessage } from './render.ts';

export interface FollowerOptions {
  client: Client;
  notifier: Notifier;
  uiLink: (workflowId: string) => string | undefined;
  log: (line: string) => void;
  /** poll period; Temporal queries are cheap, Slack updates happen only on change */
  intervalMs?: number;
  /** at most this many rollouts followed at once: each one is a poll loop against Temporal */
  maxFollowers?: number;
  /** stop following a rollout after this long (a long pause keeps its message; `/mesh status` picks it up again) */
  maxFollowMs?: number;
}

interface Pause {
  key: string;
  cluster?: string;
  step: string;
  since: string;
  ref?: MessageRef;
  drawn?: string;
}

interface Followed {
  workflowId: string;
  channel: string;
  statusRef?: MessageRef;
  statusDrawn?: string;
  pause?: Pause;
  outcomePosted: boolean;
  wake?: () => void;
  done: Promise<void>;
}

export type FollowResult = 'following' | 'already-following' | 'too-many';

export class RolloutFollowers {
  private readonly followed = new Map<string, Followed>();
  private stopping = false;
  private readonly intervalMs: number;
  private readonly maxFollowers: number;
  private readonly maxFollowMs: number;

  constructor(private readonly opts: FollowerOptions) {
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.maxFollowers = opts.maxFollowers ?? 50;
    this.maxFollowMs = opts.maxFollowMs ?? 48 * 3600_000;
  }

  get size(): number {
    return this.followed.size;
  }

  isFollowing(workflowId: string, channel: string): boolean {
    return this.followed.has(key(workflowId, channel));
  }

  /**
   * Starts following unless already followed. `pauseRef` adopts an existing pause message (the one someone
   * just clicked) so it is updated in place instead of a second one being posted.
   */
  follow(workflowId: string, channel: string, adopt: { pauseRef?: MessageRef; pauseKey?: string } = {}): FollowResult {
    const k = key(workflowId, channel);
    const existing = this.followed.get(k);
    if (existing) {
      existing.wake?.();
      return 'already-following';
    }
    if (this.stopping || this.followed.size >= this.maxFollowers) return 'too-many';
    const f: Followed = { workflowId, channel, outcomePosted: false, done: Promise.resolve() };
    if (adopt.pauseRef && adopt.pauseKey) {
      const [cluster, step, since] = JSON.parse(adopt.pauseKey) as [string | null, string, string];
      f.pause = { key: adopt.pauseKey, cluster: cluster ?? undefined, step, since, ref: adopt.pauseRef };
    }
    this.followed.set(k, f);
    f.done = this.loop(f).finally(() => this.followed.delete(k));
    return 'following';
  }

  /** Polls now (after a click or a command), instead of at the next tick. */
  poke(workflowId: string): void {
    for (const f of this.followed.values()) if (f.workflowId === workflowId) f.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.followed.values()];
    for (const f of all) f.wake?.();
    await Promise.all(all.map((f) => f.done));
  }

  private async loop(f: Followed): Promise<void> {
    const deadline = Date.now() + this.maxFollowMs;
    let failures = 0;
    while (!this.stopping && Date.now() < deadline) {
      try {
        const view = await getRolloutView(this.opts.client, f.workflowId);
        await this.render(f, view);
        failures = 0;
        if (isTerminal(view.state) && f.outcomePosted) return;
      } catch (err) {
        if (err instanceof RolloutNotFound) {
          this.opts.log(`chat: stopped following ${f.workflowId}: ${err.message}`);
          return;
        }
        failures += 1;
        // Temporal or Slack unreachable: keep the follower, back off, say so once in a while.
        if (failures === 1 || failures % 20 === 0) {
          this.opts.log(`chat: following ${f.workflowId} (attempt ${failures}): ${(err as Error).message}${isNotifyError(err) && err.hint ? ` (hint: ${err.hint})` : ''}`);
        }
      }
      const wait = failures ? Math.min(this.intervalMs * 2 ** Math.min(failures, 5), 60_000) : this.intervalMs;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        f.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      f.wake = undefined;
    }
  }

  private async render(f: Followed, view: RolloutView): Promise<void> {
    const ui = this.opts.uiLink(f.workflowId);
    f.statusRef = await this.draw(f.channel, f.statusRef, f.statusDrawn, statusMessage(view, ui), (d) => (f.statusDrawn = d));

    const b = view.blocked;
    const pauseKey = b ? JSON.stringify([b.cluster ?? null, b.step, b.since]) : undefined;
    if (f.pause && f.pause.key !== pauseKey) {
      // The pause we drew is over: keep its message, but say who cleared it and drop the buttons.
      const last = actionsOnPause(view, { c: f.pause.cluster, s: f.pause.step, t: f.pause.since }).at(-1);
      const cleared = pauseClearedMessage(view, f.pause, last, ui);
      if (f.pause.ref) await this.opts.notifier.update(f.pause.ref, { ...cleared, channel: f.channel });
      f.pause = undefined;
    }
    if (b && pauseKey) {
      const msg = pauseMessage(view, ui);
      f.pause ??= { key: pauseKey, cluster: b.cluster, step: b.step, since: b.since };
      const p = f.pause;
      if (msg) p.ref = await this.draw(f.channel, p.ref, p.drawn, msg, (d) => (p.drawn = d));
    }

    if (isTerminal(view.state) && !f.outcomePosted) {
      const ref = await this.opts.notifier.post({ ...outcomeMessage(view, ui), channel: f.channel });
      f.outcomePosted = true;
      await this.attachTimeline(ref, view.workflowId);
    }
  }

  /** The rollout's timeline under its outcome message; a failure to draw or upload it is logged, never retried. */
  private async attachTimeline(ref: MessageRef, workflowId: string): Promise<void> {
    if (!this.opts.notifier.attach) return;
    try {
      const { model, files } = rolloutReport(await fetchRolloutFacts(this.opts.client, workflowId));
      await this.opts.notifier.attach(ref, {
        filename: `timeline-${workflowId}.svg`,
        title: `Timeline of ${workflowId}`,
        content: files['timeline.svg'],
        comment: `${model.state} in ${duration(model.durationMs)}, ${model.pauses.length} pause(s), ${model.actions.length} operator action(s); critical path ${duration(model.critical.durationMs)}. Full report: meshpilot report ${workflowId} --out DIR`,
      });
    } catch (err) {
      this.opts.log(`chat: could not attach the timeline of ${workflowId}: ${(err as Error).message}`);
    }
  }

  /** Posts the first time, then updates in place, and only when the content changed. */
  private async draw(channel: string, ref: MessageRef | undefined, drawn: string | undefined, msg: RolloutMessage, remember: (d: string) => void): Promise<MessageRef> {
    const body = { ...msg, channel };
    const fingerprint = JSON.stringify(body);
    if (ref && drawn === fingerprint) return ref;
    const out = ref ? (await this.opts.notifier.update(ref, body), ref) : await this.opts.notifier.post(body);
    remember(fingerprint);
    return out;
  }
}

function key(workflowId: string, channel: string): string {
  return `${channel}\u0000${workflowId}`;
}

/** The key `follow(..., { pauseKey })` expects for the pause a token was drawn for. */
export function pauseKeyOf(p: { c?: string; s: string; t: string }): string {
  return JSON.stringify([p.c ?? null, p.s, p.t]);
}
