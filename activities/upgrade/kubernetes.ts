// Kubernetes through Talos: `talosctl upgrade-k8s` patches every control plane's static pods and every kubelet; it is
// idempotent itself (components already at the version are skipped), and meshpilot skips it when nothing is behind.
import { blocked, fatal, transient } from '../../contracts/failures.ts';
import { activityAttempt } from '../context.ts';
import type { ActivityDeps } from '../deps.ts';
import { withKubeconfig, type KubeAccess } from '../kube/kubeconfig.ts';
import { pollWithin } from '../poll.ts';
import { talosctl } from '../talos.ts';
import { nodeArgv } from '../talos/argv.ts';
import { stderrTail, talosFailure, talosProblem, UNREACHABLE_TRANSIENT_ATTEMPTS } from '../talos/problems.ts';
import { withSecretFile } from '../talos/secret-files.ts';
import { readKubernetes, type KubeFacts } from './reads.ts';

export interface UpgradeKubernetesInput {
  cluster: string;
  /** no v */
  to: string;
  controlPlanes: Array<{ name: string; address: string }>;
  talosconfigRef: string;
  kubeconfigRef: string;
}

const cmp = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.replace(/^v/, '').split('.').map(Number));
  return x![0]! - y![0]! || x![1]! - y![1]! || x![2]! - y![2]!;
};

/** Every component behind the target, as `name version`. */
function behind(k: KubeFacts, to: string): string[] {
  const out: string[] = [];
  if (!k.server || cmp(k.server, to) !== 0) out.push(`kube-apiserver ${k.server ?? 'unknown'}`);
  for (const [name, n] of Object.entries(k.nodes)) if (!n.kubelet || cmp(n.kubelet, to) !== 0) out.push(`kubelet on ${name} ${n.kubelet ?? 'unknown'}`);
  return out;
}

const lowest = (k: KubeFacts) => [k.server, ...Object.values(k.nodes).map((n) => n.kubelet)].filter((v): v is string => Boolean(v)).reduce((a, b) => (cmp(b, a) < 0 ? b : a));

export async function upgradeKubernetes(deps: ActivityDeps, i: UpgradeKubernetesInput): Promise<{ upgraded: boolean; from: string; to: string }> {
  const read = (access: KubeAccess) => readKubernetes(deps, access);
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    const before = await read(access);
    const from = lowest(before);
    if (behind(before, i.to).length === 0) return { upgraded: false, from, to: i.to };
    await withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
      // through the first control plane that answers: upgrade-k8s reaches the others through it
      let last = '';
      for (const cp of i.controlPlanes) {
        const r = await talosctl(
          deps,
          nodeArgv.upgradeK8s(cp.address, file, from, i.to),
          secrets,
          45 * 60_000,
        );
        if (r.exitCode === 0) return;
        last = stderrTail(r);
        if (/unsupported upgrade path/.test(r.stderr)) {
          throw fatal(`talosctl upgrade-k8s refuses ${from} → ${i.to} in ${i.cluster}: ${last}`, 'upgrade Kubernetes one minor at a time (a blueprint revision per minor)');
        }
        const p = talosProblem(r);
        if (p === 'unreachable' || p === 'timeout') continue;
        if (/error updating node|failed updating service|failed upgrading kubelet/.test(r.stderr)) {
          throw blocked({
            reason: `talosctl upgrade-k8s stopped in ${i.cluster}: ${last}`,
            hint: 'a node it had to patch did not answer or did not come back: check it (talosctl get machinestatus, kubectl get nodes), then resume; upgrade-k8s skips what is already upgraded',
            evidence: { cluster: i.cluster, from, to: i.to, error: last },
          });
        }
        throw talosFailure(`talosctl upgrade-k8s ${from} → ${i.to} in ${i.cluster}`, r);
      }
      if (activityAttempt() < UNREACHABLE_TRANSIENT_ATTEMPTS) throw transient(`no control plane of ${i.cluster} answered talosctl upgrade-k8s: ${last}`);
      throw blocked({
        reason: `no control plane of ${i.cluster} answers on the Talos API, so Kubernetes cannot be upgraded`,
        hint: 'check the control planes (power, network), then resume',
        evidence: { cluster: i.cluster, error: last },
      });
    });
    let now = before;
    const ok = await pollWithin(deps.pollBudgetMs, Math.max(100, Math.min(2_000, deps.pollBudgetMs / 20)), `${i.cluster}: Kubernetes at ${i.to}`, async () => {
      now = await read(access);
      return behind(now, i.to).length === 0 && Object.values(now.nodes).every((n) => n.ready) ? true : undefined;
    });
    if (ok) return { upgraded: true, from, to: i.to };
    const left = behind(now, i.to);
    const notReady = Object.entries(now.nodes).filter(([, n]) => !n.ready).map(([name]) => name);
    throw blocked({
      reason: `Kubernetes in ${i.cluster} is not at ${i.to} everywhere after talosctl upgrade-k8s: ${[...left, ...notReady.map((n) => `${n} not Ready`)].join(', ')}`,
      hint: 'check the static pods and kubelets (kubectl get nodes -o wide; talosctl -n NODE service kubelet), then resume: upgrade-k8s is re-run for what is still behind',
      evidence: { cluster: i.cluster, behind: left.join('; ').slice(0, 300), notReady: notReady.join(',') },
    });
  });
}
