import path from 'node:path';
import { parentDeathPrefix } from '../activities/exec/parent-death.ts';
import { closeProcessLedger, openProcessLedger, sweepLedgers, type RunningAttempt } from '../activities/exec/process-ledger.ts';
import { closeSecretScratch, defaultIdentity, identityDirName, scratchBase, secretScratchRoot, sweepSecretScratch } from '../activities/exec/secret-scratch.ts';

/** What a worker found and set up at start, for its start-up log. */
export interface HygieneReport {
  identity: string;
  /** process groups a previous worker of this identity left running, now killed */
  killedGroups: number[];
  /** activity attempts that worker was running when it died (crash-recovery.ts ends them) */
  lostAttempts: RunningAttempt[];
  /** secret scratch directories a previous worker left in RAM, now removed */
  removedScratch: string[];
  scratchDir: string;
  /** set when something that protects us is missing on this host (no setpriv, no tmpfs) */
  warnings: string[];
}

export { defaultIdentity };

let holders = 0;

/**
 * Before a worker polls: kill the tool processes and remove the secret scratch that earlier workers of the same
 * identity on this host left behind (they were SIGKILLed, OOM-killed, or lost power), then open this process's
 * process ledger and scratch. Several workers in one process (tests) share them; the last release closes them.
 */
export function acquireWorkerHygiene(opts: { dataDir: string; identity?: string; env?: NodeJS.ProcessEnv }): { report: HygieneReport; release: () => void } {
  const identity = opts.identity ?? defaultIdentity();
  const runDir = path.join(opts.dataDir, 'run', identityDirName(identity));
  const swept = sweepLedgers(runDir);
  const scratch = sweepSecretScratch({ identity, env: opts.env });
  openProcessLedger(runDir);
  const root = secretScratchRoot({ identity, env: opts.env });
  holders += 1;
  const warnings: string[] = [];
  const pdeath = parentDeathPrefix();
  if (pdeath.why) warnings.push(`tool processes will not die with this worker if it is killed (${pdeath.why}); the next worker's start-up sweep kills them`);
  const base = scratchBase(opts.env);
  if (base.warning) warnings.push(base.warning);
  let released = false;
  return {
    report: { identity, killedGroups: swept.killed, lostAttempts: swept.attempts, removedScratch: scratch.removed, scratchDir: root.dir, warnings },
    release() {
      if (released) return;
      released = true;
      holders -= 1;
      if (holders === 0) {
        closeProcessLedger();
        closeSecretScratch();
      }
    },
  };
}
