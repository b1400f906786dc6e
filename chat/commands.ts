// `/mesh …` after it was parsed, allowed and acked: do the work and say what happened (ephemeral, through the
// command's response_url: one or two replies, well inside its limit of five). Progress goes through followers.
import { BlueprintFileInvalid } from '../blueprint/plan-file.ts';
import { startBackups } from '../client/backup.ts';
import { validateDetach } from '../client/detach.ts';
import { failoverTarget } from '../client/failover-drill.ts';
import { parseDrillNode, validateRestoreDrill } from '../client/restore-drill.ts';
import { DEFAULT_RETENTION } from '../contracts/backup.ts';
import {
  ActionRefused,
  BackupInputError,
  DetachInputError,
  FailoverInputError,
  RolloutNotFound,
  ScheduleInputError,
  TemporalUnreachable,
  VerifyRunInProgress,
  VerifyScheduleNotFound,
  type BackupArgument,
  type DetachArgument,
  type ScheduleArgument,
} from '../client/errors.ts';
import { abortRollout, actOnStep, getRolloutView, listRollouts, startRollout } from '../client/rollouts.ts';
import { rolloutWorkflowId } from '../contracts/names.ts';
import { isTerminal } from '../contracts/status.ts';
import { redact } from '../secrets/redact.ts';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { RolloutMessage } from '../notify/message.ts';
import { BlueprintNameError, BlueprintRefused, BLUEPRINT_NAME, planBlueprint, resolveBlueprint } from './blueprints.ts';
import { USAGE, type MeshCommand } from './command-text.ts';
import { slackActor, type ChatCore } from './core.ts';
import { detachConfirmMessage, drillConfirmMessage, failoverConfirmMessage, statusMessage } from './render.ts';

export interface CommandContext {
  userId: string;
  channelId: string;
  /** Slack's trigger_id: the command's idempotency key */
  requestId?: string;
}

/** A reply: plain mrkdwn text, or a rendered message (the status). */
export type Reply = { text: string } | { message: RolloutMessage };

async function planByName(core: ChatCore, name: string): Promise<{ plan: RolloutPlan }> {
  return { plan: await planBlueprint(core.blueprintDir, name) };
}

/** `rollout-…` is a workflow id; a plain name is a blueprint, whose current revision names the rollout. */
async function resolveRolloutId(core: ChatCore, target: string): Promise<string> {
  if (['rollout-', 'detach-', 'backup-', 'restore-drill-', 'failover-drill-'].some((p) => target.startsWith(p)) || !BLUEPRINT_NAME.test(target)) {
    if (!/^[A-Za-z0-9._:-]{1,300}$/.test(target)) throw new BlueprintNameError(`\`${target.slice(0, 80)}\` is neither a rollout id nor a blueprint name`);
    return target;
  }
  const { plan } = await planByName(core, target);
  return rolloutWorkflowId(plan.mesh, plan.revision);
}

function planSummary(name: string, plan: RolloutPlan): string {
  const lines = [`*Plan for \`${name}\`* — mesh *${plan.mesh}*, revision \`${plan.revision}\`, ${plan.meshPhase.method} connect, encryption ${plan.meshPhase.encryption}`];
  for (const c of plan.clusters) {
    const cps = c.nodes.filter((n) => n.role === 'controlplane').length;
    lines.push(`• *${c.name}* (id ${c.id}, site ${c.site}): pods ${c.podCidrs.join(', ')} · services ${c.serviceCidrs.join(', ')} · ${cps} control plane + ${c.nodes.length - cps} worker node(s) · Talos ${c.talos.version}, Cilium ${c.cilium.version}`);
  }
  lines.push(plan.warnings.length ? `*Warnings:*\n${plan.warnings.map((w) => `• ${w}`).join('\n')}` : 'No warnings.');
  lines.push(`Start it with \`/mesh rollout ${name}\`.`);
  return lines.join('\n');
}

function followNote(core: ChatCore, workflowId: string, channelId: string): string {
  const r = core.followers.follow(workflowId, channelId);
  core.followers.poke(workflowId);
  return r === 'too-many' ? ' (meshpilot is following too many rollouts to post progress here; use `/mesh status` to check)' : ' Progress follows in this channel.';
}

