import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { agentStatus } from '../kube/agent-status.ts';
import { applyObject, parseManifests, resourceFor } from '../kube/apply.ts';
import { bool, FlagError, parseDuration, parseFlags, positionals, str, type FlagSpec } from '../kube/cobra.ts';
import { serviceList } from '../kube/mesh.ts';
import { findResource, qualifiedKind, qualifiedPlural, resourceByKind, type ResourceType } from '../kube/resources.ts';
import { onCluster, pollUntil, type Refusal } from '../kube/session.ts';
import { deleteObj, getObj, k8sLab, keyOf, labelQueryMatches, putObj, type KubeObject } from '../kube/store.ts';
import { KUBE_TIMING } from '../kube/timing.ts';
import { table } from '../kube/table.ts';
import { allObjects, podsOf, runningNodes } from '../kube/view.ts';
import type { LabCluster, LabState } from '../state.ts';
import { controlPlaneVersionOf } from '../talos/versions.ts';
import type { SimulatedTool, ToolIO } from './io.ts';
import { toolPath } from './call-context.ts';

/**
 * Simulated kubectl v1.32.3, the blueprints' Kubernetes pin (k8s.io/kubectl/pkg/cmd/{get,apply,delete,wait,scale,exec,version}). JSON output is
 * json.MarshalIndent with 4 spaces (k8s.io/cli-runtime/pkg/printers/json.go); errors go to stderr, exit 1.
 */
const GLOBAL: FlagSpec[] = [
  { name: 'kubeconfig', kind: 'string' },
  { name: 'context', kind: 'string' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'request-timeout', kind: 'string' },
  { name: 'v', short: 'v', kind: 'string' },
];
const COMMANDS: Record<string, FlagSpec[]> = {
  version: [
    { name: 'client', kind: 'bool' },
    { name: 'output', short: 'o', kind: 'string' },
  ],
  get: [
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'all-namespaces', short: 'A', kind: 'bool' },
    { name: 'selector', short: 'l', kind: 'string' },
    { name: 'ignore-not-found', kind: 'bool' },
    { name: 'show-labels', kind: 'bool' },
  ],
  apply: [
    { name: 'filename', short: 'f', kind: 'strings' },
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'server-side', kind: 'bool' },
    { name: 'force-conflicts', kind: 'bool' },
    { name: 'field-manager', kind: 'string' },
    { name: 'dry-run', kind: 'string' },
  ],
  delete: [
    { name: 'filename', short: 'f', kind: 'strings' },
    { name: 'ignore-not-found', kind: 'bool' },
    { name: 'wait', kind: 'bool' },
    { name: 'selector', short: 'l', kind: 'string' },
  ],
  wait: [
    { name: 'for', kind: 'string' },
    { name: 'timeout', kind: 'string' },
    { name: 'all', kind: 'bool' },
    { name: 'selector', short: 'l', kind: 'string' },
  ],
  scale: [
    { name: 'replicas', kind: 'int' },
    { name: 'current-replicas', kind: 'int' },
    { name: 'timeout', kind: 'string' },
  ],
  exec: [
    { name: 'container', short: 'c', kind: 'string' },
    { name: 'stdin', short: 'i', kind: 'bool' },
    { name: 'tty', short: 't', kind: 'bool' },
    { name: 'quiet', short: 'q', kind: 'bool' },
  ],
};

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;

