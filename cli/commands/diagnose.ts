// `meshpilot diagnose lb NAMESPACE/NAME --kubeconfig FILE`: why a LoadBalancer Service is <pending> (or has an
// address nobody announces), for any Service on any cluster, read-only, with the diagnosis the rollout uses.
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { z } from 'zod';
import { diagnoseLoadBalancer, type LbVerdict } from '../../activities/kube/lb-diagnosis.ts';
import { gatherLbFacts } from '../../activities/kube/lb-facts.ts';
import { CliError, colors, printJson, type CliIO } from '../io.ts';

/** What `diagnose lb --json` prints; `ok` is true when the Service has an address that something announces. */
export const lbDiagnosisSchema = z.object({
  ok: z.boolean(),
  address: z.string().optional(),
  reason: z.string(),
  hint: z.string(),
  evidence: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});
export type LbDiagnosis = z.infer<typeof lbDiagnosisSchema>;

export function lbDiagnosis(v: LbVerdict, target: string): LbDiagnosis {
  if (v.ok) {
    return lbDiagnosisSchema.parse({
      ok: true,
      address: v.address,
      reason: v.summary,
      hint: '',
      evidence: { service: target, address: v.address, ...(v.announcedBy ? { announcedBy: v.announcedBy } : {}) },
    });
  }
  return lbDiagnosisSchema.parse({ ok: false, ...(v.address ? { address: v.address } : {}), reason: v.details.reason, hint: v.details.hint, evidence: v.details.evidence ?? {} });
}

// Service names are DNS-1035 labels, namespaces DNS-1123 labels (k8s.io/apimachinery validation).
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVICE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export interface LbTarget {
  namespace: string;
  name: string;
}

export function parseTarget(text: string): LbTarget {
  const [namespace, name, extra] = text.split('/');
  if (extra !== undefined || !namespace || !name) throw new CliError(`"${text}" is not NAMESPACE/NAME (e.g. kube-system/clustermesh-apiserver)`, 2);
  if (namespace.length > 63 || !NAMESPACE.test(namespace)) throw new CliError(`namespace "${namespace}" is not a valid Kubernetes namespace name`, 2);
  if (name.length > 63 || !SERVICE.test(name)) throw new CliError(`"${name}" is not a valid Service name`, 2);
  return { namespace, name };
}

const kubeconfigShape = z.object({
  'current-context': z.string().optional(),
  contexts: z.array(z.object({ name: z.string() })),
});

/** Checks the kubeconfig file and the context without ever printing the file's content (it holds credentials). */
export async function checkKubeconfig(file: string, context?: string): Promise<{ file: string; context: string }> {
  const abs = path.resolve(file);
  try {
    await access(abs, constants.R_OK);
  } catch {
    throw new CliError(`--kubeconfig ${file}: no such readable file`, 2);
  }
  let doc: z.infer<typeof kubeconfigShape>;
  try {
    const parsed = kubeconfigShape.safeParse(parse(await readFile(abs, 'utf8')));
    if (!parsed.success) throw new Error('not a kubeconfig');
    doc = parsed.data;
  } catch {
    throw new CliError(`--kubeconfig ${file}: not a kubeconfig (YAML with contexts)`, 2);
  }
  const names = doc.contexts.map((c) => c.name);
  if (context !== undefined) {
    if (!names.includes(context)) throw new CliError(`--context ${context}: no such context in ${file} (contexts: ${names.join(', ') || 'none'})`, 2);
    return { file: abs, context };
  }
  const current = doc['current-context'];
  if (!current) throw new CliError(`--kubeconfig ${file} has no current-context: pick one with --context (contexts: ${names.join(', ') || 'none'})`, 2);
  return { file: abs, context: current };
}

function render(io: CliIO, target: string, d: LbDiagnosis): string {
  const c = colors(io);
  const head = d.ok ? `${c.green('ok')}      ${target}  ${d.address}` : `${c.red(d.address ? 'not ok' : 'pending')}  ${target}${d.address ? `  ${d.address}` : ''}`;
  const lines = [head, `  ${d.reason}`];
  if (d.hint) lines.push(`  hint: ${d.hint.replace(/\n/g, '\n        ')}`);
  const ev = Object.entries(d.evidence).filter(([k]) => k !== 'service');
  if (!d.ok && ev.length) lines.push('  evidence:', ...ev.map(([k, v]) => `    ${k}: ${v}`));
  return `${lines.join('\n')}\n`;
}

export async function diagnoseLb(io: CliIO, targetText: string, opts: { kubeconfig?: string; context?: string; json?: boolean }): Promise<LbDiagnosis> {
  const target = parseTarget(targetText);
  if (!opts.kubeconfig) throw new CliError('--kubeconfig FILE is required (the cluster to read)', 2);
  const kc = await checkKubeconfig(opts.kubeconfig, opts.context);
  const deps = { tools: { env: { ...io.env }, cwd: process.cwd() } };
  const accessToCluster = { env: { KUBECONFIG: kc.file }, contexts: [kc.context], ...(opts.context ? { context: opts.context } : {}) };
  let facts;
  try {
    facts = await gatherLbFacts(deps, accessToCluster, target.namespace, target.name);
  } catch (err) {
    throw new CliError(
      `cannot read the cluster of context ${kc.context}: ${(err as Error).message}`,
      1,
      "check that the kubeconfig's server is reachable and its credentials are valid (kubectl get services -A)",
    );
  }
  const id = `${target.namespace}/${target.name}`;
  const d = lbDiagnosis(diagnoseLoadBalancer(facts, target), id);
  if (opts.json) printJson(io, d);
  else io.out(render(io, id, d));
  io.exitCode = d.ok ? 0 : 1;
  return d;
}

export function register(program: Command, io: CliIO): void {
  const diagnose = program.command('diagnose').description('explain what blocks a part of a cluster (read-only)');
  diagnose
    .command('lb')
    .description('why a LoadBalancer Service has no address, or one nobody announces: exit 0 when it has an announced address, 1 when not, 2 on bad input')
    .argument('<namespace/name>', 'the Service, e.g. kube-system/clustermesh-apiserver')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (read, never printed)')
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option('--json', 'print {ok, address?, reason, hint, evidence} as JSON')
    // a usage error is bad input: exit 2, like every other input error of this command
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
    })
    .action(async (target: string, opts: { kubeconfig?: string; context?: string; json?: boolean }) => {
      await diagnoseLb(io, target, opts);
    });
}
