import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { mergeValues } from '../blueprint/render/step-artifacts.ts';
import { toYaml } from '../blueprint/render/yaml.ts';
import { fatal } from '../contracts/failures.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { redact } from '../secrets/redact.ts';
import { runTool } from './exec/run-tool.ts';
import { withSecretDir } from './exec/secret-scratch.ts';
import { withKubeconfig, type KubeAccess } from './kube/kubeconfig.ts';
import { callTool, classify, parseJson } from './kube/tool-call.ts';
import { helmArgv, NS, RELEASE } from './helm/argv.ts';

/**
 * Helm side of Cilium: the release's state, an idempotent install/upgrade that recovers a release an
 * interrupted run left pending, and the mesh-wide CA every cluster's values share.
 */

type Values = Record<string, unknown>;

/** helm history -o json (cmd/helm/history.go releaseInfo) */
const historySchema = z.array(
  z.object({ revision: z.number().int(), status: z.string(), chart: z.string(), app_version: z.string().optional(), description: z.string().optional() }),
);
type History = z.infer<typeof historySchema>;

const chartVersionOf = (chart: string) => /-(\d+\.\d+\.\d+\S*)$/.exec(chart)?.[1];
const PENDING = new Set(['pending-install', 'pending-upgrade', 'pending-rollback']);