function refusalText(r: Refusal): string {
  if (r.kind === 'kubeconfig') {
    // clientcmd's validation error; with no kubeconfig at all kubectl prints it as a configuration error
    if (r.noContext) return `${r.emptyConfig ? 'Error in configuration: ' : 'error: '}context was not found for specified context: ${r.message.match(/"(.*)"/)?.[1] ?? ''}\n`;
    return `error: ${r.message}\n`;
  }
  const hp = r.target?.hostPort ?? '127.0.0.1:8080';
  if (r.kind === 'flaky') return 'Unable to connect to the server: net/http: TLS handshake timeout\n';
  // staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go: the discovery errors memcache logs, then the summary line
  const url = `${r.target.server.replace(/\/$/, '')}/api?timeout=32s`;
  const line = `E1127 00:00:00.000000    4242 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: Get \\"${url}\\": dial tcp ${hp}: connect: connection refused"\n`;
  // the summary names the server as configured (localhost:8080), the dial error the address it resolved to
  const configured = r.target.server.replace(/^[a-z]+:\/\//, '').replace(/\/$/, '');
  return `${line.repeat(5)}The connection to the server ${configured} was refused - did you specify the right host or port?\n`;
}

const notFound = (r: ResourceType, name: string) => `Error from server (NotFound): ${qualifiedPlural(r)} "${name}" not found\n`;

/** `svc/x`, `crd/x`, `ds/cilium` or `svc x`: kubectl's resource/name argument forms. */
function splitTarget(args: string[]): { type: string; name?: string } | undefined {
  const [first, second] = args;
  if (!first) return undefined;
  if (first.includes('/')) {
    const [type, name] = first.split('/');
    return { type: type!, name };
  }
  return { type: first, name: second };
}

export const kubectl: SimulatedTool = async (io) => {
  const cmd = positionals(io.argv, [...GLOBAL, ...Object.values(COMMANDS).flat()])[0];
  if (!cmd) {
    io.out('kubectl controls the Kubernetes cluster manager.\n\n Find more information at: https://kubernetes.io/docs/reference/kubectl/\n');
    return 0;
  }
  const specs = COMMANDS[cmd];
  if (!specs) {
    io.err(`Error: unknown command "${cmd}" for "kubectl"\nRun 'kubectl --help' for usage.\n`);
    return 1;
  }
  let parsed;
  try {
    parsed = parseFlags(io.argv, [...GLOBAL, ...specs]);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.err(`Error: ${err.message}\nSee 'kubectl ${cmd} --help' for usage.\n`);
    return 1;
  }
  const { flags, dashArgs } = parsed;
  const args = parsed.args.slice(1);
  const ns = str(flags, 'namespace') ?? 'default';
  const open = { tool: 'kubectl', kubeconfig: str(flags, 'kubeconfig'), context: str(flags, 'context'), env: io.env };

  if (cmd === 'version') {
    // staging/src/k8s.io/kubectl/pkg/cmd/version/version.go (+ k8s.io/apimachinery/pkg/version.Info)
    // the pinned v1.32.3 release: its tag commit and build, Go from the tree's .go-version (1.23.6), kustomize from
    // go.mod (sigs.k8s.io/kustomize/kustomize/v5 v5.5.0)
    const info = {
      clientVersion: {
        major: '1',
        minor: '32',
        gitVersion: 'v1.32.3',
        gitCommit: '32cc146f75aad04beaaa245a7157eb35063a9f99',
        gitTreeState: 'clean',
        buildDate: '2025-03-11T19:52:21Z',
        goVersion: 'go1.23.6',
        compiler: 'gc',
        platform: 'linux/amd64',
      },
      kustomizeVersion: 'v5.5.0',
    };
    const out = str(flags, 'output');
    if (!bool(flags, 'client')) {
      // the server's version: kube-apiserver's /version (k8s.io/apimachinery/pkg/version.Info), as `talosctl upgrade-k8s` left it
      const r = await onCluster(io.labDir, open, (state, c) => controlPlaneVersionOf(state, c.name));
      if (!r.ok) {
        // version.go prints the client's part, then the error getting the server's
        if (out === 'json' || out === 'yaml') io.out(out === 'json' ? `${JSON.stringify(info, null, 2)}\n` : stringify(info));
        else io.out('Client Version: v1.31.4\nKustomize Version: v5.4.2\n');
        io.err(refusalText(r.refusal));
        return 1;
      }
      const [major, minor] = r.value.split('.');
      const serverVersion = {
        major,
        minor,
        gitVersion: `v${r.value}`,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-03-11T19:52:32Z',
        goVersion: 'go1.23.6',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
      const all = { ...info, serverVersion };
      if (out === 'json') io.out(`${JSON.stringify(all, null, 2)}\n`);
      else if (out === 'yaml') io.out(stringify(all));
      else io.out(`Client Version: v1.31.4\nKustomize Version: v5.4.2\nServer Version: v${r.value}\n`);
      return 0;
    }
    if (out === 'json') io.out(`${JSON.stringify(info, null, 2)}\n`);
    else if (out === 'yaml') io.out(stringify(info));
    else io.out(`Client Version: v1.32.3\nKustomize Version: v5.5.0\n`);
    return 0;
  }

  if (cmd === 'get') return get(io, open, args, flags, ns);
  if (cmd === 'apply') return apply(io, open, flags, ns);
  if (cmd === 'delete') return del(io, open, args, flags, ns);
  if (cmd === 'wait') return wait(io, open, args, flags, ns);
  if (cmd === 'scale') return scale(io, open, args, flags, ns);
  return exec(io, open, args, dashArgs, flags, ns);
};

type Open = { tool: string; kubeconfig?: string; context?: string; env: NodeJS.ProcessEnv };
type Flags = ReturnType<typeof parseFlags>['flags'];

async function get(io: ToolIO, open: Open, args: string[], flags: Flags, ns: string): Promise<number> {
  const t = splitTarget(args);
  if (!t) {
    io.err('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\n');
    return 1;
  }
  const all = bool(flags, 'all-namespaces');
  const output = str(flags, 'output');
  const res = await onCluster(io.labDir, open, (state, c, now) => {
    const r = findResource(t.type);
    if (!r || (r.crd && !resourceFor(c, `${r.group}/${r.version}`, r.kind, now))) return { err: `error: the server doesn't have a resource type "${t.type}"\n` };
    // the apiserver lists in storage key order: namespace, then name
    const objs = allObjects(state, c, now)
      .filter((o) => o.kind === r.kind && (!r.namespaced || all || o.metadata.namespace === ns) && labelQueryMatches(str(flags, 'selector'), o.metadata.labels ?? {}))
      .sort((a, b) => byteOrder(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || byteOrder(a.metadata.name, b.metadata.name));
    if (t.name) {
      const o = objs.find((x) => x.metadata.name === t.name);
      if (!o) return bool(flags, 'ignore-not-found') ? { text: '' } : { err: notFound(r, t.name) };
      return { text: render(r, [o], output, now, false, true) };
    }
    if (!objs.length && !output) return { err: r.namespaced && !all ? `No resources found in ${ns} namespace.\n` : 'No resources found\n', code: 0 };
    return { text: render(r, objs, output, now, all && r.namespaced, false) };
  });
  if (!res.ok) return fail(io, res.refusal);
  const v = res.value;
  if ('err' in v && v.err) {
    io.err(v.err);
    return v.code ?? 1;
  }
  io.out((v as { text: string }).text);
  return 0;
}

/** Custom resources are unstructured maps to the apiserver, and Go marshals maps with sorted keys. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => byteOrder(a, b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

function render(r: ResourceType, found: KubeObject[], output: string | undefined, now: number, withNs: boolean, single: boolean): string {
  const objs = r.crd && (output === 'json' || output === 'yaml') ? (found.map(sortKeys) as KubeObject[]) : found;
  const list = { apiVersion: 'v1', items: objs, kind: 'List', metadata: { resourceVersion: '' } };
  if (output === 'json') return json(single ? objs[0] : list);
  if (output === 'yaml') return stringify(single ? objs[0] : list);
  if (output === 'name') return objs.map((o) => `${qualifiedKind(r)}/${o.metadata.name}\n`).join('');
  if (output && output !== 'wide') return `error: unable to match a printer suitable for the output format "${output}"`;
  return table(r.kind, objs, now, withNs);
}

function fail(io: ToolIO, r: Refusal): number {
  io.err(refusalText(r));
  return 1;
}

async function readSources(io: ToolIO, files: string[]): Promise<{ source: string; text: string }[]> {
  const out: { source: string; text: string }[] = [];
  for (const f of files) out.push({ source: f === '-' ? 'STDIN' : f, text: f === '-' ? await io.stdin() : readFileSync(toolPath(f), 'utf8') });
  return out;
}

async function apply(io: ToolIO, open: Open, flags: Flags, ns: string): Promise<number> {
  const files = (flags.filename as string[] | undefined) ?? [];
  if (!files.length) {
    io.err('error: must specify one of -f and -k\n');
    return 1;
  }
  // --dry-run=server: every server-side check, nothing stored; client: only what kubectl checks itself
  const dryRun = str(flags, 'dry-run') ?? 'none';
  if (!['none', 'server', 'client'].includes(dryRun)) {
    io.err(`error: Invalid dry-run value (${dryRun}). Must be "none", "server", or "client".\n`);
    return 1;
  }
  let sources;
  try {
    sources = await readSources(io, files);
  } catch (err) {
    io.err(`error: the path "${files[0]}" does not exist\n`);
    return 1;
  }
  const res = await onCluster(io.labDir, open, (state, c, now) => {
    const lines: { ok: boolean; text: string }[] = [];
    for (const s of sources) {
      let objs: KubeObject[];
      try {
        objs = parseManifests(s.text);
      } catch (err) {
        lines.push({ ok: false, text: `error: error parsing ${s.source}: ${(err as Error).message}` });
        continue;
      }
      for (const o of objs) {
        if (dryRun === 'client') {
          const r = resourceByKind(o.apiVersion, o.kind);
          lines.push({ ok: true, text: `${r ? qualifiedKind(r) : o.kind.toLowerCase()}/${o.metadata?.name} created (dry run)` });
        } else lines.push(applyObject(state, c, o, ns, s.source, now, dryRun === 'server' ? 'server' : undefined));
      }
    }
    return lines;
  });
  if (!res.ok) return fail(io, res.refusal);
  for (const l of res.value.filter((x) => x.ok)) io.out(`${l.text}\n`);
  const errors = res.value.filter((x) => !x.ok);
  for (const l of errors) io.err(`${l.text}\n`);
  return errors.length ? 1 : 0;
}

async function del(io: ToolIO, open: Open, args: string[], flags: Flags, ns: string): Promise<number> {
  const files = (flags.filename as string[] | undefined) ?? [];
  const sources = files.length ? await readSources(io, files) : [];
  const res = await onCluster(io.labDir, open, (_state, c, now) => {
    const targets: { r?: ResourceType; type: string; name: string; ns: string }[] = [];
    if (sources.length) {
      for (const s of sources) {
        for (const o of parseManifests(s.text)) {
          const r = resourceFor(c, o.apiVersion, o.kind, now);
          targets.push({ r, type: o.kind, name: o.metadata.name, ns: o.metadata.namespace ?? ns });
        }
      }
    } else {
      const t = splitTarget(args);
      if (!t?.name) return [{ ok: false, text: 'error: resource(s) were provided, but no name was specified' }];
      const r = findResource(t.type);
      targets.push({ r: r && (!r.crd || resourceFor(c, `${r.group}/${r.version}`, r.kind, now)) ? r : undefined, type: t.type, name: t.name, ns });
    }
    return targets.map((t) => {
      if (!t.r) return { ok: false, text: `error: the server doesn't have a resource type "${t.type}"` };
      const key = `${t.r.group ? `${t.r.group}/` : ''}${t.r.version}|${t.r.kind}|${t.r.namespaced ? t.ns : ''}|${t.name}`;
      if (deleteObj(c, key)) return { ok: true, text: `${qualifiedKind(t.r)} "${t.name}" deleted` };
      return bool(flags, 'ignore-not-found') ? { ok: true, text: '' } : { ok: false, text: notFound(t.r, t.name).trimEnd() };
    });
  });
  if (!res.ok) return fail(io, res.refusal);
  for (const l of res.value) if (l.ok && l.text) io.out(`${l.text}\n`);
  const errors = res.value.filter((x) => !x.ok);
  for (const l of errors) io.err(`${l.text}\n`);
  return errors.length ? 1 : 0;
}

/** staging/src/k8s.io/kubectl/pkg/cmd/wait/wait.go: `--for=condition=X[=value]`, default timeout 30s. */
async function wait(io: ToolIO, open: Open, args: string[], flags: Flags, ns: string): Promise<number> {
  const forArg = str(flags, 'for') ?? '';
  const m = /^condition=([^=]+)(?:=(.*))?$/.exec(forArg);
  if (!m) {
    io.err(`error: unrecognized condition: "${forArg}"\n`);
    return 1;
  }
  const [, condType, condValue = 'True'] = m;
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(str(flags, 'timeout') ?? '30s');
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n`);
    return 1;
  }
  const t = splitTarget(args);
  if (!t?.name) {
    io.err('error: resource name may not be empty\n');
    return 1;
  }
  const deadline = Date.now() + timeoutMs;
  let refusal: Refusal | undefined;
  const verdict = await pollUntil(deadline, async (first) => {
    const res = await onCluster(io.labDir, { ...open, countFlaky: first }, (state, c, now) => {
      const r = findResource(t.type);
      if (!r) return { err: `error: the server doesn't have a resource type "${t.type}"\n` };
      const o = allObjects(state, c, now).find((x) => x.kind === r.kind && x.metadata.name === t.name && (!r.namespaced || x.metadata.namespace === ns));
      if (!o) return first ? { err: notFound(r, t.name!) } : undefined;
      const met = (o.status?.conditions as { type: string; status: string }[] | undefined)?.some(
        (x) => x.type.toLowerCase() === condType!.toLowerCase() && x.status.toLowerCase() === condValue.toLowerCase(),
      );
      return met ? { text: `${qualifiedKind(r)}/${t.name} condition met\n` } : undefined;
    });
    if (!res.ok) {
      refusal = res.refusal;
      return { refused: true };
    }
    return res.value;
  });
  if (refusal) return fail(io, refusal);
  if (!verdict) {
    const r = findResource(t.type)!;
    io.err(`error: timed out waiting for the condition on ${r.plural}/${t.name}\n`);
    return 1;
  }
  if ('err' in verdict && verdict.err) {
    io.err(verdict.err);
    return 1;
  }
  io.out((verdict as { text: string }).text);
  return 0;
}