export async function runMeshCommand(core: ChatCore, cmd: MeshCommand, ctx: CommandContext): Promise<Reply> {
  const actor = slackActor(ctx.userId);
  const requestId = ctx.requestId ? `slack-${ctx.requestId}` : undefined;
  try {
    switch (cmd.kind) {
      case 'help':
        return { text: USAGE };
      case 'plan': {
        const { plan } = await planByName(core, cmd.name);
        return { text: planSummary(cmd.name, plan) };
      }
      case 'rollout': {
        const { plan } = await planByName(core, cmd.name);
        const started = await startRollout(core.client, { plan, requestedBy: actor, taskQueue: core.taskQueue, limits: core.limits, requestId });
        if (started.duplicate) return { text: `Already done: this request started \`${started.workflowId}\` before; it is not started again.` };
        core.log(`chat: ${actor.by} ${started.started ? 'started' : 'attached to'} ${started.workflowId}`);
        const head = started.started ? `Started \`${started.workflowId}\`.` : `This change is already rolling out: \`${started.workflowId}\` (not started twice).`;
        return { text: `${head}${followNote(core, started.workflowId, ctx.channelId)}` };
      }
      case 'status': {
        if (!cmd.target) return { text: await inFlight(core) };
        const id = await resolveRolloutId(core, cmd.target);
        const view = await getRolloutView(core.client, id);
        // Asking about a live rollout in an ops channel picks following back up (e.g. after a restart).
        if (!isTerminal(view.state) && core.allow.mayChange(ctx.userId, ctx.channelId).ok) {
          core.followers.follow(id, ctx.channelId);
        }
        const msg = statusMessage(view, core.uiLink(id));
        if (view.blocked) msg.text = `${msg.text ? `${msg.text}\n` : ''}Paused: ${view.blocked.reason}\nHint: ${view.blocked.hint}`;
        return { message: msg };
      }
      case 'resume': {
        const id = await resolveRolloutId(core, cmd.target);
        const r = await actOnStep(core.client, id, 'resume', { ...actor, reason: cmd.reason, requestId });
        if (r.duplicate) return { text: `Already done: this request was carried out before (${r.message}); nothing was sent again.` };
        core.log(`chat: ${actor.by} resumed ${r.workflowId}`);
        return { text: `Resume accepted: ${r.message}.${followNote(core, id, ctx.channelId)}` };
      }
      case 'abort': {
        const id = await resolveRolloutId(core, cmd.target);
        const r = await abortRollout(core.client, id, { ...actor, reason: cmd.reason, requestId });
        if (r.duplicate) return { text: `Already done: this request was carried out before (${r.message}); nothing was sent again.` };
        core.log(`chat: ${actor.by} aborted ${id}`);
        return { text: `Abort accepted: ${r.message}.${followNote(core, id, ctx.channelId)}` };
      }
      case 'verify': {
        const file = await resolveBlueprint(core.blueprintDir, cmd.name);
        const r = await core.verify.verifyNow(cmd.name, file, actor);
        return { text: `${r.message} (\`${r.workflowId}\`)` };
      }
      case 'schedule': {
        const file = await resolveBlueprint(core.blueprintDir, cmd.name);
        return { text: (await core.verify.schedule(cmd.name, file, cmd.every, actor)).message };
      }
      case 'backup': {
        // read-only towards the clusters (a snapshot is streamed from a healthy control plane), so no confirmation
        const { plan } = await planByName(core, cmd.name);
        const started = await startBackups(core.client, { plan, retention: DEFAULT_RETENTION, by: actor, taskQueue: core.taskQueue, ...(cmd.cluster ? { cluster: cmd.cluster } : {}) });
        core.log(`chat: ${actor.by} started backups ${started.map((b) => b.workflowId).join(', ')}`);
        const lines = started.map((b) => `• ${b.cluster}: ${b.started ? 'started' : 'already running'} \`${b.workflowId}\`${followNote(core, b.workflowId, ctx.channelId)}`);
        return { text: [`*etcd backup of ${plan.mesh}* (stored encrypted; \`meshpilot backup list ${plan.mesh}\` shows the snapshots):`, ...lines].join('\n') };
      }
      case 'drill': {
        // nothing starts here: the reply asks for a confirmed click (buttons.ts starts the drill)
        const { plan } = await planByName(core, cmd.name);
        validateRestoreDrill({ plan, cluster: cmd.cluster, drillNode: parseDrillNode(cmd.node), ...(cmd.snapshot ? { snapshotId: cmd.snapshot } : {}) });
        return { message: drillConfirmMessage({ n: cmd.name, c: cmd.cluster, d: cmd.node, ...(cmd.snapshot ? { s: cmd.snapshot } : {}) }) };
      }
      case 'failover-drill': {
        // nothing starts here: the reply asks for a confirmed click (buttons.ts starts the drill)
        const { plan } = await planByName(core, cmd.name);
        const target = failoverTarget(plan, cmd.region, cmd.service);
        return { message: failoverConfirmMessage({ n: cmd.name, r: cmd.region, ...(cmd.service ? { s: cmd.service } : {}) }, target) };
      }
      case 'detach': {
        // nothing starts here: the reply asks for a confirmed click (buttons.ts starts the detach)
        validateDetach(cmd);
        return { message: detachConfirmMessage({ m: cmd.mesh, c: cmd.cluster, r: cmd.reason }) };
      }
    }
  } catch (err) {
    return { text: explain(err) };
  }
}