async function history(deps: ActivityDeps, access: KubeAccess, release: string, namespace: string): Promise<History> {
  const r = await callTool(deps, 'helm', helmArgv.history(release, namespace), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/release: not found/.test(r.stderr)) return [];
    throw classify(r, `helm history ${release}`);
  }
  const parsed = historySchema.safeParse(parseJson(r));
  if (!parsed.success) throw fatal(`helm history ${release} -o json has an unexpected shape: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function helmRelease(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; release: string; namespace: string },
): Promise<{ status: string; revision: number; chartVersion?: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    const h = await history(deps, access, i.release, i.namespace);
    const last = h[h.length - 1];
    if (!last) return { status: 'absent', revision: 0 };
    const chartVersion = chartVersionOf(last.chart);
    return { status: last.status, revision: last.revision, ...(chartVersion ? { chartVersion } : {}) };
  });
}

/** Every string leaf of the secret values files: redacted from anything helm prints back. */
function stringLeaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string' && v.length >= 8) out.push(v);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringLeaves(x, out);
  return out;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)]));
  return v;
}

/**
 * Recovers a release stuck in pending-* (an install/upgrade whose helm process died): roll back to the last
 * good revision, or uninstall when there never was one. Meshpilot runs one helm operation per cluster at a
 * time and kills helm when the activity is cancelled, so a pending release at this point is orphaned.
 */
async function recoverPending(deps: ActivityDeps, access: KubeAccess, h: History): Promise<'rolled-back' | 'uninstalled'> {
  const good = [...h].reverse().find((r) => r.status === 'deployed' || r.status === 'superseded');
  const args = good ? helmArgv.rollback(good.revision) : helmArgv.uninstall();
  const r = await callTool(deps, 'helm', args, { env: access.env, timeoutMs: 300_000 });
  if (r.exitCode !== 0 && !(!good && /release: not found/.test(r.stderr))) throw classify(r, `helm ${args[0]} of the stuck ${RELEASE} release`);
  return good ? 'rolled-back' : 'uninstalled';
}

export async function ensureCilium(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; chartVersion: string; values: Record<string, unknown>; secretValuesRefs?: string[] },
): Promise<{ action: 'installed' | 'upgraded' | 'unchanged' | 'recovered'; revision: number }> {
  if (!/^\d+\.\d+\.\d+$/.test(i.chartVersion)) throw fatal(`chartVersion ${JSON.stringify(i.chartVersion)} is not a chart version like 1.16.6`);
  const secretDocs: Values[] = [];
  for (const ref of i.secretValuesRefs ?? []) {
    const doc = parse((await deps.secrets.get(ref)).toString('utf8')) as Values | null;
    if (!doc || typeof doc !== 'object') throw fatal(`secret values ${ref} is not a YAML map`);
    secretDocs.push(doc);
  }
  const secrets = secretDocs.flatMap((d) => stringLeaves(d));
  let values = i.values;
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    let h = await history(deps, access, RELEASE, NS);
    let recovered = false;
    if (h.length && PENDING.has(h[h.length - 1]!.status)) {
      await recoverPending(deps, access, h);
      recovered = true;
      h = await history(deps, access, RELEASE, NS);
    }
    const last = h[h.length - 1];
    if (last?.status === 'deployed') {
      const r = await callTool(deps, 'helm', helmArgv.getValues(), { env: access.env, secrets, retries: 2 });
      if (r.exitCode !== 0) throw classify(r, 'helm get values cilium');
      const deployed = (parseJson(r) ?? {}) as Values;
      // upgradeCompatibility records the minor Cilium was first installed at (set by meshpilot upgrade): a later
      // change that does not name it keeps it, or the ConfigMap would switch to the new minor's defaults.
      if (typeof deployed.upgradeCompatibility === 'string' && values.upgradeCompatibility === undefined) {
        values = { ...values, upgradeCompatibility: deployed.upgradeCompatibility };
      }
      if (chartVersionOf(last.chart) === i.chartVersion) {
        // Both sides go through the same redaction, so secret values compare without ever being logged.
        const current = JSON.stringify(canonical(deployed));
        const want = JSON.stringify(canonical(JSON.parse(redact(JSON.stringify(mergeValues(values, ...secretDocs)), secrets))));
        if (current === want) return { action: recovered ? 'recovered' : 'unchanged', revision: last.revision };
      }
    }
    // The blueprint's values are no secret: a file in the worker's scratch space, in the same serialisation as
    // `meshpilot plan --out` writes (the plan's file is this file, byte for byte). The values holding key material
    // (the mesh CA) reach helm through stdin (`--values -`, merged after the file as a later -f would be) and never
    // touch a disk.
    return withSecretDir(async (dir) => {
      const valuesFile = path.join(dir, 'values.yaml');
      await writeFile(valuesFile, toYaml(values), { mode: 0o600 });
      const secretValues = secretDocs.length ? stringify(mergeValues(...secretDocs)) : undefined;
      const args = helmArgv.install(i.chartVersion, valuesFile, secretValues !== undefined);
      const r = await runTool(deps.tools, 'helm', args, { env: access.env, secrets, input: secretValues, timeoutMs: 330_000 });
      if (r.exitCode !== 0) throw classify(r, `helm upgrade --install cilium ${i.chartVersion}`, 'check the values against the chart (helm template) and the cluster (kubectl get nodes)');
      const revision = z.object({ version: z.number().int() }).safeParse(parseJson(r));
      if (!revision.success) throw fatal('helm upgrade -o json printed no release version');
      return { action: recovered ? 'recovered' : last && last.status !== 'uninstalled' ? 'upgraded' : 'installed', revision: revision.data.version };
    });
  });
}

/**
 * The ClusterMesh CA, generated once for the whole mesh and stored as a Helm values file (`tls.ca`, base64
 * PEM, chart templates/cilium-ca-secret.yaml): every cluster's agents then trust every clustermesh-apiserver.
 */
export async function ensureMeshCa(deps: ActivityDeps, i: { mesh: string }): Promise<{ caRef: string }> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(i.mesh)) throw fatal(`mesh name ${JSON.stringify(i.mesh)} is not a lower-case name`);
  return { caRef: await createMeshCa(deps, i.mesh, secretRefs.meshCa(i.mesh)) };
}

/**
 * A new ClusterMesh CA under `caRef` unless one is there (a rotation's next CA as well as the first one). The private
 * key exists as a file only in the RAM-backed scratch, for the length of this call.
 */
export async function createMeshCa(deps: ActivityDeps, mesh: string, caRef: string): Promise<string> {
  if (await deps.secrets.has(caRef)) return caRef;
  return withSecretDir(async (dir) => {
    const key = path.join(dir, 'ca.key');
    const crt = path.join(dir, 'ca.crt');
    const r = await runTool(deps.tools, 'openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', crt, '-days', '3650', '-subj', `/CN=Cilium CA ${mesh}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ], { timeoutMs: 30_000 });
    if (r.exitCode !== 0) throw classify(r, 'openssl req (mesh CA)', 'install openssl on the worker');
    const b64 = async (f: string) => (await readFile(f)).toString('base64');
    const doc = stringify({ tls: { ca: { cert: await b64(crt), key: await b64(key) } } });
    // ifAbsent: two racing attempts keep the first CA, never replace one clusters already trust
    await deps.secrets.put(caRef, doc, { ifAbsent: true });
    return caRef;
  });
}

