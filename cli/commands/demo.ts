import type { Command } from 'commander';
import { colors, CliError, type CliIO } from '../io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description("the seed's USA/Europe mesh on the lab: hit the LoadBalancer <pending> trap, pause, fix, resume, complete")
    .option('--scenario <name>', 'lab scenario', 'lb-pending')
    .option('--keep', 'keep the dev server and UI running after the rollout finishes (Ctrl-C to stop)')
    .option('--tool-latency <ms>', 'every simulated tool call takes this long', '0')
    .action(async (opts: { scenario: string; keep?: boolean; toolLatency: string }) => {
      const { isScenarioName } = await import('../../lab/scenarios.ts');
      if (!isScenarioName(opts.scenario)) throw new CliError(`--scenario: unknown scenario ${opts.scenario} (meshpilot lab scenarios)`, 2);
      const { runDemo } = await import('../demo.ts');
      const result = await runDemo(io, { scenario: opts.scenario, keep: Boolean(opts.keep), toolLatencyMs: Number(opts.toolLatency) || 0 });
      if (result !== 'completed') io.exitCode = 1;
      io.out(`${colors(io).bold('demo finished')}: rollout ${result}\n`);
    });
}