/**
 * staging/src/k8s.io/kubectl/pkg/cmd/scale/scale.go: `--replicas` is a required flag (cobra's message when absent),
 * a negative count fails Validate, `--current-replicas` is a precondition checked before the scale is sent
 * (scale.PreconditionError: `Expected replicas to be N, was M`); the printer says `deployment.apps/NAME scaled`.
 * Only Deployments scale in the lab (the workloads it models). A scale up makes the new pods Ready after the usual
 * pod start-up; a scale down removes them at once (the agents stop serving them as backends).
 */
async function scale(io: ToolIO, open: Open, args: string[], flags: Flags, ns: string): Promise<number> {
  const raw = str(flags, 'replicas');
  if (raw === undefined) {
    io.err('error: required flag(s) "replicas" not set\n');
    return 1;
  }
  const replicas = Number(raw);
  const current = str(flags, 'current-replicas');
  if (!Number.isInteger(replicas) || !/^-?\d+$/.test(raw) || (current !== undefined && !/^-?\d+$/.test(current))) {
    const bad = !/^-?\d+$/.test(raw) ? ['replicas', raw] : ['current-replicas', current!];
    io.err(`Error: invalid argument "${bad[1]}" for "--${bad[0]}" flag: strconv.ParseInt: parsing "${bad[1]}": invalid syntax\nSee 'kubectl scale --help' for usage.\n`);
    return 1;
  }
  if (replicas < 0) {
    io.err('error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n');
    return 1;
  }
  const t = splitTarget(args);
  if (!t?.name) {
    io.err(t ? 'error: resource(s) were provided, but no name was specified\n' : 'error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   \'-f rsrc.yaml\'\n   \'--filename=rsrc.json\'\n   \'<resource> <name>\'\n   \'<resource>\'\n');
    return 1;
  }
  const res = await onCluster(io.labDir, open, (_state, c, now) => {
    const r = findResource(t.type);
    if (!r) return { code: 1, err: `error: the server doesn't have a resource type "${t.type}"\n` };
    if (r.kind !== 'Deployment') return { code: 1, err: `error: no scaler has been implemented for {"${r.group ?? ''}" "${r.kind}"}\n` };
    const d = getObj(c, 'apps/v1', 'Deployment', ns, t.name!);
    if (!d) return { code: 1, err: notFound(r, t.name!) };
    const was = Number(d.spec?.replicas ?? 1);
    if (current !== undefined && Number(current) !== -1 && Number(current) !== was) return { code: 1, err: `error: Expected replicas to be ${current}, was ${was}\n` };
    if (was !== replicas) {
      putObj(c, { ...d, spec: { ...d.spec, replicas } }, now);
      // new pods start like any other (the ones kept stay Ready: the lab keys readiness per Deployment, so a scale up restarts the clock)
      if (replicas > was) k8sLab(c).readyAt[keyOf(d)] = now + KUBE_TIMING.podReadyMs;
    }
    return { code: 0, out: `${qualifiedKind(r)}/${t.name} scaled\n` };
  });
  if (!res.ok) return fail(io, res.refusal);
  if (res.value.out) io.out(res.value.out);
  if (res.value.err) io.err(res.value.err);
  return res.value.code;
}

