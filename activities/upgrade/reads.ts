// The live facts an upgrade reads again and again (a node's Talos version and stage, the Kubernetes versions, the
// Cilium images): one reader each, used by the survey, the steps that act and the checks after them.
import { z } from 'zod';
import { transient } from '../../contracts/failures.ts';
import type { ActivityDeps } from '../deps.ts';
import type { KubeAccess } from '../kube/kubeconfig.ts';
import { callTool, classify, parseJson } from '../kube/tool-call.ts';
import { talosctl, type NodeStage } from '../talos.ts';
import { nodeArgv } from '../talos/argv.ts';
import { machineStatusSchema, parseJsonStream } from '../talos/parse.ts';
import { stderrTail, talosFailure, talosProblem } from '../talos/problems.ts';

export interface TalosConfigFile {
  file: string;
  secrets: string[];
}

export interface NodeFacts {
  /** `unreachable` when nothing answers on the Talos API */
  stage: NodeStage;
  /** the machine status is ready (services, static pods, kubelet's node Ready) */
  ready: boolean;
  /** v-prefixed, when it answered */
  talos?: string;
  /** the last error when it did not answer */
  error?: string;
}

const KNOWN: ReadonlySet<string> = new Set(['maintenance', 'installing', 'booting', 'running', 'upgrading', 'rebooting']);

/**
 * `talosctl version` and `talosctl get machinestatus` on one node, through its own apid. A node that does not answer
 * (rebooting, powered off) is `unreachable`, not an error.
 */
export async function readNode(deps: ActivityDeps, address: string, tc: TalosConfigFile): Promise<NodeFacts> {
  const status = await talosctl(deps, nodeArgv.machineStatus(address, tc.file), tc.secrets);
  if (status.exitCode !== 0) {
    const p = talosProblem(status);
    if (p === 'unreachable' || p === 'timeout') return { stage: 'unreachable', ready: false, error: stderrTail(status) };
    throw talosFailure(`reading the machine status of ${address}`, status);
  }
  const doc = machineStatusSchema.safeParse(parseJsonStream(status.stdout)[0]);
  if (!doc.success) throw transient(`talosctl get machinestatus -n ${address} printed no machine status`);
  const stage = (KNOWN.has(doc.data.spec.stage) ? doc.data.spec.stage : 'unknown') as NodeStage;
  const ready = doc.data.spec.status?.ready === true;
  const version = await talosctl(deps, nodeArgv.version(address, tc.file), tc.secrets);
  if (version.exitCode !== 0) {
    const p = talosProblem(version);
    // it went down between the two calls: as good as unreachable now
    if (p === 'unreachable' || p === 'timeout') return { stage: 'unreachable', ready: false, error: stderrTail(version) };
    throw talosFailure(`talosctl version on ${address}`, version);
  }
  return { stage, ready, ...(serverTag(version.stdout) ? { talos: serverTag(version.stdout)! } : {}) };
}

/** The Tag of the Server block of `talosctl version` (pkg/machinery/version versionTemplate), v-prefixed. */
export function serverTag(stdout: string): string | undefined {
  const server = stdout.split(/^Server:\s*$/m)[1];
  const tag = server && /^\s*Tag:\s+(\S+)/m.exec(server)?.[1];
  return tag ? (tag.startsWith('v') ? tag : `v${tag}`) : undefined;
}

const nodesSchema = z.object({
  items: z.array(
    z.object({
      metadata: z.object({ name: z.string() }),
      status: z
        .object({
          nodeInfo: z.object({ kubeletVersion: z.string() }).partial().optional(),
          conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
        })
        .optional(),
    }),
  ),
});

export interface KubeFacts {
  /** kube-apiserver's version, no v */
  server?: string;
  /** per Kubernetes Node: kubelet version (no v) and Ready */
  nodes: Record<string, { kubelet?: string; ready: boolean }>;
}

/** `kubectl version -o json` (the API server) and `kubectl get nodes -o json` (every kubelet and its readiness). */
export async function readKubernetes(deps: ActivityDeps, access: KubeAccess): Promise<KubeFacts> {
  const v = await callTool(deps, 'kubectl', ['version', '-o', 'json'], { env: access.env, retries: 2 });
  if (v.exitCode !== 0) throw classify(v, 'kubectl version');
  const server = z.object({ serverVersion: z.object({ gitVersion: z.string() }).optional() }).safeParse(parseJson(v));
  const n = await callTool(deps, 'kubectl', ['get', 'nodes', '-o', 'json'], { env: access.env, retries: 2 });
  if (n.exitCode !== 0) throw classify(n, 'kubectl get nodes');
  const nodes = nodesSchema.safeParse(parseJson(n));
  if (!nodes.success) throw transient(`kubectl get nodes -o json has an unexpected shape: ${nodes.error.issues[0]?.message}`);
  const out: KubeFacts = { nodes: {} };
  const gitVersion = server.success ? server.data.serverVersion?.gitVersion : undefined;
  if (gitVersion) out.server = gitVersion.replace(/^v/, '').replace(/[-+].*$/, '');
  for (const item of nodes.data.items) {
    const kubelet = item.status?.nodeInfo?.kubeletVersion?.replace(/^v/, '').replace(/[-+].*$/, '');
    out.nodes[item.metadata.name] = {
      ...(kubelet ? { kubelet } : {}),
      ready: item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    };
  }
  return out;
}

const statusSchema = z.object({
  image_count: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  pod_state: z.record(z.string(), z.object({ Desired: z.number(), Ready: z.number() })).optional(),
  errors: z.record(z.string(), z.record(z.string(), z.object({ Disabled: z.boolean().optional(), Errors: z.array(z.unknown()).nullish() }))).optional(),
});

export interface CiliumFacts {
  /** versions the component's images carry (no v), e.g. cilium: ['1.16.19'] */
  versions: Record<string, string[]>;
  /** components not ready (`cilium 2/3`) */
  notReady: string[];
}

/** The version in an image reference (`quay.io/cilium/cilium:v1.16.19@sha256:…` → 1.16.19). */
export const imageVersion = (image: string): string | undefined => /:v?(\d+\.\d+\.\d+)/.exec(image.split('@')[0]!)?.[1];

/**
 * `cilium status -o json`: which image versions run per component and which components are not ready. cilium-cli
 * exits 1 with the JSON still on stdout when a component is not ready (status/status.go), so the JSON is read first.
 */
export async function readCilium(deps: ActivityDeps, access: KubeAccess): Promise<CiliumFacts> {
  const r = await callTool(deps, 'cilium', ['status', '-o', 'json'], { env: access.env, retries: 2 });
  if (!r.stdout.trim().startsWith('{')) throw classify(r, 'cilium status');
  const s = statusSchema.safeParse(parseJson(r));
  if (!s.success) throw transient(`cilium status -o json has an unexpected shape: ${s.error.issues[0]?.message}`);
  const versions: Record<string, string[]> = {};
  for (const [component, images] of Object.entries(s.data.image_count ?? {})) {
    versions[component] = [...new Set(Object.keys(images).map(imageVersion).filter((x): x is string => Boolean(x)))];
  }
  const notReady = Object.entries(s.data.pod_state ?? {})
    .filter(([, p]) => p.Ready < p.Desired)
    .map(([name, p]) => `${name} ${p.Ready}/${p.Desired}`);
  for (const [name, per] of Object.entries(s.data.errors ?? {})) {
    if (Object.values(per).some((e) => !e.Disabled && (e.Errors?.length ?? 0) > 0) && !notReady.some((x) => x.startsWith(`${name} `))) notReady.push(`${name} (errors)`);
  }
  return { versions, notReady };
}