async function inFlight(core: ChatCore): Promise<string> {
  const rows = (await listRollouts(core.client, { limit: 20 })).filter((r) => r.state === 'running' || r.state === 'paused');
  if (rows.length === 0) return 'No rollouts in flight.';
  return ['*Rollouts in flight:*', ...rows.map((r) => `• \`${r.workflowId}\` ${r.state}${r.blockedStep ? ` at ${r.blockedStep}` : ''} (since ${r.startTime})`)].join('\n');
}

/** How `/mesh schedule NAME EVERY` names what it was given. */
const CHAT_ARGUMENT: Record<ScheduleArgument, string> = { every: 'interval', cron: 'cron expression', catchup: 'catch-up window', mesh: 'mesh name' };
/** How `/mesh backup NAME [CLUSTER]` names what it was given. */
const CHAT_BACKUP_ARGUMENT: Record<BackupArgument, string> = { mesh: 'mesh name', cluster: 'cluster', 'keep-last': 'number to keep', 'max-age': 'maximum age', file: 'blueprint', node: 'drill node', snapshot: 'snapshot id' };

/** How `/mesh detach MESH CLUSTER REASON` names what it was given. */
const CHAT_DETACH_ARGUMENT: Record<DetachArgument, string> = { mesh: 'mesh name', cluster: 'cluster name', reason: 'reason' };

/** Absolute server paths become the file's own name (a blueprint) or `<path>`: where the server keeps things is nobody's business in a channel. */
export function hidePaths(text: string): string {
  return text.replace(/(?<![\w:/.~-])(?:\/[\w.@+-]+){2,}\/?/g, (p) => (/\.ya?ml$/.test(p) ? p.slice(p.lastIndexOf('/') + 1) : '<path>'));
}

/** Every failure a person can act on, in one message in chat's words; anything else without internals, paths or secrets. */
export function explain(err: unknown): string {
  return hidePaths(explainRaw(err));
}

function explainRaw(err: unknown): string {
  if (err instanceof ActionRefused) return `Refused: ${err.message}`;
  if (err instanceof RolloutNotFound) return `No such rollout: ${err.message} (see \`/mesh status\`)`;
  if (err instanceof BlueprintNameError || err instanceof BlueprintRefused) return err.message;
  if (err instanceof TemporalUnreachable) return `${err.message}: is the server up, and does TEMPORAL_ADDRESS point at it?`;
  if (err instanceof BlueprintFileInvalid) return `${err.message}\n(fix the file in the blueprint directory; \`/mesh plan\` shows the result)`;
  if (err instanceof ScheduleInputError) return `The ${CHAT_ARGUMENT[err.argument]} ${err.problem}`;
  if (err instanceof BackupInputError) return `The ${CHAT_BACKUP_ARGUMENT[err.argument]}: ${err.problem}`;
  if (err instanceof FailoverInputError) return `The ${err.argument}: ${err.problem}`;
  if (err instanceof DetachInputError) return `The ${CHAT_DETACH_ARGUMENT[err.argument]}: ${err.problem}`;
  if (err instanceof VerifyScheduleNotFound) return `${err.message[0]!.toUpperCase()}${err.message.slice(1)} (create one with \`/mesh schedule NAME 6h\`)`;
  if (err instanceof VerifyRunInProgress) return err.message;
  return `Something went wrong: ${redact((err as Error).message ?? String(err))}`;
}
