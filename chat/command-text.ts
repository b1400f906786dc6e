// `/mesh <subcommand> ...` text → a typed command. Pure: the handlers never look at raw text.

export type MeshCommand =
  | { kind: 'help' }
  | { kind: 'plan'; name: string }
  | { kind: 'rollout'; name: string }
  | { kind: 'status'; target?: string }
  | { kind: 'resume'; target: string; reason?: string }
  | { kind: 'abort'; target: string; reason: string }
  | { kind: 'verify'; name: string }
  | { kind: 'schedule'; name: string; every: string }
  | { kind: 'detach'; mesh: string; cluster: string; reason: string }
  | { kind: 'backup'; name: string; cluster?: string }
  | { kind: 'drill'; name: string; cluster: string; node: string; snapshot?: string }
  | { kind: 'failover-drill'; name: string; region: string; service?: string };

export type MeshCommandKind = MeshCommand['kind'];

/** Commands that change something: only allow-listed users in allow-listed channels may run them. */
export const MUTATING: ReadonlySet<MeshCommandKind> = new Set(['rollout', 'resume', 'abort', 'verify', 'schedule', 'detach', 'backup', 'drill', 'failover-drill']);

export const USAGE = [
  '*Usage:* `/mesh <command>`',
  '• `/mesh plan NAME` — what a rollout of blueprint NAME would do (clusters, IDs, CIDRs, warnings)',
  '• `/mesh rollout NAME` — start (or attach to) the rollout of blueprint NAME',
  '• `/mesh status [ID|NAME]` — a rollout by id or blueprint name; without one, the rollouts in flight',
  '• `/mesh resume ID|NAME [reason]` — re-check the paused step now',
  '• `/mesh abort ID|NAME REASON` — stop the rollout (the reason is kept in its audit)',
  '• `/mesh verify NAME` — check the running mesh against blueprint NAME now',
  '• `/mesh schedule NAME EVERY|off` — verify on a schedule (e.g. `6h`)',
  '• `/mesh detach MESH CLUSTER REASON` — take CLUSTER out of MESH after you confirm (it keeps running on its own; nothing is wiped)',
  '• `/mesh backup NAME [CLUSTER]` — an etcd snapshot of every cluster of blueprint NAME (or one) now, stored encrypted',
  '• `/mesh drill NAME CLUSTER NODE=ADDRESS [SNAPSHOT]` — restore a stored snapshot of CLUSTER onto a spare node and prove it, after you confirm',
  '• `/mesh drill failover NAME REGION [NAMESPACE/SERVICE]` — take REGION\'s backends of the global services out, prove the other regions serve, put them back and report, after you confirm',
  'Blueprints are read from the configured blueprint directory by name; they are never uploaded through chat.',
].join('\n');

export type ParsedCommand = { ok: true; command: MeshCommand } | { ok: false; message: string };

const bad = (message: string): ParsedCommand => ({ ok: false, message: `${message}\n\n${USAGE}` });

export function parseMeshCommand(text: string): ParsedCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub, ...args] = words;
  const rest = (from: number) => args.slice(from).join(' ').trim();
  switch (sub?.toLowerCase()) {
    case undefined:
    case 'help':
      return { ok: true, command: { kind: 'help' } };
    case 'plan':
    case 'rollout':
    case 'verify': {
      const kind = sub.toLowerCase() as 'plan' | 'rollout' | 'verify';
      if (args.length !== 1) return bad(`\`${kind}\` takes one blueprint name, e.g. \`/mesh ${kind} usa-europe\``);
      return { ok: true, command: { kind, name: args[0]! } };
    }
    case 'status':
      if (args.length > 1) return bad('`status` takes at most one rollout id or blueprint name');
      return { ok: true, command: { kind: 'status', target: args[0] } };
    case 'resume':
      if (args.length < 1) return bad('`resume` needs a rollout id or blueprint name, e.g. `/mesh resume usa-europe`');
      return { ok: true, command: { kind: 'resume', target: args[0]!, reason: rest(1) || undefined } };
    case 'abort':
      if (args.length < 2) return bad('`abort` needs a rollout id (or blueprint name) and a reason, e.g. `/mesh abort usa-europe wrong change window`');
      return { ok: true, command: { kind: 'abort', target: args[0]!, reason: rest(1) } };
    case 'schedule':
      if (args.length !== 2) return bad('`schedule` takes a blueprint name and an interval (or `off`), e.g. `/mesh schedule usa-europe 6h`');
      return { ok: true, command: { kind: 'schedule', name: args[0]!, every: args[1]! } };
    case 'detach':
      if (args.length < 3) return bad('`detach` needs the mesh, the cluster and a reason, e.g. `/mesh detach usa-europe cluster-asia region closed`');
      return { ok: true, command: { kind: 'detach', mesh: args[0]!, cluster: args[1]!, reason: rest(2) } };
    case 'backup':
      if (args.length < 1 || args.length > 2) return bad('`backup` takes a blueprint name and, optionally, one cluster, e.g. `/mesh backup usa-europe cluster-usa`');
      return { ok: true, command: { kind: 'backup', name: args[0]!, ...(args[1] ? { cluster: args[1] } : {}) } };
    case 'drill':
      // `drill failover …` has no NAME=ADDRESS argument, so a blueprint named `failover` keeps its restore drills
      if (args[0] === 'failover' && !args.some((a) => a.includes('='))) {
        if (args.length < 3 || args.length > 4) return bad('`drill failover` takes a blueprint name, a region and, optionally, one global service, e.g. `/mesh drill failover usa-europe us meshpilot-canary/meshpilot-canary`');
        return { ok: true, command: { kind: 'failover-drill', name: args[1]!, region: args[2]!, ...(args[3] ? { service: args[3] } : {}) } };
      }
      if (args.length < 3 || args.length > 4) return bad('`drill` takes a blueprint name, a cluster, the spare node as NAME=ADDRESS and, optionally, a snapshot id, e.g. `/mesh drill usa-europe cluster-usa drill-cp-1=192.168.10.90`');
      return { ok: true, command: { kind: 'drill', name: args[0]!, cluster: args[1]!, node: args[2]!, ...(args[3] ? { snapshot: args[3] } : {}) } };
    default:
      return bad(`unknown command \`${(sub ?? '').slice(0, 40)}\``);
  }
}
