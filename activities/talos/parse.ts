import { z } from 'zod';

/**
 * `talosctl get -o json` prints a stream of pretty-printed objects, not an array (cmd/talosctl/cmd/talos/
 * output/json.go). Splits it by brace depth, outside strings.
 */
export function parseJsonStream(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

export const machineStatusSchema = z.object({
  spec: z.object({
    stage: z.string(),
    status: z.object({ ready: z.boolean(), unmetConditions: z.array(z.object({ name: z.string(), reason: z.string() })).nullish() }).optional(),
  }),
});

/**
 * `talosctl etcd members` table (cmd/talosctl/cmd/talos/etcd.go): optional NODE column, ids `%016x`; returns
 * ids unpadded like etcd's metric label `To` (client/pkg/types/id.go).
 */
export function parseEtcdMembers(text: string): Array<{ id: string; hostname: string; peerUrls: string[] }> {
  const lines = text.split('\n').filter((l) => l.trim());
  const header = lines.shift();
  if (!header || !/\bID\b/.test(header) || !/HOSTNAME/.test(header)) throw new Error(`unexpected etcd members output: ${JSON.stringify(header ?? '')}`);
  const hasNode = header.trimStart().startsWith('NODE');
  return lines.map((line) => {
    const f = line.trim().split(/\s+/);
    const [id, hostname, peers] = hasNode ? [f[1], f[2], f[3]] : [f[0], f[1], f[2]];
    if (!id || !/^[0-9a-f]+$/i.test(id) || !hostname || !peers) throw new Error(`unexpected etcd members row: ${JSON.stringify(line)}`);
    return { id: BigInt(`0x${id}`).toString(16), hostname, peerUrls: peers.split(',') };
  });
}
