// `/mesh verify` and `/mesh schedule` go through this port (tests may pass their own); the real one runs the
// verify client (client/verify.ts) with the blueprint the command names.
import type { Client } from '@temporalio/client';
import { planFromFile } from '../blueprint/plan-file.ts';
import { deleteVerifySchedule, startVerify, upsertVerifySchedule } from '../client/verify.ts';

export interface VerifyStarted {
  workflowId: string;
  message: string;
}

export interface VerifyPort {
  /** checks the running mesh against blueprint `name` now */
  verifyNow(name: string, blueprintFile: string, by: { by: string; via: string }): Promise<VerifyStarted>;
  /** `every` is an interval such as `6h`, or `off` to remove the schedule */
  schedule(name: string, blueprintFile: string, every: string, by: { by: string; via: string }): Promise<{ message: string }>;
}

export function verifyPort(client: Client, opts: { taskQueue: string; uiLink?: (id: string) => string | undefined }): VerifyPort {
  return {
    async verifyNow(_name, file, by) {
      const plan = await planFromFile(file);
      const { workflowId } = await startVerify(client, plan, by, { source: file, taskQueue: opts.taskQueue });
      const ui = opts.uiLink?.(workflowId);
      return { workflowId, message: `Verify of ${plan.mesh} started${ui ? ` (${ui})` : ''}; its report goes to the mesh's configured notifications` };
    },
    async schedule(_name, file, every, by) {
      const plan = await planFromFile(file);
      if (every === 'off') {
        await deleteVerifySchedule(client, plan.mesh);
        return { message: `Verify schedule for ${plan.mesh} removed.` };
      }
      const r = await upsertVerifySchedule(client, { plan, cadence: { every }, by, source: file, taskQueue: opts.taskQueue });
      return { message: `Verify schedule for ${plan.mesh} ${r.created ? 'created' : 'updated'}: ${r.cadence}.` };
    },
  };
}
