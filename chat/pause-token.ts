// What a Resume/Abort button carries: which pause it was rendered for, and how many operator actions that
// pause had then. A click on a pause that has had an action since is a double click (or a stale message):
// we answer "already resumed by …" instead of sending a second update.
import { z } from 'zod';
import type { OperatorAction, RolloutView } from '../contracts/status.ts';

export const pauseTokenSchema = z.object({
  /** the rollout's workflow id */
  w: z.string().min(1).max(300),
  /** cluster of the paused step; absent for a mesh step */
  c: z.string().max(63).optional(),
  s: z.string().min(1).max(63),
  /** when the step first blocked: identifies this pause across re-checks */
  t: z.string().max(40),
  /** operator actions on this pause when the buttons were drawn */
  n: z.number().int().min(0),
});
export type PauseToken = z.infer<typeof pauseTokenSchema>;

export function encodePauseToken(t: PauseToken): string {
  return JSON.stringify(t);
}

export function decodePauseToken(value: string | undefined): PauseToken | undefined {
  if (!value) return undefined;
  try {
    const parsed = pauseTokenSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Actions taken on one pause (same cluster and step, since it began), oldest first. */
export function actionsOnPause(view: RolloutView, pause: { c?: string; s: string; t: string }): OperatorAction[] {
  return view.actions.filter((a) => (a.cluster ?? undefined) === (pause.c ?? undefined) && a.step === pause.s && a.at >= pause.t);
}

export function tokenForView(view: RolloutView): PauseToken | undefined {
  const b = view.blocked;
  if (!b) return undefined;
  const pause = { c: b.cluster, s: b.step, t: b.since };
  return { w: view.workflowId, ...pause, n: actionsOnPause(view, pause).length };
}

export type ClickVerdict =
  | { act: true }
  | { act: false; message: string; lastAction?: OperatorAction };

export const PAST: Record<OperatorAction['action'], string> = { resume: 'resumed', skip: 'skipped', override: 'overridden', abort: 'aborted', amend: 'amended', waiver: 'waived' };

/**
 * Decides whether a click still means something, from the rollout as it is now. A button acts only on the pause
 * it was drawn for: the same cluster, step and `since` as the pause the server reports now. Anything else (a
 * stale message, a made-up value) changes nothing, so the audit only ever records a pause that really exists.
 */
export function judgeClick(view: RolloutView, token: PauseToken, kind: 'resume' | 'abort'): ClickVerdict {
  if (view.state === 'aborted') {
    const a = [...view.actions].reverse().find((x) => x.action === 'abort');
    return { act: false, message: `already aborted${a ? ` by ${a.by}` : ''}`, lastAction: a };
  }
  if (view.state === 'completed' || view.state === 'failed') return { act: false, message: `the rollout already ${view.state}` };
  const b = view.blocked;
  const samePause = b && b.step === token.s && (b.cluster ?? undefined) === (token.c ?? undefined) && b.since === token.t;
  const where = `${token.c ? `${token.c}/` : ''}${token.s}`;
  if (kind === 'abort') {
    return samePause ? { act: true } : { act: false, message: `this button belongs to a pause at ${where} that is not the rollout's pause now; to stop the rollout use \`/mesh abort ${view.workflowId} <reason>\`` };
  }
  const since = actionsOnPause(view, token).slice(token.n);
  const last = since[since.length - 1];
  if (last) return { act: false, message: `already ${PAST[last.action]} by ${last.by}`, lastAction: last };
  if (!samePause) return { act: false, message: `${where} is no longer paused (its re-check passed)` };
  return { act: true };
}
