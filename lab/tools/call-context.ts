import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';

/**
 * The working directory of the tool call being simulated. In a tool process it is the process's own; in the lab
 * tool server many calls run at once in one process, each with its caller's directory, so relative paths on a
 * command line must resolve through here, never through process.cwd().
 */
const callCwd = new AsyncLocalStorage<string>();

export function inCallCwd<T>(cwd: string, fn: () => T): T {
  return callCwd.run(cwd, fn);
}

export function toolCwd(): string {
  return callCwd.getStore() ?? process.cwd();
}

/** A path from the command line or environment, as the real tool would open it. */
export function toolPath(p: string): string {
  return path.resolve(toolCwd(), p);
}