const meshPeersSchema = z.object({
  clustermesh: z.object({ config: z.object({ clusters: z.array(z.object({ name: z.string() }).passthrough()).optional() }).passthrough().optional() }).passthrough().optional(),
});

/**
 * Drops clusters from the cilium release's peer list (`clustermesh.config.clusters`) and keeps everything else:
 * `helm upgrade --reuse-values` at the deployed chart version with a values file holding only the new list (Helm
 * replaces lists whole). What cilium-cli 0.16 `clustermesh disconnect` does (clustermesh.go DisconnectWithHelm),
 * per cluster and idempotent: a release that no longer lists them is left alone, so its agents do not roll again.
 * `drop: 'all'` empties the list (a detached cluster on its own).
 */
export async function removeMeshPeers(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; drop: string[] | 'all' },
): Promise<{ action: 'removed' | 'unchanged'; removed: string[]; kept: string[]; revision: number }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    let h = await history(deps, access, RELEASE, NS);
    if (h.length && PENDING.has(h[h.length - 1]!.status)) {
      await recoverPending(deps, access, h);
      h = await history(deps, access, RELEASE, NS);
    }
    const last = [...h].reverse().find((r) => r.status === 'deployed');
    const chartVersion = last && chartVersionOf(last.chart);
    if (!last || !chartVersion) throw fatal('the cilium release has no deployed revision to change the peer list of', 'check `helm history cilium -n kube-system`');
    const r = await callTool(deps, 'helm', helmArgv.getValues(), { env: access.env, retries: 2 });
    if (r.exitCode !== 0) throw classify(r, 'helm get values cilium');
    const entries = meshPeersSchema.parse(parseJson(r) ?? {}).clustermesh?.config?.clusters ?? [];
    const drops = (name: string) => i.drop === 'all' || i.drop.includes(name);
    const kept = entries.filter((e) => !drops(e.name));
    const removed = entries.filter((e) => drops(e.name)).map((e) => e.name);
    if (removed.length === 0) return { action: 'unchanged', removed, kept: kept.map((e) => e.name), revision: last.revision };
    // entries written by `cilium clustermesh connect` across different CAs embed client certificates: redact them
    const secrets = stringLeaves(kept);
    // the RAM-backed scratch: the kept entries may hold key material
    return withSecretDir(async (dir) => {
      const file = path.join(dir, 'peers.yaml');
      await writeFile(file, stringify({ clustermesh: { config: { clusters: kept } } }), { mode: 0o600 });
      const args = helmArgv.reuseValues(chartVersion, file);
      const up = await runTool(deps.tools, 'helm', args, { env: access.env, secrets, timeoutMs: 330_000 });
      if (up.exitCode !== 0) throw classify(up, `helm upgrade cilium --reuse-values (peers without ${removed.join(', ')})`);
      const revision = z.object({ version: z.number().int() }).safeParse(parseJson(up));
      if (!revision.success) throw fatal('helm upgrade -o json printed no release version');
      return { action: 'removed' as const, removed, kept: kept.map((e) => e.name), revision: revision.data.version };
    });
  });
}
