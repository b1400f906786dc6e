import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** The meshpilot CLI in-process (cli/main.ts) with its own environment, stdout and stderr captured. */
export async function runCli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env };
  const code = await main(argv, io);
  return { code, out, err };
}
