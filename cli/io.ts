import pc from 'picocolors';

/** Injected streams: command logic is tested without a terminal. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  color: boolean;
  env: NodeJS.ProcessEnv;
  /** A command that finishes without throwing but must exit non-zero (e.g. `validate` on an invalid file) sets this. */
  exitCode?: number;
}

export function processIO(): CliIO {
  const isTTY = Boolean(process.stdout.isTTY);
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY,
    color: isTTY && !process.env.NO_COLOR,
    env: process.env,
  };
}

export function colors(io: CliIO) {
  return pc.createColors(io.color);
}

/** A failure the CLI reports as one line (and a hint) with a non-zero exit, never a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function printJson(io: CliIO, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
