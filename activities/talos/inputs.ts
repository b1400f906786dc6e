import { z } from 'zod';
import { fatal } from '../../contracts/failures.ts';

/** Adapter inputs cross the activity boundary: each is checked, and bad input stops the run naming the field. */
const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label (lower-case letters, digits, dashes)');
const address = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]+$/i, 'must be an IP address');
const version = z.string().regex(/^v?\d+\.\d+(\.\d+)?([-+][\w.-]+)?$/, 'must look like v1.9.6');
const ref = z.string().min(1);

export const schemas = {
  secrets: z.object({ mesh: name, cluster: name, talosVersion: version }),
  genConfigs: z.object({
    mesh: name,
    cluster: name,
    endpoint: z.string().min(1),
    talosVersion: version,
    kubernetesVersion: version,
    installDisk: z.string().regex(/^\/dev\/\S+$/, 'must be a device path like /dev/sda'),
    installImage: z.string().min(1).optional(),
    patches: z.object({ all: z.string(), controlplane: z.string(), worker: z.string() }),
  }),
  nodeStage: z.object({ address, talosconfigRef: ref.optional() }),
  apply: z.object({ address, nodeName: z.string().min(1), configRef: ref, installDisk: z.string().regex(/^\/dev\/\S+$/, 'must be a device path like /dev/sda').optional() }),
  waitRunning: z.object({ address, nodeName: z.string().min(1), talosconfigRef: ref }),
  bootstrap: z.object({ cluster: name, address, talosconfigRef: ref }),
  kubeconfig: z.object({ mesh: name, cluster: name, address, talosconfigRef: ref }),
  etcdMembers: z.object({ address, talosconfigRef: ref }),
} as const;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, adapter: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw fatal(`${adapter}: input field "${issue.path.join('.') || '(root)'}" ${issue.message}`, 'this is a meshpilot bug: the workflow passed a malformed input');
}

/** `https://host:6443` from an endpoint given as a URL, host:port or host. */
export function clusterEndpointUrl(endpoint: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const u = new URL(withScheme);
  if (!u.port) u.port = '6443';
  return `${u.protocol}//${u.host}`;
}
