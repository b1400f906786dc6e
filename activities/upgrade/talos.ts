// Talos node upgrades and the etcd gates around each control plane. Each reads the node first, so a retried or
// resumed step never upgrades a node twice: a node that runs the target version, or is upgrading now, is left alone.
import { blocked, fatal, transient } from '../../contracts/failures.ts';
import { activityAttempt } from '../context.ts';
import type { ActivityDeps } from '../deps.ts';
import { etcdLatencyGate } from '../etcd.ts';
import { withKubeconfig } from '../kube/kubeconfig.ts';
import { pollWithin } from '../poll.ts';
import { talosctl } from '../talos.ts';
import { nodeArgv } from '../talos/argv.ts';
import { parseEtcdMembers } from '../talos/parse.ts';
import { stderrTail, talosFailure, talosProblem, UNREACHABLE_TRANSIENT_ATTEMPTS } from '../talos/problems.ts';
import { withSecretFile } from '../talos/secret-files.ts';
import { readKubernetes, readNode, type NodeFacts, type TalosConfigFile } from './reads.ts';

const sameVersion = (a: string | undefined, b: string) => a !== undefined && a.replace(/^v/, '') === b.replace(/^v/, '');
const pollEvery = (deps: ActivityDeps) => Math.max(100, Math.min(2_000, Math.floor(deps.pollBudgetMs / 20)));

export interface UpgradeTalosNodeInput {
  cluster: string;
  node: string;
  address: string;
  role: 'controlplane' | 'worker';
  /** v-prefixed */
  version: string;
  image: string;
  talosconfigRef: string;
  kubeconfigRef: string;
}

export interface UpgradeTalosNodeResult {
  /** false: the node already ran the version (or an earlier attempt's upgrade finished): nothing was sent */
  upgraded: boolean;
  from?: string;
  to: string;
}

/**
 * One node: `talosctl upgrade --wait=false`, then meshpilot's own wait (heartbeating, cancellable, bounded by the
 * poll budget) until the node runs the version, its machine status is ready and its Kubernetes Node is Ready.
 */
export async function upgradeTalosNode(deps: ActivityDeps, i: UpgradeTalosNodeInput): Promise<UpgradeTalosNodeResult> {
  return withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
    const tc = { file, secrets };
    const before = await readNode(deps, i.address, tc);
    let upgraded = false;
    const inFlight = before.stage === 'upgrading' || before.stage === 'rebooting';
    if (before.stage === 'unreachable' && !inFlight) {
      if (activityAttempt() < UNREACHABLE_TRANSIENT_ATTEMPTS) throw transient(`node ${i.node} (${i.address}) did not answer before its upgrade: ${before.error ?? ''}`);
      throw blocked({
        reason: `Node ${i.node} (${i.address}) does not answer on the Talos API, so it cannot be upgraded`,
        hint: `Check that ${i.node} is powered on and reachable (BMC console, cabling, VLAN), then resume; nothing was sent to it yet.`,
        evidence: { node: i.node, address: i.address, error: (before.error ?? '').slice(0, 300) },
      });
    }
    if (!inFlight && !sameVersion(before.talos, i.version)) {
      await requestUpgrade(deps, i, tc);
      upgraded = true;
    }
    await waitBack(deps, i, tc, before);
    return { upgraded, ...(before.talos ? { from: before.talos } : {}), to: i.version };
  });
}

async function requestUpgrade(deps: ActivityDeps, i: UpgradeTalosNodeInput, tc: TalosConfigFile): Promise<void> {
  const r = await talosctl(deps, nodeArgv.upgrade(i.address, tc.file, i.image), tc.secrets, 120_000);
  if (r.exitCode === 0) return;
  const tail = stderrTail(r);
  if (/error validating etcd for upgrade/.test(r.stderr)) {
    throw blocked({
      reason: `Talos refused to upgrade ${i.node}: ${tail.replace(/^.*error validating etcd for upgrade: /, 'etcd: ')}`,
      hint: 'Talos checks etcd itself before it takes a control plane down: make every member healthy (talosctl etcd status), then resume. meshpilot never passes --force.',
      evidence: { node: i.node, address: i.address, error: tail },
    });
  }
  if (/error validating installer image/.test(r.stderr)) {
    throw blocked({
      reason: `${i.node} cannot use the installer image ${i.image}: ${tail}`,
      hint: "Check the blueprint's installImage (registry, schematic, tag) and that the node can pull from that registry, then resume.",
      evidence: { node: i.node, image: i.image, error: tail },
    });
  }
  const p = talosProblem(r);
  if (p === 'unreachable' || p === 'timeout') throw transient(`node ${i.node} (${i.address}) did not take the upgrade request: ${tail}`);
  throw talosFailure(`talosctl upgrade of ${i.node} (${i.address})`, r);
}

