/**
 * The worker's log: one JSON object per line on stderr, no colours — meshpilot's own lines, the SDK's and the
 * Core SDK's (forwarded from Rust, see runtime.ts) alike, so a log shipper parses every line.
 *
 * Every line goes through one LogSink. `meshpilot worker` uses jsonLines(); a human-facing surface (dev, demo)
 * may pass its own sink to render or classify entries (e.g. an expected pause as a readable line).
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  msg: string;
  [key: string]: unknown;
}

export type LogSink = (entry: LogEntry) => void;

export function logEntry(level: LogLevel, msg: string, meta: Record<string, unknown> = {}): LogEntry {
  return { time: new Date().toISOString(), level, msg, ...meta };
}

/** Safe for anything a logger is handed: bigints, errors, cycles; never throws. */
export function jsonLine(entry: LogEntry): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(entry, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) return { name: v.name, message: v.message, ...(v.stack ? { stack: v.stack } : {}) };
      if (v && typeof v === 'object') {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    });
  } catch {
    return JSON.stringify({ time: entry.time, level: entry.level, msg: String(entry.msg) });
  }
}

export function jsonLines(write: (text: string) => void = (t) => process.stderr.write(t)): LogSink {
  return (entry) => write(`${jsonLine(entry)}\n`);
}
