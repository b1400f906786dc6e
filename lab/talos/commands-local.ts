import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ToolIO } from '../tools/io.ts';
import type { ParsedCommand } from './cli.ts';
import { TalosctlError } from './connect.ts';
import {
  DEFAULT_KUBERNETES_VERSION,
  TALOS_VERSION,
  machineConfig,
  newSecretsBundle,
  parseContract,
  parseMachineConfig,
  renderConfigDocuments,
  parseSecretsBundle,
  renderSecretsBundle,
  talosconfig,
} from './machine-config.ts';
import { ConfigDecodeError, decodeConfigDocuments, orderLikeConfig } from './config-schema.ts';
import { loadPatch, PatchError, strategicMerge } from './patch.ts';
import { validateMachineConfig, type RuntimeMode } from './validate.ts';
import { toolCwd, toolPath } from '../tools/call-context.ts';

/** Commands that never leave the machine: version --client, gen secrets, gen config, validate, machineconfig patch. */

/**
 * pkg/machinery/version/version.go versionTemplate. Tag and SHA are what pkg/machinery/gendata embeds in the
 * published machinery module (a build from the Go modules reports SHA "undefined"); Go is the release toolchain.
 */
export function clientVersionText(short: boolean): string {
  if (short) return `Client:\nTalos ${TALOS_VERSION}\n`;
  return `Client:\n\tTag:         ${TALOS_VERSION}\n\tSHA:         undefined\n\tBuilt:       \n\tGo version:  go1.23.7\n\tOS/Arch:     linux/amd64\n`;
}

const abs = toolPath;

/** cmd/talosctl/cmd/mgmt/gen/gen.go validateFileExists */
function refuseExisting(file: string, force: boolean): void {
  if (!force && existsSync(abs(file))) throw new TalosctlError(`file "${file}" already exists, use --force to overwrite`);
}

/** cmd/talosctl/cmd/mgmt/gen/secrets.go */
export function genSecrets(p: ParsedCommand): number {
  const out = p.flags['output-file'] as string;
  try {
    parseContract(p.flags['talos-version'] as string | undefined);
  } catch (err) {
    throw new TalosctlError((err as Error).message);
  }
  refuseExisting(out, p.flags.force === true);
  writeFileSync(abs(out), renderSecretsBundle(newSecretsBundle()), { mode: 0o600 });
  return 0;
}

/** cmd/talosctl/cmd/mgmt/gen/config.go validateClusterEndpoint */
function checkEndpoint(endpoint: string): void {
  const fixed = (host: string) => `"https://${host}${/:\d+$/.test(host) ? '' : ':6443'}"`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]+)/i.exec(endpoint);
  if (!m) {
    const host = endpoint.replace(/\/.*$/, '');
    if (!/:\d+$/.test(host)) throw new TalosctlError(`no scheme and port specified for the cluster endpoint URL\ntry: ${fixed(host)}`);
    throw new TalosctlError(`no scheme specified for the cluster endpoint URL\ntry: ${fixed(host)}`);
  }
  if (m[1] !== 'https') throw new TalosctlError(`the control plane endpoint URL should have scheme https://\ntry: ${fixed(m[2]!)}`);
}

