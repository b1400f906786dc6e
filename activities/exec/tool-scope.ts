import { AsyncLocalStorage } from 'node:async_hooks';

/** What a scope needs from a running tool: a way to end it that resolves once its process group is gone. */
export interface ScopedTool {
  terminate(): Promise<void>;
}

/**
 * One activity attempt's tool processes. No tool outlives the activity that started it: when the activity
 * settles — returns, throws, or is cancelled — the tools still running (siblings of a failed parallel check, a
 * call whose promise nobody awaits any more) are terminated, and the scope refuses new calls, so code that
 * goes on after its activity ended starts nothing.
 */
export class ToolScope {
  private readonly running = new Set<ScopedTool>();
  private endedBecause: string | undefined;

  /** Why the scope ended (the activity returned or failed); undefined while it is open. */
  get ended(): string | undefined {
    return this.endedBecause;
  }

  add(tool: ScopedTool): void {
    this.running.add(tool);
  }

  delete(tool: ScopedTool): void {
    this.running.delete(tool);
  }

  /** Ends the scope: terminates every tool still running and waits until their process groups are gone. */
  async end(why: string): Promise<void> {
    this.endedBecause ??= why;
    const left = [...this.running];
    this.running.clear();
    await Promise.all(left.map((t) => t.terminate()));
  }
}

const scopes = new AsyncLocalStorage<ToolScope>();

/** Runs fn (an activity attempt) in a fresh tool scope and ends the scope when fn settles. */
export async function withToolScope<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new ToolScope();
  let why = 'the activity failed';
  try {
    const result = await scopes.run(scope, fn);
    why = 'the activity returned';
    return result;
  } finally {
    await scope.end(why);
  }
}

export function currentToolScope(): ToolScope | undefined {
  return scopes.getStore();
}