const STUCK_HINTS: Record<string, string> = {
  unreachable:
    'It has not answered since it rebooted into the new image: open its console (BMC) — a failed boot makes Talos roll back to the previous version, a hang needs a power cycle. Resume once it answers (meshpilot only upgrades it again if it came back on the old version).',
  rebooting: 'It is still rebooting: check its console (BMC), then resume.',
  upgrading: 'The installer has not finished: check `talosctl dmesg -n ADDRESS` and the installer image, then resume.',
  running: 'Talos runs but is not ready: check `talosctl get machinestatus -n ADDRESS` (its unmet conditions) and `kubectl describe node NAME`, then resume.',
};

async function waitBack(deps: ActivityDeps, i: UpgradeTalosNodeInput, tc: TalosConfigFile, before: NodeFacts): Promise<void> {
  const started = Date.now();
  let last: NodeFacts = before;
  let kubeReady = false;
  const done = await pollWithin(
    deps.pollBudgetMs,
    pollEvery(deps),
    `${i.node} (${i.address}) back on ${i.version}`,
    async () => {
      last = await readNode(deps, i.address, tc);
      if (last.stage !== 'running' || !last.ready || !sameVersion(last.talos, i.version)) return undefined;
      kubeReady = await withKubeconfig(deps, i.kubeconfigRef, async (access) => (await readKubernetes(deps, access)).nodes[i.node]?.ready === true);
      return kubeReady ? true : undefined;
    },
    () => ({ node: i.node, stage: last.stage, talos: last.talos ?? 'unknown', waitedMs: Date.now() - started }),
  );
  if (done) return;
  const waited = Math.round((Date.now() - started) / 1000);
  const evidence = { node: i.node, address: i.address, stage: last.stage, talos: last.talos ?? 'unknown', target: i.version, ...(last.error ? { error: last.error.slice(0, 300) } : {}) };
  if (last.stage === 'running' && last.talos && !sameVersion(last.talos, i.version) && before.stage === 'running' && !sameVersion(before.talos, i.version)) {
    throw blocked({
      reason: `Node ${i.node} (${i.address}) came back on ${last.talos}, not ${i.version}: the upgrade did not stick`,
      hint: `Talos rolls back to the previous image when the new one fails to boot: read \`talosctl dmesg -n ${i.address}\`, fix the cause (installer image, firmware), then resume to upgrade it again.`,
      evidence,
    });
  }
  const runsIt = last.stage === 'running' && sameVersion(last.talos, i.version);
  const where = !runsIt ? `is ${last.stage}` : !last.ready ? `runs ${i.version} but Talos reports it not ready (machine status)` : `runs ${i.version} but its Node is not Ready in Kubernetes`;
  throw blocked({
    reason: `Node ${i.node} (${i.address}) did not come back from its upgrade to ${i.version}: it ${where} after ${waited}s`,
    hint: (STUCK_HINTS[last.stage] ?? STUCK_HINTS.running!).replace('ADDRESS', i.address).replace('NAME', i.node),
    evidence,
  });
}

export interface EtcdGateInput {
  cluster: string;
  /** the control plane being upgraded */
  node: string;
  phase: 'before' | 'after';
  controlPlanes: Array<{ name: string; address: string }>;
  talosconfigRef: string;
  metricsPort: number;
  budgetMs: number;
}

export interface EtcdGateResult {
  members: number;
  leader: string;
  worstP99Ms: number;
}

interface StatusRow {
  node: string;
  member: string;
  leader: string;
  learner: boolean;
  errors: string;
}