export function genConfig(io: ToolIO, p: ParsedCommand): number {
  const [clusterName, endpoint] = p.args as [string, string];
  checkEndpoint(endpoint);
  if (p.flags.version !== 'v1alpha1') throw new TalosctlError(`unknown config version: "${p.flags.version}"`);
  const types = (p.flags['output-types'] as string[] | undefined) ?? ['controlplane', 'worker', 'talosconfig'];
  const bad = types.filter((t) => !['controlplane', 'worker', 'talosconfig'].includes(t));
  if (bad.length) throw new TalosctlError(`1 error occurred:\n\t* invalid output type: "${bad[0]}"\n\n`);
  const output = (p.flags.output as string) || (p.flags['output-dir'] as string) || '';
  if (types.length > 1 && output === '-') throw new TalosctlError("can't use multiple output types with stdout");

  let contract: [number, number];
  try {
    contract = parseContract(p.flags['talos-version'] as string | undefined);
  } catch (err) {
    throw new TalosctlError((err as Error).message);
  }
  let secrets;
  const withSecrets = p.flags['with-secrets'] as string | undefined;
  if (withSecrets) {
    if (!existsSync(abs(withSecrets))) throw new TalosctlError(`failed to load secrets bundle: open ${withSecrets}: no such file or directory`);
    try {
      secrets = parseSecretsBundle(readFileSync(abs(withSecrets), 'utf8'));
    } catch (err) {
      throw new TalosctlError(`failed to load secrets bundle: ${(err as Error).message}`);
    }
  }
  // cmd/talosctl/cmd/mgmt/gen/config.go GenerateConfigBundle: all patches, then control-plane, then worker
  const load = (specs: string[] | undefined) => (specs ?? []).flatMap((s) => loadPatch(s));
  let all, cp, worker;
  try {
    all = load(p.flags['config-patch'] as string[]);
    cp = load(p.flags['config-patch-control-plane'] as string[]);
    worker = load(p.flags['config-patch-worker'] as string[]);
  } catch (err) {
    if (err instanceof PatchError) throw new TalosctlError(`error parsing config JSON patch: ${err.message}`);
    throw err;
  }
  // bundle.go NewBundle prints this for every new bundle, with or without --with-secrets (which only skips the CA work)
  io.err('generating PKI and tokens\n');
  secrets ??= newSecretsBundle();
  const opts = {
    clusterName,
    endpoint,
    kubernetesVersion: (p.flags['kubernetes-version'] as string) || DEFAULT_KUBERNETES_VERSION,
    contract,
    installDisk: p.flags['install-disk'] as string,
    installImage: p.flags['install-image'] as string,
    dnsDomain: p.flags['dns-domain'] as string,
    additionalSans: (p.flags['additional-sans'] as string[] | undefined) ?? [],
    withClusterDiscovery: p.flags['with-cluster-discovery'] !== false,
  };
  // outputPaths(): a given -o is joined as given; without it the files land in the working directory, named absolutely
  const dest = (file: string) => {
    if (output === '-') return '-';
    if (output && types.length === 1 && !p.flags['output-dir']) return output;
    return output ? path.join(output, file) : path.join(toolCwd(), file);
  };
  const write = (data: string, file: string) => {
    const d = dest(file);
    if (d === '-') return void io.out(data);
    refuseExisting(d, p.flags.force === true);
    mkdirSync(path.dirname(abs(d)), { recursive: true });
    writeFileSync(abs(d), data, { mode: 0o644 });
    io.err(`Created ${d}\n`);
  };
  if (types.includes('controlplane')) write(machineConfig('controlplane', secrets, opts, [...all, ...cp]), 'controlplane.yaml');
  if (types.includes('worker')) write(machineConfig('worker', secrets, opts, [...all, ...worker]), 'worker.yaml');
  if (types.includes('talosconfig')) write(talosconfig(clusterName, secrets), 'talosconfig');
  return 0;
}

/** cmd/talosctl/cmd/mgmt/validate.go: load strictly, then Validate; warnings go to stderr as "WARNING: ..." */
export function validate(io: ToolIO, p: ParsedCommand): number {
  const file = (p.flags.config as string) ?? '';
  const mode = p.flags.mode as string;
  if (!file || !existsSync(abs(file))) throw new TalosctlError(`open ${file}: no such file or directory`);
  let cfg;
  try {
    cfg = parseMachineConfig(readFileSync(abs(file), 'utf8'));
  } catch (err) {
    if (err instanceof ConfigDecodeError) throw new TalosctlError(err.message);
    throw err;
  }
  if (!['metal', 'cloud', 'container'].includes(mode)) throw new TalosctlError(`unknown runtime mode: "${mode}"`);
  const v = validateMachineConfig(cfg, mode as RuntimeMode, { strict: p.flags.strict === true });
  for (const w of v.warnings) io.err(`WARNING: ${w}\n`);
  if (v.error) throw new TalosctlError(v.error);
  io.out(`${file} is valid for ${mode} mode\n`);
  return 0;
}

/** cmd/talosctl/cmd/mgmt/machineconfig/patch.go: the file's documents, the patches applied in order, to stdout or -o */
export function machineconfigPatch(io: ToolIO, p: ParsedCommand): number {
  const [file] = p.args as [string];
  if (!existsSync(abs(file))) throw new TalosctlError(`open ${file}: no such file or directory`);
  let patches;
  try {
    patches = ((p.flags.patch as string[] | undefined) ?? []).flatMap((spec) => loadPatch(spec));
  } catch (err) {
    if (err instanceof PatchError) throw new TalosctlError(err.message);
    throw err;
  }
  let docs;
  try {
    docs = decodeConfigDocuments(readFileSync(abs(file), 'utf8'), { allowPatchDelete: false });
  } catch (err) {
    if (err instanceof ConfigDecodeError) throw new TalosctlError(err.message);
    throw err;
  }
  const main = docs.find((d) => d.kind === 'v1alpha1')?.value ?? {};
  const rest = docs.filter((d) => d.kind !== 'v1alpha1').map((d) => d.value);
  for (const patch of patches) {
    if (typeof patch.kind === 'string') rest.push(patch);
    else strategicMerge(main, patch);
  }
  const text = renderConfigDocuments([orderLikeConfig(main), ...rest]);
  const out = p.flags.output as string | undefined;
  if (out) writeFileSync(abs(out), text, { mode: 0o644 });
  else io.out(`${text}\n`); // patch.go prints it with fmt.Printf("%s\n")
  return 0;
}
