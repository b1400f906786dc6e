// RolloutView → the generic notification messages (notify/message.ts). Pure: the follower and the handlers
// decide when to post; this decides only what a message says.
import { z } from 'zod';
import type { MessageAction, MessageField, RolloutMessage } from '../notify/message.ts';
import { currentStep, isPassed, type OperatorAction, type RolloutView, type StepStatus } from '../contracts/status.ts';
import { actionsOnPause, encodePauseToken, PAST, tokenForView } from './pause-token.ts';

export const ACTION_RESUME = 'mesh_resume';
export const ACTION_ABORT = 'mesh_abort';
export const ACTION_OPEN_UI = 'mesh_open_ui';
export const ACTION_DETACH = 'mesh_detach';
export const ACTION_DRILL = 'mesh_drill';
export const ACTION_FAILOVER_DRILL = 'mesh_failover_drill';

function progress(steps: StepStatus[]): string {
  return `${steps.filter(isPassed).length}/${steps.length}`;
}

function clusterFields(view: RolloutView): MessageField[] {
  const fields = view.clusters.map((c) => {
    const step = currentStep(c.steps);
    return { label: c.name, value: `${c.state} · ${progress(c.steps)} steps${step ? ` · ${step.state === 'blocked' ? 'paused at' : step.state === 'running' ? 'running' : 'last'} ${step.name}` : ''}` };
  });
  if (view.meshSteps.length) {
    const step = currentStep(view.meshSteps);
    fields.push({ label: 'mesh', value: `${progress(view.meshSteps)} steps${step ? ` · ${step.state === 'blocked' ? 'paused at' : step.state} ${step.name}` : ''}` });
  }
  return fields;
}

function footer(view: RolloutView): string {
  return `${view.workflowId} · revision ${view.revision} · started by ${view.startedBy.by} via ${view.startedBy.via}`;
}

export function uiAction(uiUrl: string | undefined): MessageAction[] {
  return uiUrl ? [{ id: ACTION_OPEN_UI, label: 'Open in Temporal UI', url: uiUrl }] : [];
}

/** What the run is, in a title: a rollout of a mesh, or an operation on one of its clusters. */
function runName(view: RolloutView): string {
  const op = view.operation;
  if (!op) return `Rollout ${view.mesh}`;
  if (op.kind === 'backup') return `Backup of ${op.cluster} (${view.mesh})`;
  if (op.kind === 'restore-drill') return `Restore drill of ${op.cluster} (${view.mesh})`;
  if (op.kind === 'rotate-certs') return `Certificate rotation of ${view.mesh}`;
  if (op.kind === 'rotate-ca') return `CA rotation of ${view.mesh}`;
  if (op.kind === 'failover-drill') return `Failover drill of ${op.cluster} (${view.mesh})`;
  return `Detach ${op.cluster} from ${view.mesh}`;
}

/** What a completed operation did, in one sentence. */
function operationDone(view: RolloutView): string {
  const op = view.operation!;
  if (op.kind === 'backup') return `${op.cluster}: ${op.reason} taken and stored encrypted.`;
  if (op.kind === 'restore-drill') return `${op.cluster}: ${op.reason} restored, and the restored etcd holds the snapshot's data.`;
  if (op.kind === 'rotate-certs' || op.kind === 'rotate-ca') return `${view.mesh}: ${op.reason}; the mesh stayed connected after every cluster.`;
  if (op.kind === 'failover-drill') return `Failover drill of ${op.reason}.`;
  return `${op.cluster} left mesh ${view.mesh}: every remaining peer forgot it and the remaining mesh was verified; it keeps running on its own.`;
}

/** The one status message per rollout and channel, updated in place as the rollout moves. */
export function statusMessage(view: RolloutView, uiUrl?: string): RolloutMessage {
  const where = view.blocked ? ` at ${view.blocked.cluster ? `${view.blocked.cluster}/` : ''}${view.blocked.step}` : '';
  return {
    title: `${runName(view)}: ${view.state}${where}`,
    state: view.state,
    text: view.error ? `Error: ${view.error}` : undefined,
    fields: clusterFields(view),
    actions: uiAction(uiUrl),
    footer: footer(view),
  };
}

