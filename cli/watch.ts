import type { Client } from '@temporalio/client';
import { createLogUpdate } from 'log-update';
import { getRolloutView } from '../client/rollouts.ts';
import { isTerminal, type RolloutView } from '../contracts/status.ts';
import type { CliIO } from './io.ts';
import { clusterColumn, progressEvents, renderProgressEvent, watchEventSchema } from './render/progress.ts';
import { renderRolloutView } from './render/rollout-view.ts';

export interface WatchOptions {
  untilPaused: boolean;
  uiUrl?: string;
  intervalMs?: number;
  /** one JSON object per change (render/progress.ts' watchEventSchema), whatever the output is */
  json?: boolean;
  /** the view a previous watch ended with: only what changed since is printed (the demo watches in rounds) */
  after?: RolloutView;
}

/**
 * Polls the rollout view until it ends (or pauses, with untilPaused). On a terminal the view is redrawn in place;
 * into a pipe each change is one line (cluster, step, state), or one JSON object with `json`.
 */
export async function watchRollout(io: CliIO, client: Client, id: string, opts: WatchOptions): Promise<RolloutView> {
  const frames = io.isTTY && !opts.json;
  const draw = frames ? createLogUpdate(process.stdout) : undefined;
  let lastFrame = '';
  let prev = opts.after;
  for (;;) {
    const view = await getRolloutView(client, id);
    if (draw) {
      const text = renderRolloutView(io, view, opts.uiUrl);
      if (text !== lastFrame) draw(text.trimEnd());
      lastFrame = text;
    } else {
      for (const e of progressEvents(prev, view)) {
        io.out(opts.json ? `${JSON.stringify(watchEventSchema.parse(e))}\n` : renderProgressEvent(io, e, view, clusterColumn(view)));
      }
    }
    prev = view;
    if (isTerminal(view.state) || (opts.untilPaused && view.state === 'paused')) {
      draw?.done();
      if (!frames && !opts.json && opts.uiUrl) io.out(`UI: ${opts.uiUrl}\n`);
      return view;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}