/** `kubectl exec ds/cilium -c cilium-agent -- cilium-dbg ...`: the agent debug CLI of the first pod. */
async function exec(io: ToolIO, open: Open, args: string[], command: string[], flags: Flags, ns: string): Promise<number> {
  const t = splitTarget(args);
  if (!t || !command.length) {
    io.err('error: you must specify at least one command for the container\n');
    return 1;
  }
  const res = await onCluster(io.labDir, open, (state, c, now) => {
    const pods = podsOf(state, c, now).filter((p) => p.namespace === ns);
    const pod = t.name === undefined ? pods.find((p) => p.name === t.type) : pods.find((p) => p.owner.toLowerCase() === `${kindWord(t.type)}/${t.name}`.toLowerCase());
    if (!pod) {
      const r = t.name === undefined ? findResource('pods')! : findResource(t.type);
      return { code: 1, err: r ? notFound(r, t.name ?? t.type) : `error: the server doesn't have a resource type "${t.type}"\n` };
    }
    const container = str(flags, 'container') ?? pod.containers[0]!;
    if (!pod.containers.includes(container)) return { code: 1, err: `Error from server (BadRequest): container ${container} is not valid for pod ${pod.name}\n` };
    return agentCli(state, c, pod.node, command, now);
  });
  if (!res.ok) return fail(io, res.refusal);
  if (res.value.out) io.out(res.value.out);
  if (res.value.err) io.err(res.value.err);
  return res.value.code;
}