/** Posted once per pause: the reason, the hint, and the buttons that act on exactly this pause. */
export function pauseMessage(view: RolloutView, uiUrl?: string): RolloutMessage | undefined {
  const b = view.blocked;
  const token = tokenForView(view);
  if (!b || !token) return undefined;
  const value = encodePauseToken(token);
  const at = `${b.cluster ? `${b.cluster}/` : ''}${b.step}`;
  const last = actionsOnPause(view, token).at(-1);
  return {
    title: `${view.mesh} paused at ${at}`,
    state: 'paused',
    text: `Reason: ${b.reason}\nHint: ${b.hint || '(none)'}`,
    fields: [
      { label: 'Paused since', value: b.since },
      { label: 'Rollout', value: view.workflowId },
      ...(last ? [{ label: 'Last action', value: `${PAST[last.action]} by ${last.by} at ${last.at} (re-checking)` }] : []),
      ...(b.overridable ? [{ label: 'Gate', value: `can be overridden with a reason: meshpilot override ${view.workflowId} --step ${b.step} --reason "..."` }] : []),
    ],
    actions: [
      { id: ACTION_RESUME, label: 'Resume', style: 'primary', value },
      {
        id: ACTION_ABORT,
        label: 'Abort',
        style: 'danger',
        value,
        confirm: {
          title: 'Abort this rollout?',
          text: `Stops ${view.workflowId}: running tool calls are cancelled and nothing further runs. The abort is recorded under your name.`,
          confirm: 'Abort rollout',
          deny: 'Keep it',
        },
      },
      ...uiAction(uiUrl),
    ],
    footer: footer(view),
  };
}

/** The pause message once someone acted on it (or its re-check passed): buttons gone, who did what kept. */
export function pauseClearedMessage(view: RolloutView, pause: { cluster?: string; step: string }, action: OperatorAction | undefined, uiUrl?: string): RolloutMessage {
  const at = `${pause.cluster ? `${pause.cluster}/` : ''}${pause.step}`;
  // Who acted goes in the text, not the title: Slack renders mentions only there.
  return {
    title: `${view.mesh} ${at}: ${action ? PAST[action.action] : 'cleared'}`,
    state: view.state === 'aborted' ? 'aborted' : view.state === 'failed' ? 'failed' : 'running',
    text: action ? `${PAST[action.action]} by ${action.by} at ${action.at}${action.reason ? ` (${action.reason})` : ''}` : 'Its re-check passed.',
    fields: [{ label: 'Rollout', value: view.workflowId }],
    actions: uiAction(uiUrl),
    footer: footer(view),
  };
}

/** Posted once when the rollout ends. */
export function outcomeMessage(view: RolloutView, uiUrl?: string): RolloutMessage {
  const lastAbort = [...view.actions].reverse().find((a) => a.action === 'abort');
  const text =
    view.state === 'completed'
      ? view.operation
        ? operationDone(view)
        : `All ${view.clusters.length} clusters are up and meshed (${view.clusters.map((c) => c.name).join(', ')}).`
      : view.state === 'aborted'
        ? `Aborted${lastAbort ? ` by ${lastAbort.by}${lastAbort.reason ? `: ${lastAbort.reason}` : ''}` : ''}.${view.operation?.kind === 'failover-drill' ? ` ${view.operation.reason}.` : ''}`
        : `Failed: ${view.error ?? 'see the rollout in the Temporal UI'}`;
  return {
    title: `${runName(view)} ${view.state}`,
    state: view.state === 'paused' || view.state === 'running' ? 'info' : view.state,
    text,
    fields: clusterFields(view),
    actions: uiAction(uiUrl),
    footer: footer(view),
  };
}

/** What the Detach button carries: the request exactly as it was typed, so the click starts what was confirmed. */
export const detachRequestSchema = z.object({ m: z.string().min(1).max(40), c: z.string().min(1).max(32), r: z.string().min(1).max(500) });
export type DetachRequest = z.infer<typeof detachRequestSchema>;

