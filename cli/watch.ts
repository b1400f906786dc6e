import type { Client } from '@temporalio/client';
import { createLogUpdate } from 'log-update';
import { getRolloutView } from '../client/rollouts.ts';
import { isTerminal, type RolloutView } from '../contracts/status.ts';
import type { CliIO } from './io.ts';
import { renderRolloutView } from './render/rollout-view.ts';

/** Polls the rollout view and redraws it in place (TTY) or prints each change (pipes), until it ends. */
export async function watchRollout(
  io: CliIO,
  client: Client,
  id: string,
  opts: { untilPaused: boolean; uiUrl?: string; intervalMs?: number },
): Promise<RolloutView> {
  let last = '';
  const draw = io.isTTY ? createLogUpdate(process.stdout) : undefined;
  for (;;) {
    const view = await getRolloutView(client, id);
    const text = renderRolloutView(io, view, opts.uiUrl);
    if (text !== last) {
      if (draw) draw(text.trimEnd());
      else io.out(`${text}\n`);
      last = text;
    }
    if (isTerminal(view.state) || (opts.untilPaused && view.state === 'paused')) {
      draw?.done();
      return view;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}
