import { DefaultLogger, Runtime, type LogLevel as SdkLogLevel } from '@temporalio/worker';
import { classified } from './log-classify.ts';
import { jsonLines, type LogLevel, type LogSink } from './log.ts';

let installed: LogSink | undefined;

/**
 * Process-wide Temporal runtime: every log line — the SDK's, and the Core SDK's forwarded from Rust instead of
 * printed with ANSI colours — is classified by meshpilot's failure types (log-classify.ts) and goes to one sink (JSON lines on stderr by default), and the SDK's metrics go to
 * Prometheus when a port is given. Must run before the first NativeConnection; later calls are no-ops.
 */
export function installRuntime(opts: { logLevel: 'debug' | 'info' | 'warn' | 'error'; metricsPort?: number; sink?: LogSink }): void {
  if (installed) return;
  // classified by meshpilot's failure types first (a blocked attempt is an info line), then filtered by level
  const sink = classified(opts.sink ?? jsonLines(), opts.logLevel);
  installed = sink;
  const level = opts.logLevel.toUpperCase() as SdkLogLevel;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      sink({
        time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
        level: entry.level.toLowerCase() as LogLevel,
        msg: entry.message,
        ...entry.meta,
      });
    }),
    // meshpilot's own signal handling stops the worker first and then what it depends on (dev server, codec)
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: level, other: level === 'DEBUG' ? 'INFO' : level }, forward: {} },
      ...(opts.metricsPort ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${opts.metricsPort}` } } } : {}),
    },
  });
}

/**
 * meshpilot's own lines, to the sink the runtime writes to (or JSON on stderr before it is installed). Never
 * through Runtime.instance(): after the last worker and connection close the runtime shuts down, and instance()
 * would start a new one that keeps the process from exiting.
 */
export function runtimeLog(level: Exclude<LogLevel, 'trace'>, msg: string, meta: Record<string, unknown> = {}): void {
  (installed ?? jsonLines())({ time: new Date().toISOString(), level, msg, ...meta });
}
