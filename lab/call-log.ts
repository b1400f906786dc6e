import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** One line per simulated tool call, so tests can assert what ran and how often. */
export const callRecordSchema = z.object({
  tool: z.string(),
  argv: z.array(z.string()),
  startedAt: z.number(),
  durationMs: z.number(),
  exitCode: z.number(),
  pid: z.number(),
});
export type CallRecord = z.infer<typeof callRecordSchema>;

const logFile = (dir: string) => path.join(dir, 'calls.jsonl');

export function appendCall(dir: string, rec: CallRecord): void {
  // O_APPEND writes of one short line are atomic enough between processes on Linux.
  appendFileSync(logFile(dir), `${JSON.stringify(rec)}\n`);
}

export function readCalls(dir: string): CallRecord[] {
  if (!existsSync(logFile(dir))) return [];
  return readFileSync(logFile(dir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => callRecordSchema.parse(JSON.parse(l)));
}

/** Calls whose argv contains every given token in order-insensitive fashion, e.g. callsMatching(c, 'talosctl', ['bootstrap']). */
export function callsMatching(calls: CallRecord[], tool: string, tokens: string[]): CallRecord[] {
  return calls.filter((c) => c.tool === tool && tokens.every((t) => c.argv.includes(t)));
}
