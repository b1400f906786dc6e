import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Process-wide Temporal runtime: structured JSON logs on stderr, and the SDK's metrics for Prometheus when a
 * port is given. Must run before the first NativeConnection; later calls are no-ops.
 */
export function installRuntime(opts: { logLevel: 'debug' | 'info' | 'warn' | 'error'; metricsPort?: number; write?: (line: string) => void }): void {
  if (installed) return;
  installed = true;
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const level = opts.logLevel.toUpperCase() as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      write(
        JSON.stringify({
          time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
          level: entry.level.toLowerCase(),
          msg: entry.message,
          ...entry.meta,
        }),
      );
    }),
    // meshpilot's own signal handling stops the worker first and then what it depends on (dev server, codec)
    shutdownSignals: [],
    telemetryOptions: opts.metricsPort
      ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${opts.metricsPort}` } } }
      : undefined,
  });
}
