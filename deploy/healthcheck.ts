// Container health checks (compose `healthcheck:`), exit 0 = healthy. Run with `node --import tsx`.
//   http URL                 any 2xx from URL (codec server /healthz)
//   tcp HOST:PORT            something accepts connections (chat app)
//   worker [--site NAME]     this container polls its task queue: a poller whose identity ends in @<hostname>
import net from 'node:net';
import os from 'node:os';
import { DEFAULT_TASK_QUEUE, siteTaskQueue } from '../contracts/names.ts';
import { connectClient } from '../temporal/connection.ts';

// A live worker long-polls continuously; a minute without a poll means it is stuck or disconnected.
const POLLER_FRESH_MS = 60_000;

async function http(url: string): Promise<string | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return res.ok ? undefined : `${url} answered ${res.status}`;
}

function tcp(target: string): Promise<string | undefined> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: 5_000 }, () => (sock.destroy(), resolve(undefined)));
    sock.on('error', (err) => resolve(`${target}: ${err.message}`));
    sock.on('timeout', () => (sock.destroy(), resolve(`${target}: timed out`)));
  });
}

async function worker(site: string | undefined): Promise<string | undefined> {
  const client = await connectClient();
  try {
    const taskQueue = site ? siteTaskQueue(site) : DEFAULT_TASK_QUEUE;
    const suffix = `@${os.hostname()}`;
    for (const taskQueueType of [1 /* WORKFLOW */, 2 /* ACTIVITY */]) {
      const res = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType,
      });
      const mine = (res.pollers ?? []).filter((p) => p.identity?.endsWith(suffix));
      const fresh = mine.some((p) => Date.now() - Number(p.lastAccessTime?.seconds ?? 0) * 1000 < POLLER_FRESH_MS);
      if (fresh) return undefined;
    }
    return `no recent poller from ${os.hostname()} on task queue ${taskQueue}`;
  } finally {
    await client.connection.close();
  }
}

async function check(argv: string[]): Promise<string | undefined> {
  const [mode, arg, value] = argv;
  if (mode === 'http' && arg) return http(arg);
  if (mode === 'tcp' && arg) return tcp(arg);
  if (mode === 'worker') return worker(arg === '--site' ? value : undefined);
  return 'usage: healthcheck http URL | tcp HOST:PORT | worker [--site NAME]';
}

check(process.argv.slice(2)).then(
  (problem) => {
    if (problem) process.stderr.write(`unhealthy: ${problem}\n`);
    process.exitCode = problem ? 1 : 0;
  },
  (err: Error) => {
    process.stderr.write(`unhealthy: ${err.message}\n`);
    process.exitCode = 1;
  },
);
