// Composite checks the workflows call as single activities: they combine adapters and decide.
import { blocked } from '../contracts/failures.ts';
import type { ActivityDeps } from './deps.ts';
import { pollWithin } from './poll.ts';
import { globalServiceBackends } from './cilium.ts';
import { toolVersions } from './kube.ts';
import { nodeStage, talosClientVersion } from './talos.ts';

const minor = (v: string) => v.replace(/^v/, '').split('.').slice(0, 2).join('.');

/** Tools present, and talosctl's minor matches the Talos the blueprint installs (a mismatched client is a known trap). */
export async function preflightCluster(
  deps: ActivityDeps,
  i: { cluster: string; talosVersion: string; ciliumVersion: string },
): Promise<{ talosctl: string; helm: string; kubectl: string; cilium: string }> {
  const [talos, others] = await Promise.all([talosClientVersion(deps), toolVersions(deps)]);
  if (minor(talos.version) !== minor(i.talosVersion)) {
    throw blocked({
      reason: `talosctl ${talos.version} on this worker does not match Talos ${i.talosVersion} in the blueprint`,
      hint: `install talosctl ${i.talosVersion} on the worker (same minor as the nodes), then resume`,
      evidence: { talosctl: talos.version, talos: i.talosVersion },
    });
  }
  return { talosctl: talos.version, ...others };
}

const BOOTED = new Set(['maintenance', 'installing', 'rebooting', 'running', 'configured']);

/** Waits until every node answers in Talos maintenance mode (or is already installed); pauses naming the rest. */
export async function awaitNodesBooted(
  deps: ActivityDeps,
  i: { cluster: string; provider: 'redfish' | 'manual' | 'none'; nodes: Array<{ name: string; address: string }> },
): Promise<{ stages: Record<string, string> }> {
  // A node seen booted stays booted for this check: one lost probe on a flaky link is not a node that went away.
  const seen = new Set<string>();
  let stages: Record<string, string> = {};
  const waiting = () => i.nodes.filter((n) => !seen.has(n.name));
  const booted = await pollWithin(
    deps.pollBudgetMs,
    pollInterval(deps),
    `${i.cluster}: nodes in maintenance mode`,
    async () => {
      const pending = waiting();
      stages = Object.fromEntries(await Promise.all(pending.map(async (n) => [n.name, (await nodeStage(deps, { address: n.address })).stage] as const)));
      for (const n of pending) if (BOOTED.has(stages[n.name] ?? '')) seen.add(n.name);
      return waiting().length === 0 ? { stages: Object.fromEntries(i.nodes.map((n) => [n.name, stages[n.name] ?? 'booted'])) } : undefined;
    },
    () => ({ waiting: waiting().map((n) => n.name) }),
  );
  if (booted) return booted;
  const names = waiting().map((n) => `${n.name} (${n.address}: ${stages[n.name]})`).join(', ');
  const hint =
    i.provider === 'manual'
      ? 'boot these nodes from the Talos ISO or PXE (boot provider manual), then resume'
      : i.provider === 'none'
        ? 'boot provider none expects nodes already running the Talos installer: check power, cabling and the node address'
        : 'the BMC accepted the boot request but the node never answered on :50000: check the ISO URL is reachable from the BMC, the boot order and the node network';
  throw blocked({ reason: `waiting for ${waiting().length} node(s) to reach Talos maintenance mode: ${names}`, hint, evidence: stages });
}

/** A tenth of the budget, between 100 ms and 1 s: short budgets (the lab) still get several checks. */
const pollInterval = (deps: ActivityDeps) => Math.min(1_000, Math.max(100, deps.pollBudgetMs / 10));

/** The canary global service must see backends from the other clusters, or global services will not fail over. */
export async function verifyGlobalCanary(
  deps: ActivityDeps,
  i: { cluster: string; kubeconfigRef: string; namespace: string; name: string; remotePodCidrs: string[] },
): Promise<{ local: number; remote: number }> {
  let last = { local: 0, remote: 0 };
  const seen = await pollWithin(
    deps.pollBudgetMs,
    pollInterval(deps),
    `${i.cluster}: remote backends of ${i.namespace}/${i.name}`,
    async () => {
      last = await globalServiceBackends(deps, i);
      return last.remote > 0 ? last : undefined;
    },
    () => last,
  );
  if (seen) return seen;
  throw blocked({
    reason: `${i.cluster}: global service ${i.namespace}/${i.name} has ${last.local} local and no remote backends`,
    hint: 'check `cilium clustermesh status` on both sides, that the Service exists with service.cilium.io/global: "true" in every cluster, and that the pods are ready',
    evidence: last,
  });
}