export function decodeDetachRequest(value: string | undefined): DetachRequest | undefined {
  if (!value) return undefined;
  try {
    const parsed = detachRequestSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `/mesh detach`: nothing starts until someone allowed presses Detach and confirms. */
export function detachConfirmMessage(req: DetachRequest): RolloutMessage {
  return {
    title: `Detach ${req.c} from ${req.m}?`,
    state: 'warning',
    text:
      `Every remaining peer of ${req.c} forgets it, one at a time, with its global services checked after each change; the remaining mesh is verified; ` +
      `then ${req.c}'s own peer list is emptied. It keeps running on its own: nothing is uninstalled or wiped.\nReason: ${req.r}`,
    fields: [],
    actions: [
      {
        id: ACTION_DETACH,
        label: `Detach ${req.c}`.slice(0, 75),
        style: 'danger',
        value: JSON.stringify(req),
        confirm: {
          title: `Detach ${req.c}?`.slice(0, 100),
          text: `${req.c} leaves mesh ${req.m}. Its global services stop serving the other clusters, and theirs stop reaching it. The detach is recorded under your name.`,
          confirm: 'Detach',
          deny: 'Keep it',
        },
      },
    ],
  };
}

/** What the Drill button carries: blueprint name, cluster, node (NAME=ADDRESS) and snapshot, exactly as typed. */
export const drillRequestSchema = z.object({ n: z.string().min(1).max(63), c: z.string().min(1).max(32), d: z.string().min(1).max(120), s: z.string().min(1).max(80).optional() });
export type DrillRequest = z.infer<typeof drillRequestSchema>;

export function decodeDrillRequest(value: string | undefined): DrillRequest | undefined {
  if (!value) return undefined;
  try {
    const parsed = drillRequestSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `/mesh drill`: nothing is touched until someone allowed presses Drill and confirms. */
export function drillConfirmMessage(req: DrillRequest): RolloutMessage {
  const node = req.d.split('=')[0] ?? req.d;
  return {
    title: `Restore drill: ${req.c} onto ${node}?`,
    state: 'warning',
    text:
      `Snapshot ${req.s ?? '(the newest)'} of ${req.c} is restored onto the spare node ${req.d} with the cluster's own control-plane config ` +
      '(talosctl bootstrap --recover-from), then the restored etcd is checked. Only a node in Talos maintenance mode is touched; keep it on an isolated network.',
    fields: [],
    actions: [
      {
        id: ACTION_DRILL,
        label: `Drill ${req.c} onto ${node}`.slice(0, 75),
        style: 'primary',
        value: JSON.stringify(req),
        confirm: {
          title: `Install ${req.c}'s config on ${node}?`.slice(0, 100),
          text: `${req.d} gets ${req.c}'s control-plane config and its etcd from the snapshot. The drill is recorded under your name.`,
          confirm: 'Start the drill',
          deny: 'Cancel',
        },
      },
    ],
  };
}

/** What the failover Drill button carries: blueprint name, region and service, exactly as typed. */
export const failoverRequestSchema = z.object({ n: z.string().min(1).max(63), r: z.string().min(1).max(63), s: z.string().min(1).max(127).optional() });
export type FailoverRequest = z.infer<typeof failoverRequestSchema>;

export function decodeFailoverRequest(value: string | undefined): FailoverRequest | undefined {
  if (!value) return undefined;
  try {
    const parsed = failoverRequestSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `/mesh drill failover`: nothing is touched until someone allowed presses Drill and confirms. */
export function failoverConfirmMessage(req: FailoverRequest, target: { drained: string[]; services: string[] }): RolloutMessage {
  return {
    title: `Failover drill: region ${req.r} of ${req.n}?`,
    state: 'warning',
    text:
      `The Deployments behind ${target.services.join(', ')} in ${target.drained.join(', ')} are scaled to 0; every cluster is watched until its clients reach ` +
      'the other regions\' backends (timed), then every Deployment goes back to its replicas, also if the drill is aborted. Real clients of that region lose their local backends meanwhile.',
    fields: [],
    actions: [
      {
        id: ACTION_FAILOVER_DRILL,
        label: `Drill failover of ${req.r}`.slice(0, 75),
        style: 'danger',
        value: JSON.stringify(req),
        confirm: {
          title: `Take region ${req.r}'s backends out?`.slice(0, 100),
          text: `${target.drained.join(', ')} serve(s) no backend of ${target.services.join(', ')} until the drill restores them. The drill is recorded under your name.`.slice(0, 300),
          confirm: 'Start the drill',
          deny: 'Cancel',
        },
      },
    ],
  };
}