/** `talosctl etcd status` table (cmd/talosctl/cmd/talos/etcd.go): NODE MEMBER DB SIZE IN USE LEADER … LEARNER ERRORS. */
export function parseEtcdStatus(stdout: string): StatusRow[] {
  const lines = stdout.split('\n').filter((l) => l.trim());
  const header = lines.shift();
  if (!header) return [];
  if (!/MEMBER/.test(header) || !/LEADER/.test(header)) throw new Error(`unexpected etcd status output: ${JSON.stringify(header)}`);
  const hasNode = header.trimStart().startsWith('NODE');
  return lines.map((line) => {
    // IN USE is "10 MB (50.00%)": split on runs of 3+ spaces (tabwriter padding), which cells never contain
    const f = line.trimEnd().split(/ {3,}/);
    const [node, rest] = hasNode ? [f[0]!, f.slice(1)] : ['', f];
    return { node, member: rest[0] ?? '', leader: rest[3] ?? '', learner: rest[7] === 'true', errors: rest[8] ?? '' };
  });
}

/** Per-node errors of a multi-node call, from the WARNING talosctl prints (`* 10.0.0.2: rpc error: …`). */
export function nodeErrors(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of stderr.matchAll(/^\s*\*\s+([^:\s]+):\s+(.+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * The gate around one control plane's upgrade: every control plane is an etcd member, every member answers with one
 * leader, taking this one down keeps quorum (before), the upgraded one is back (after), and peer round trips are
 * within the budget. Every failure pauses as an overridable gate, naming the member and the phase.
 */
export async function etcdUpgradeGate(deps: ActivityDeps, i: EtcdGateInput): Promise<EtcdGateResult> {
  if (!i.controlPlanes.length) throw fatal(`etcdUpgradeGate: ${i.cluster} has no control planes`);
  const when = i.phase === 'before' ? `before ${i.node} goes down for its upgrade` : `after ${i.node}'s upgrade`;
  const gate = (reason: string, hint: string, evidence: Record<string, string | number | boolean>) =>
    blocked({ reason: `${reason} (${when})`, hint, evidence: { cluster: i.cluster, node: i.node, phase: i.phase, ...evidence }, overridable: true });

  return withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
    // ask through a control plane other than the one being upgraded where there is one
    const order = [...i.controlPlanes.filter((c) => c.name !== i.node), ...i.controlPlanes.filter((c) => c.name === i.node)];
    let members: Array<{ id: string; hostname: string; peerUrls: string[] }> | undefined;
    let via = order[0]!;
    let lastError = '';
    for (const cp of order) {
      const r = await talosctl(deps, nodeArgv.etcdMembers(cp.address, file), secrets);
      if (r.exitCode === 0) {
        try {
          members = parseEtcdMembers(r.stdout);
          via = cp;
          break;
        } catch (err) {
          lastError = (err as Error).message;
          continue;
        }
      }
      lastError = stderrTail(r);
    }
    if (!members) {
      if (activityAttempt() < UNREACHABLE_TRANSIENT_ATTEMPTS) throw transient(`no control plane of ${i.cluster} listed the etcd members: ${lastError}`);
      throw gate(`No control plane of ${i.cluster} could list the etcd members: ${lastError}`, 'check the control planes with `talosctl etcd members` and `talosctl service etcd`; resume when etcd answers', { error: lastError.slice(0, 300) });
    }
    const memberOf = (cp: { name: string; address: string }) => members!.find((m) => m.hostname === cp.name || m.peerUrls.some((u) => u.includes(`//${cp.address}:`)));
    const missing = i.controlPlanes.filter((cp) => !memberOf(cp));
    if (missing.length) {
      const names = missing.map((m) => `${m.name} (${m.address})`).join(', ');
      throw gate(
        `${names} ${missing.length === 1 ? 'is' : 'are'} not in etcd's member list`,
        i.phase === 'after' && missing.some((m) => m.name === i.node)
          ? `${i.node} did not rejoin etcd after its upgrade: check \`talosctl -n ${missing[0]!.address} service etcd\` and its logs; resume once it is a member again`
          : 'a control plane that is not an etcd member cannot keep quorum: check `talosctl etcd members`, then resume',
        { missing: missing.map((m) => m.name).join(',') },
      );
    }

    const st = await talosctl(deps, nodeArgv.etcdStatus(i.controlPlanes.map((c) => c.address), via.address, file), secrets);
    const errors = nodeErrors(st.stderr);
    if (st.exitCode !== 0) {
      // a single member's error fails the command (no aggregation)
      if (i.controlPlanes.length === 1) errors.set(i.controlPlanes[0]!.address, stderrTail(st));
      else {
        const p = talosProblem(st);
        if (p === 'unreachable' || p === 'timeout') throw transient(`talosctl etcd status via ${via.name}: ${stderrTail(st)}`);
        throw talosFailure(`talosctl etcd status in ${i.cluster}`, st);
      }
    }
    let rows: StatusRow[] = [];
    try {
      rows = st.exitCode === 0 ? parseEtcdStatus(st.stdout) : [];
    } catch (err) {
      throw transient(`talosctl etcd status in ${i.cluster}: ${(err as Error).message}`);
    }
    const unhealthy = i.controlPlanes.flatMap((cp) => {
      const row = rows.find((r) => r.node === cp.address);
      const why = errors.get(cp.address) ?? (!row ? 'no status' : row.errors ? row.errors : row.learner ? 'still a learner' : undefined);
      return why ? [{ cp, why }] : [];
    });
    if (unhealthy.length) {
      const first = unhealthy[0]!;
      const isSubject = first.cp.name === i.node;
      throw gate(
        `etcd member ${first.cp.name} (${first.cp.address}) is not healthy: ${first.why}${unhealthy.length > 1 ? ` (and ${unhealthy.length - 1} more)` : ''}`,
        isSubject && i.phase === 'after'
          ? `${i.node} came back from its upgrade but its etcd member does not answer: read \`talosctl -n ${first.cp.address} logs etcd\` and \`talosctl -n ${first.cp.address} service etcd\`; if its data is lost, remove the member (talosctl etcd remove-member) and let it rejoin. Resume when healthy, or override with a reason to go on with ${i.controlPlanes.length - 1} of ${i.controlPlanes.length} members.`
          : `Taking another member down now would risk quorum: make ${first.cp.name}'s etcd healthy (talosctl -n ${first.cp.address} service etcd), then resume; or override with a reason.`,
        { unhealthy: unhealthy.map((u) => u.cp.name).join(','), error: first.why.slice(0, 300) },
      );
    }
    const leaders = new Set(rows.map((r) => r.leader));
    if (leaders.size !== 1 || [...leaders][0] === '0000000000000000') {
      throw gate(`etcd members disagree on the leader or have none (${[...leaders].join(', ')})`, 'wait for etcd to elect a leader (talosctl etcd status), then resume', { leaders: [...leaders].join(',') });
    }
    const n = members.length;
    const quorum = Math.floor(n / 2) + 1;
    if (i.phase === 'before' && n - 1 < quorum) {
      throw gate(
        `upgrading ${i.node} leaves etcd without quorum: ${n} member(s), ${quorum} needed, ${n - 1} would remain`,
        n === 1
          ? 'A single control plane: the Kubernetes API is down while it reboots. Override with a reason to accept the outage, or add control planes first.'
          : 'Talos refuses too (etcd member count(2) is insufficient to maintain quorum): add a third control plane (or go to one), then resume.',
        { members: n, quorum },
      );
    }
    const rtt = await etcdLatencyGate(deps, {
      cluster: i.cluster,
      members: i.controlPlanes.map((cp) => ({ name: cp.name, address: cp.address, memberId: memberOf(cp)?.id })),
      metricsPort: i.metricsPort,
      budgetMs: i.budgetMs,
    }).catch((err: unknown) => {
      const details = (err as { details?: unknown[] }).details?.[0] as { reason?: string } | undefined;
      if (details?.reason) (details as { reason: string }).reason = `${details.reason} (${when})`;
      throw err;
    });
    return { members: n, leader: [...leaders][0]!, worstP99Ms: rtt.worstP99Ms };
  });
}
