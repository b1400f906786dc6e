// What every run built on a StepRunner shares besides the runner itself: the message contracts it answers (so
// status, resume, skip, override and abort work on a backup, a drill, a detach or a rotation as on a rollout),
// and how its steps ended. Registering handlers issues no command: moving them here changes no history.
import { setHandler } from '@temporalio/workflow';
import { abortUpdate, amendUpdate, meshStatusQuery, overrideUpdate, resumeUpdate, skipUpdate } from '../contracts/messages.ts';
import type { MeshRolloutStatus, RunState, StepStatus } from '../contracts/status.ts';
import { RolloutAborted, type StepRunner } from './step-runner.ts';

/** Status query and the operator updates, each validated by the runner; `validateAmend` throws to refuse an amend. */
export function answerStepMessages<N extends StepStatus['name']>(runner: StepRunner<N>, status: () => MeshRolloutStatus, validateAmend: () => void): void {
  setHandler(meshStatusQuery, status);
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), { validator: (i) => runner.validateOverride(i) });
  setHandler(abortUpdate, (i) => ({ accepted: true, message: runner.abort(i) }), { validator: (i) => runner.validateAbort(i) });
  setHandler(amendUpdate, (_i) => ({ accepted: true, message: '' }), { validator: (_i) => validateAmend() });
}

/** A run whose steps threw: aborted by an operator, or failed with the failed step's note (else the error). */
export function endedBy<N extends StepStatus['name']>(runner: StepRunner<N>, err: unknown): { state: Extract<RunState, 'aborted' | 'failed'>; error?: string } {
  if (err instanceof RolloutAborted) return { state: 'aborted' };
  return { state: 'failed', error: runner.state.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message };
}