const kindWord = (type: string) => findResource(type)?.kind ?? type;

/** cilium-dbg (cilium v1.16 cilium-dbg/cmd/status.go, service_list.go): JSON via MarshalIndent with 2 spaces. */
function agentCli(state: LabState, c: LabCluster, nodeName: string, command: string[], now: number): { code: number; out?: string; err?: string } {
  const [bin, ...rest] = command;
  if (bin !== 'cilium-dbg' && bin !== 'cilium') {
    return {
      code: 126,
      err: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${bin}": executable file not found in $PATH: unknown\ncommand terminated with exit code 126\n`,
    };
  }
  const node = runningNodes(state, c.name).find((n) => n.name === nodeName)!;
  const asJson = rest.includes('json') || rest.includes('-ojson') || rest.includes('--output=json');
  const sub = rest.filter((a) => !a.startsWith('-') && a !== 'json');
  if (sub[0] === 'status') {
    const st = agentStatus(state, c, node, now);
    return { code: 0, out: asJson ? `${JSON.stringify(st, null, 2)}\n` : `KVStore:    Disabled\nKubernetes: Ok\nCluster health: ${(st.cilium as { state: string }).state}\n` };
  }
  if (sub[0] === 'service' && sub[1] === 'list') {
    const list = serviceList(state, c, now);
    return { code: 0, out: asJson ? `${JSON.stringify(list, null, 2)}\n` : list.map((s) => JSON.stringify(s)).join('\n') + '\n' };
  }
  return { code: 1, err: `Error: unknown command "${sub.join(' ')}" for "cilium-dbg"\nRun 'cilium-dbg --help' for usage.\ncommand terminated with exit code 1\n` };
}
