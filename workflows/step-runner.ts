// The pause model, shared by the cluster and mesh workflows: run a step; on `blocked`, pause with the reason and
// re-check on a backoff until the step passes or an operator resumes, skips, overrides or aborts.
import { CancellationScope, condition, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { blockedDetailsOf, findApplicationFailure, FailureType, refused, type BlockedDetails } from '../contracts/failures.ts';
import type { ActorInput, ResumeInput, StepActionInput } from '../contracts/messages.ts';
import { blockedStep, currentStep, isPassed, stepLabel, type OperatorAction, type StepStatus } from '../contracts/status.ts';
import type { PauseLimits, StepDefinition } from '../contracts/steps.ts';

/** Thrown inside a step to stop the run because an operator aborted it. */
export class RolloutAborted extends Error {
  override name = 'RolloutAborted';
}

/** Thrown when history grew enough that the run should continue as new (state is carried over). */
export class ContinueAsNewNeeded extends Error {
  override name = 'ContinueAsNewNeeded';
}

/** Workflow versioning marker for keeping an operator action that arrived during a re-check (see waitForAction). */
export const ACTIONS_DURING_ATTEMPT_PATCH = 'step-runner-keeps-actions-during-attempts';

type PendingAction =
  | { kind: 'resume'; input: ResumeInput }
  | { kind: 'skip'; input: StepActionInput }
  | { kind: 'override'; input: StepActionInput }
  | { kind: 'recheck' };

/** Plain data: survives continue-as-new unchanged. */
export interface StepRunnerState {
  steps: StepStatus[];
  actions: OperatorAction[];
  abortedBy?: ActorInput & { reason: string };
}

export function initialSteps(defs: readonly StepDefinition<StepStatus['name']>[]): StepStatus[] {
  return defs.map((d) => ({ name: d.name, title: d.title, state: 'pending', attempts: 0 }));
}

/** Runs the steps of one table (contracts/steps.ts): `run` takes only that table's names. */
export class StepRunner<Name extends StepStatus['name']> {
  private pending: PendingAction | undefined;
  private running: CancellationScope | undefined;

  constructor(
    readonly state: StepRunnerState,
    private readonly defs: readonly StepDefinition<Name>[],
    private readonly limits: PauseLimits,
    private readonly onChange: () => void,
    private readonly cluster?: string,
  ) {}

  get aborted(): boolean {
    return this.state.abortedBy !== undefined;
  }

  /** A step; per-node and per-cluster steps (an upgrade) are told apart by their target. */
  step(name: Name, target?: string): StepStatus {
    const s = this.state.steps.find((x) => x.name === name && x.target === target);
    if (!s) throw new Error(`unknown step ${name}${target ? ` (${target})` : ''}`);
    return s;
  }

  blockedStep(): StepStatus | undefined {
    return blockedStep(this.state.steps);
  }

  currentStep(): StepStatus | undefined {
    return currentStep(this.state.steps) ?? this.state.steps[0];
  }

  private def(name: string): StepDefinition<Name> {
    const d = this.defs.find((x) => x.name === name);
    if (!d) throw new Error(`unknown step ${name}`);
    return d;
  }

  // ---- validators (synchronous, never mutate) -------------------------------------------------------------

  validateResume(input: ResumeInput): void {
    requireActor(input);
    if (this.aborted) throw refused('the rollout was aborted; nothing to resume');
    const b = this.blockedStep();
    if (!b) throw refused(`nothing is paused${this.cluster ? ` in ${this.cluster}` : ''}: resume only applies to a paused step`);
    if (input.step && input.step !== b.name) throw refused(`step ${input.step} is not paused (the paused step is ${b.name})`);
  }

  validateSkip(input: StepActionInput): void {
    requireActor(input);
    requireReason(input.reason, 'skip');
    const s = this.requireBlocked(input.step);
    if (!this.def(s.name).skippable) {
      throw refused(`step ${s.name} cannot be skipped: later steps depend on it (fix the cause and resume, or abort)`);
    }
  }

  validateOverride(input: StepActionInput): void {
    requireActor(input);
    requireReason(input.reason, 'override');
    const s = this.requireBlocked(input.step);
    if (!s.blocked?.overridable) {
      const gates = this.defs.filter((d) => d.gate).map((d) => d.name);
      throw refused(`step ${s.name} is not a gate that can be overridden (${gates.length ? `only gates are: ${gates.join(', ')}` : 'this phase has no gates'})`);
    }
  }

  validateAbort(input: ActorInput & { reason: string }): void {
    requireActor(input);
    requireReason(input.reason, 'abort');
    if (this.aborted) throw refused('the rollout is already aborted');
  }

  private requireBlocked(step: string): StepStatus {
    if (this.aborted) throw refused('the rollout was aborted');
    // a step with several instances (one per node) is named once: the paused instance is the one meant
    const s = this.state.steps.find((x) => x.name === step && x.state === 'blocked') ?? this.state.steps.find((x) => x.name === step);
    if (!s) throw refused(`unknown step ${JSON.stringify(step)}; steps: ${[...new Set(this.state.steps.map((x) => x.name))].join(', ')}`);
    if (s.state !== 'blocked') throw refused(`step ${step} is ${s.state}, not paused`);
    return s;
  }

  // ---- handlers (after their validator passed) -------------------------------------------------------------

  resume(input: ResumeInput): string {
    const b = this.blockedStep();
    this.record('resume', input, b && stepLabel(b));
    this.pending = { kind: 'resume', input };
    return `re-checking ${b?.name ?? 'the paused step'} now`;
  }

  skip(input: StepActionInput): string {
    this.record('skip', input, this.labelOf(input.step));
    this.pending = { kind: 'skip', input };
    return `skipping ${input.step}`;
  }

  override(input: StepActionInput): string {
    this.record('override', input, this.labelOf(input.step));
    this.pending = { kind: 'override', input };
    return `overriding the ${input.step} gate`;
  }

  /** The paused instance of a step named by an operator, as the audit shows it (`talos-upgrade usa-cp-2`). */
  private labelOf(step: string): string {
    const s = this.state.steps.find((x) => x.name === step && x.state === 'blocked');
    return s ? stepLabel(s) : step;
  }

  /** Amended inputs: re-check the blocked step at once with them. */
  recheckNow(): void {
    if (this.blockedStep()) this.pending = { kind: 'recheck' };
  }

  abort(input: ActorInput & { reason: string }): string {
    const current = this.currentStep();
    this.record('abort', input, current && stepLabel(current));
    this.state.abortedBy = input;
    this.running?.cancel();
    return 'aborting: running tool calls are being cancelled';
  }

  record(action: OperatorAction['action'], input: ActorInput, step?: string): void {
    this.state.actions.push({
      at: new Date().toISOString(),
      action,
      cluster: this.cluster,
      step,
      by: input.by,
      via: input.via ?? 'api',
      reason: input.reason,
    });
    this.onChange();
  }

  // ---- running ---------------------------------------------------------------------------------------------

  /** Marks a step `kept`: not run, because what it builds exists already and stays as it is (note says why). */
  keep(name: Name, note: string): void {
    const s = this.step(name);
    if (isPassed(s)) return;
    s.state = 'kept';
    s.note = note;
    s.endedAt = new Date().toISOString();
    this.onChange();
  }

  /** Runs a step to done, skipped or overridden; pauses while it is blocked. Done steps are not repeated. */
  async run(name: Name, body: () => Promise<void>, target?: string): Promise<void> {
    const s = this.step(name, target);
    if (isPassed(s)) return;
    const def = this.def(name);
    if (s.state !== 'blocked') {
      s.state = 'running';
      s.startedAt = new Date().toISOString();
      this.onChange();
    }
    for (;;) {
      if (this.aborted) throw this.markAborted(s);
      s.attempts += 1;
      try {
        const scope = new CancellationScope();
        this.running = scope;
        await scope.run(body);
        this.pending = undefined; // an action sent while the passing attempt ran has nothing left to act on
        s.state = 'done';
        s.blocked = undefined;
        s.endedAt = new Date().toISOString();
        this.onChange();
        return;
      } catch (err) {
        this.running = undefined;
        if (this.aborted || isCancellation(err)) throw this.markAborted(s);
        const details = classifyStepFailure(name, err);
        if (!details) {
          s.state = 'failed';
          s.endedAt = new Date().toISOString();
          s.note = findApplicationFailure(err)?.message ?? (err as Error).message;
          this.onChange();
          throw err;
        }
        const rechecks = s.blocked ? s.blocked.rechecks + 1 : 0;
        const delay = Math.min(this.limits.recheckBaseMs * 2 ** Math.min(rechecks, 12), this.limits.recheckMaxMs);
        s.state = 'blocked';
        s.blocked = {
          reason: details.reason,
          hint: details.hint,
          evidence: details.evidence,
          overridable: def.gate && details.overridable === true,
          skippable: def.skippable,
          since: s.blocked?.since ?? new Date().toISOString(),
          rechecks,
          nextCheckAt: new Date(Date.now() + delay).toISOString(),
        };
        this.onChange();
        const outcome = await this.waitForAction(delay);
        if (outcome === 'aborted') throw this.markAborted(s);
        if (outcome === 'skip' || outcome === 'override') {
          s.state = outcome === 'skip' ? 'skipped' : 'overridden';
          s.note = `${outcome === 'skip' ? 'skipped' : 'overridden'} by ${this.lastActor()}`;
          s.endedAt = new Date().toISOString();
          this.onChange();
          return;
        }
        if (workflowInfo().historyLength > this.limits.maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
          throw new ContinueAsNewNeeded(`history has ${workflowInfo().historyLength} events`);
        }
        // resume, amended inputs, or the timer: re-check
      } finally {
        this.running = undefined;
      }
    }
  }

  private lastActor(): string {
    const a = this.state.actions[this.state.actions.length - 1];
    return a ? `${a.by}${a.reason ? `: ${a.reason}` : ''}` : 'operator';
  }

  private async waitForAction(delayMs: number): Promise<'timer' | 'resume' | 'skip' | 'override' | 'aborted'> {
    // A resume, skip or amendment accepted while the re-check ran (the step stays paused during it) is acted on
    // now; runs started before this fix dropped it here and waited for the next automatic re-check.
    if (!patched(ACTIONS_DURING_ATTEMPT_PATCH)) this.pending = undefined;
    await condition(() => this.pending !== undefined || this.aborted, delayMs);
    if (this.aborted) return 'aborted';
    const p = this.takePending();
    if (!p) return 'timer';
    if (p.kind === 'skip' || p.kind === 'override') return p.kind;
    return 'resume';
  }

  private takePending(): PendingAction | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  private markAborted(s: StepStatus): RolloutAborted {
    if (s.state === 'running' || s.state === 'blocked') {
      s.state = 'aborted';
      s.endedAt = new Date().toISOString();
      s.note = `aborted by ${this.state.abortedBy?.by ?? 'operator'}: ${this.state.abortedBy?.reason ?? ''}`;
      this.onChange();
    }
    return new RolloutAborted(this.state.abortedBy?.reason ?? 'aborted');
  }
}

/**
 * `blocked` failures pause. So do failures whose retries ran out (a tool that keeps failing, a timeout): the
 * world may heal, and a person should look before the run gives up. Only `fatal` (non-retryable) fails the run.
 */
function classifyStepFailure(step: string, err: unknown): BlockedDetails | undefined {
  const blockedDetails = blockedDetailsOf(err);
  if (blockedDetails) return blockedDetails;
  const app = findApplicationFailure(err);
  if (app && (app.nonRetryable || app.type === FailureType.fatal)) return undefined;
  const message = app?.message ?? rootMessage(err);
  return {
    reason: `${step} kept failing after its retries: ${message}`,
    hint: 'meshpilot re-checks automatically; fix what the message names (connectivity, credentials, the tool) or resume to re-check now',
  };
}

function rootMessage(err: unknown): string {
  let cur = err as { message?: string; cause?: unknown } | undefined;
  let msg = cur?.message ?? String(err);
  for (let i = 0; i < 8 && cur?.cause; i++) {
    cur = cur.cause as typeof cur;
    if (cur?.message) msg = cur.message;
  }
  return msg;
}

/** The audit lives in workflow history: who and why are a line each, not a document. */
const MAX_ACTOR = 200;
const MAX_REASON = 1000;

/** Who acts and why, bounded: every update validator checks it (amend included). */
export function requireActor(input: ActorInput): void {
  if (!input || typeof input.by !== 'string' || input.by.trim() === '') {
    throw refused('by: say who is acting (user name or chat user id)');
  }
  if (input.by.length > MAX_ACTOR) throw refused(`by: at most ${MAX_ACTOR} characters`);
  if (input.reason !== undefined && (typeof input.reason !== 'string' || input.reason.length > MAX_REASON)) {
    throw refused(`reason: at most ${MAX_REASON} characters (it is kept in the rollout's audit)`);
  }
}

function requireReason(reason: unknown, action: string): void {
  if (typeof reason !== 'string' || reason.trim().length < 3) {
    throw refused(`reason: ${action} needs a reason (it is kept in the rollout's audit)`);
  }
}
