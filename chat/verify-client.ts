// The real VerifyPort, over client/verify.ts when this build has it. Loaded by a computed specifier so chat
// builds and type-checks without that module; its shape is checked here at run time instead.
import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { planFromFile } from '../cli/blueprint-input.ts';
import { unavailableVerify, type VerifyPort } from './verify-port.ts';

interface VerifyClientModule {
  startVerify(client: Client, plan: RolloutPlan, by: { by: string; via?: string }, opts?: { source?: string; taskQueue?: string }): Promise<{ workflowId: string }>;
  upsertVerifySchedule(
    client: Client,
    opts: { plan: RolloutPlan; cadence: { every: string }; by: { by: string; via?: string }; source?: string; taskQueue?: string },
  ): Promise<{ scheduleId: string; created: boolean; cadence: string }>;
  deleteVerifySchedule(client: Client, mesh: string): Promise<void>;
}

const VERIFY_CLIENT = '../client/verify.ts';

function isVerifyClient(m: unknown): m is VerifyClientModule {
  const x = m as Partial<Record<keyof VerifyClientModule, unknown>> | undefined;
  return typeof x?.startVerify === 'function' && typeof x.upsertVerifySchedule === 'function' && typeof x.deleteVerifySchedule === 'function';
}

export async function loadVerifyPort(client: Client, opts: { taskQueue: string; uiLink?: (id: string) => string | undefined }): Promise<VerifyPort> {
  const mod: unknown = await import(VERIFY_CLIENT).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  });
  if (!isVerifyClient(mod)) return unavailableVerify;
  return {
    available: true,
    async verifyNow(_name, file, by) {
      const plan = await planFromFile(file);
      const { workflowId } = await mod.startVerify(client, plan, by, { source: file, taskQueue: opts.taskQueue });
      const ui = opts.uiLink?.(workflowId);
      return { workflowId, message: `Verify of ${plan.mesh} started${ui ? ` (${ui})` : ''}; its report goes to the mesh's configured notifications` };
    },
    async schedule(_name, file, every, by) {
      const plan = await planFromFile(file);
      if (every === 'off') {
        await mod.deleteVerifySchedule(client, plan.mesh);
        return { message: `Verify schedule for ${plan.mesh} removed.` };
      }
      const r = await mod.upsertVerifySchedule(client, { plan, cadence: { every }, by, source: file, taskQueue: opts.taskQueue });
      return { message: `Verify schedule for ${plan.mesh} ${r.created ? 'created' : 'updated'}: ${r.cadence}.` };
    },
  };
}
