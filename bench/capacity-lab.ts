// The lab of a capacity run, in a process of its own: the lab tool server (every simulated talosctl, helm, cilium
// and kubectl call of every worker runs here, reached through the shims' socket) and one etcd metrics endpoint per
// mesh. Workers then spend their CPU on orchestration alone, and the lab's cost is measured apart.
//
//   node --import tsx bench/capacity-lab.ts LABS.json   (mesh → lab directory)
// prints one JSON line when ready: { socket, metrics: { mesh: url with ADDRESS for the node address } }, and
// runs until SIGTERM.
import { readFileSync } from 'node:fs';
import { ensureLabBundle } from '../lab/bundle.ts';
import { startLabMetricsServer } from '../lab/etcd-metrics.ts';
import { startLabToolServer } from '../lab/server/tool-server.ts';
import { untilSignal } from '../workers/run.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: capacity-lab.ts LABS.json');
const labs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;

await ensureLabBundle();
const tools = await startLabToolServer();
const metrics = await Promise.all(Object.entries(labs).map(async ([mesh, labDir]) => [mesh, await startLabMetricsServer(labDir)] as const));
process.stdout.write(
  `${JSON.stringify({ socket: tools.socketPath, metrics: Object.fromEntries(metrics.map(([mesh, m]) => [mesh, m.urlFor('ADDRESS', 2381)])) })}\n`,
);
await untilSignal();
process.stderr.write(`capacity lab: ${tools.served()} tool calls served\n`);
await tools.close();
await Promise.all(metrics.map(([, m]) => m.close()));
