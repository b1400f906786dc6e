// Between runs a mesh's verify remembers two verdict sets: the last run's and the last announced one. A Schedule
// passes nothing from run to run, so the worker keeps them in one small file per mesh in its work dir.
// Chosen over a visibility query because the previous run's close can lag in visibility, which would make
// back-to-back runs compare with the wrong baseline; losing the file costs at most one repeated notification.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import type { VerifyLedger } from './drift.ts';

const status = z.enum(['ok', 'warn', 'fail']);
const ledgerSchema = z.object({
  mesh: z.string(),
  lastRunAt: z.string(),
  lastSet: z.record(z.string(), status),
  announcedSet: z.record(z.string(), status).optional(),
  announcedAt: z.string().optional(),
});

const MESH = /^[a-z0-9][a-z0-9-]*$/;
const fileFor = (deps: ActivityDeps, mesh: string) => {
  if (!MESH.test(mesh)) throw new Error(`mesh: ${JSON.stringify(mesh)} is not a lower-case name`);
  return path.join(deps.workDir, 'verify', `${mesh}.json`);
};

export async function readLedger(deps: ActivityDeps, mesh: string): Promise<VerifyLedger | undefined> {
  let text: string;
  try {
    text = await readFile(fileFor(deps, mesh), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = ledgerSchema.safeParse(JSON.parse(text));
  // A damaged ledger is treated as none: the next run re-announces what is wrong, which is the safe side.
  return parsed.success ? parsed.data : undefined;
}

export async function writeLedger(deps: ActivityDeps, ledger: VerifyLedger): Promise<void> {
  const file = fileFor(deps, ledger.mesh);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(ledgerSchema.parse(ledger), null, 2));
  await rename(tmp, file);
}
