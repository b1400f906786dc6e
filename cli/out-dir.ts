import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './io.ts';

/** `--out DIR` of plan, verify and report: a path that exists must be a directory; one that does not is created. */
export async function outDir(dir: string): Promise<string> {
  const root = path.resolve(dir);
  const existing = await stat(root).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new CliError(`--out ${dir} exists and is not a directory`, 2);
  await mkdir(root, { recursive: true });
  return root;
}

/** Writes files under `--out DIR` and returns their names, for the "wrote …" line. */
export async function writeOut(dir: string, files: Record<string, string>): Promise<string[]> {
  const root = await outDir(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(root, name), content);
  return Object.keys(files);
}
