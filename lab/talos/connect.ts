import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { LabNode, LabState } from '../state.ts';
import type { ParsedCommand } from './cli.ts';
import { sha256 } from './machine-config.ts';
import { nodeRecord } from './node-record.ts';
import { certificateRequired, connectionRefused, dialTimeout, unknownAuthority } from './rpc-errors.ts';
import { effectiveStage, isUnreachable } from './stages.ts';
import { toolPath } from '../tools/call-context.ts';

/** An error talosctl prints as is (one line on stderr), exit 1. */
export class TalosctlError extends Error {}

export interface Target {
  /** where the client dials (-e, or the context's endpoints; --insecure dials the nodes themselves) */
  endpoint: string;
  /** the node the request is for (-n, or the context's nodes); "" when the client sets no node metadata */
  node: string;
  insecure: boolean;
  /** sha256 of the talosconfig's CA (secure client only) */
  caSha?: string;
}

/**
 * Client set-up as cmd/talosctl/pkg/talos/global/client.go does it: the secure client opens the talosconfig
 * (--talosconfig, else $TALOSCONFIG, else ~/.talos/config), takes endpoints from -e or the context and nodes
 * from -n or the context; the maintenance client dials the -n values directly and needs no talosconfig.
 */
export function resolveTarget(p: ParsedCommand, env: NodeJS.ProcessEnv, insecure: boolean): Target {
  const nodes = (p.flags.nodes as string[] | undefined) ?? [];
  if (insecure) {
    // WithClientMaintenance → client.New(WithEndpoints(nodes...)) (pkg/machinery/client/client.go New)
    if (!nodes.length) throw new TalosctlError('failed to determine endpoints');
    return { endpoint: nodes[0]!, node: '', insecure: true };
  }
  const file = (p.flags.talosconfig as string | undefined) || env.TALOSCONFIG || path.join(env.HOME ?? os.homedir(), '.talos', 'config');
  let cfg: { context?: string; contexts?: Record<string, { endpoints?: string[]; nodes?: string[]; ca?: string }> } = {};
  if (existsSync(toolPath(file))) {
    try {
      cfg = (parse(readFileSync(toolPath(file), 'utf8')) ?? {}) as typeof cfg;
    } catch (err) {
      throw new TalosctlError(`failed to open config file "${p.flags.talosconfig ?? ''}": ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const ctxName = (p.flags.context as string | undefined) || cfg.context || '';
  const ctx = cfg.contexts?.[ctxName];
  const endpoints = (p.flags.endpoints as string[] | undefined)?.length ? (p.flags.endpoints as string[]) : (ctx?.endpoints ?? []);
  if (!endpoints.length) throw new TalosctlError('error constructing client: failed to determine endpoints');
  if (!ctx) throw new TalosctlError('failed to resolve config context');
  const targetNodes = nodes.length ? nodes : (ctx.nodes ?? []);
  if (!targetNodes.length) {
    throw new TalosctlError('nodes are not set for the command: please use `--nodes` flag or configuration file to set the nodes to run the command against');
  }
  const strip = (e: string) => e.replace(/^https?:\/\//, '').replace(/:\d+$/, '');
  return { endpoint: strip(endpoints[0]!), node: targetNodes[0]!, insecure: false, caSha: ctx.ca ? sha256(ctx.ca) : undefined };
}

/** The gRPC error a dial to this address gets, or undefined when the handshake succeeds. */
export function dialError(state: LabState, address: string, t: Target, now: number): string | undefined {
  const node = state.nodes[address];
  if (!node) return dialTimeout(address);
  if (isUnreachable(state, address)) return connectionRefused(address);
  const view = effectiveStage(state, node, now);
  if (view.apiDown || view.stage === 'booting') return connectionRefused(address);
  if (t.insecure) return view.stage === 'maintenance' ? undefined : certificateRequired();
  if (view.stage === 'maintenance') return unknownAuthority();
  const rec = nodeRecord(state, address);
  if (!rec || rec.osCaSha !== t.caSha) return unknownAuthority();
  return undefined;
}

/**
 * Dials the endpoint, and through apid's proxy the target node. Returns the node the request lands on.
 * A flaky lab fails every Nth networked talosctl call with a dial timeout (faults.flakyEvery, counted in
 * state.counters.talosctl).
 */
export function connect(state: LabState, t: Target, now: number): LabNode {
  const flaky = Number(state.faults.flakyEvery ?? 0);
  if (flaky > 0) {
    const n = (state.counters.talosctl ?? 0) + 1;
    state.counters.talosctl = n;
    if (n % flaky === 0) throw new TalosctlError(dialTimeout(t.endpoint));
  }
  const viaEndpoint = dialError(state, t.endpoint, t, now);
  if (viaEndpoint) throw new TalosctlError(viaEndpoint);
  const address = t.insecure ? t.endpoint : t.node;
  if (address !== t.endpoint) {
    const proxied = dialError(state, address, t, now);
    if (proxied) throw new TalosctlError(proxied);
  }
  return state.nodes[address]!;
}
