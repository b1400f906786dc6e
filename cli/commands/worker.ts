import type { Command } from 'commander';
import { loadEnv } from '../../config/env.ts';
import { labDirFor } from '../context.ts';
import { CliError, type CliIO } from '../io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('worker')
    .description('run a worker: the rollout workflows and the tool activities (talosctl, helm, cilium, kubectl, BMCs); logs are JSON lines on stderr')
    .option('--site <site>', "poll this site's task queue, so tool and BMC calls run inside that site's network")
    .option('--lab', "use the lab's simulated tools (meshpilot rollout --lab)")
    .action(async (opts: { site?: string; lab?: boolean }) => {
      const env = loadEnv(io.env);
      if (opts.site !== undefined && !/^[a-z0-9-]{1,63}$/.test(opts.site)) throw new CliError('--site: expected a lower-case site name like usa', 2);
      const { runWorker, untilSignal } = await import('../../workers/run.ts');
      const { jsonLines } = await import('../../workers/log.ts');
      const { runtimeLog } = await import('../../workers/runtime.ts');
      const worker = await runWorker({
        env,
        rawEnv: io.env,
        site: opts.site,
        labDir: opts.lab ? labDirFor(env) : undefined,
        logSink: jsonLines(io.err),
      });
      const sig = await Promise.race([untilSignal(), worker.done.then(() => undefined)]);
      if (sig) runtimeLog('info', `${sig}: shutting down the worker (running activities are cancelled, their tools terminated)`, { signal: sig });
      await worker.stop();
      runtimeLog('info', 'worker stopped');
    });
}
