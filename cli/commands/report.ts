// `meshpilot report ID --out DIR`: the rollout's timeline (timeline.svg), a self-contained report.html with the
// audit, the pauses and the activity calls per step, and timeline.json, all built from the workflow histories.
import type { Command } from 'commander';
import { EncryptedHistory, fetchRolloutFacts } from '../../client/rollout-history.ts';
import { RolloutNotFound } from '../../client/rollouts.ts';
import { rolloutReport } from '../../pictures/timeline/report.ts';
import { duration } from '../../pictures/timeline/svg.ts';
import { cliContext } from '../context.ts';
import { CliError, colors, printJson, type CliIO } from '../io.ts';
import { outDir, writeOut } from '../out-dir.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('report')
    .description('write the timeline of a rollout (timeline.svg) and report.html (audit, pauses, calls per step) from its workflow histories')
    .argument('<id>', 'rollout workflow id (rollout-<mesh>-<revision>, as `meshpilot list` shows)')
    .requiredOption('--out <dir>', 'directory for report.html, timeline.svg and timeline.json')
    .option('--json', 'print the timeline model as JSON')
    .action(async (id: string, opts: { out: string; json?: boolean }) => {
      await outDir(opts.out); // a bad --out fails before anything is read
      const ctx = await cliContext(io);
      try {
        const facts = await fetchRolloutFacts(ctx.client, id).catch((err: unknown) => {
          if (err instanceof RolloutNotFound) throw new CliError(err.message, 1, 'meshpilot list shows the rollouts');
          if (err instanceof EncryptedHistory) throw new CliError(err.message, 1, 'docs/deployment.md: payload encryption');
          throw err;
        });
        const report = rolloutReport(facts);
        const written = await writeOut(opts.out, report.files);
        const m = report.model;
        if (opts.json) {
          printJson(io, m);
          io.err(`wrote ${written.join(', ')} under ${opts.out}\n`);
          return;
        }
        const c = colors(io);
        io.out(
          [
            `${c.bold(`rollout ${m.mesh}`)}  ${m.state}${m.open ? ' (still running)' : ''}  ${duration(m.durationMs)}  critical path ${duration(m.critical.durationMs)}`,
            `  ${m.lanes.length - 1} cluster(s), ${m.pauses.length} pause(s), ${m.actions.length} operator action(s)`,
            `wrote ${written.join(', ')} under ${opts.out}`,
            '',
          ].join('\n'),
        );
      } finally {
        await ctx.close();
      }
    });
}
