import { z } from 'zod';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { activityAttempt, sleep } from './context.ts';
import type { ActivityDeps } from './deps.ts';
import { pollWithin } from './poll.ts';
import { commonSuspect, normaliseMemberId, ownServerId, peerLatencies, type MemberScrape } from './etcd/peer-latency.ts';
import { parseExposition, type Sample } from './etcd/prometheus.ts';

/**
 * The etcd latency gate: per-peer p99 of etcd's own peer round-trip histogram, read from every control-plane
 * member's metrics listener (Talos: `cluster.etcd.extraArgs.listen-metrics-urls: http://0.0.0.0:2381`), decided
 * against the budget. Runs unchanged against real etcd and against the lab's simulated listener.
 */
export const etcdGateInputSchema = z.object({
  cluster: z.string().min(1),
  members: z
    .array(z.object({ name: z.string().min(1), address: z.string().min(1), memberId: z.string().min(1).optional() }))
    .min(1),
  metricsPort: z.number().int().min(1).max(65535),
  budgetMs: z.number().positive(),
  /**
   * Gap between two scrapes; the p99 then covers only that window. etcd observes each peer every 30 s when
   * healthy, so a useful window on a long-running cluster is >= 31 s. 0 (default): one scrape, cumulative.
   */
  sampleGapMs: z.number().int().min(0).max(600_000).optional(),
});
export type EtcdGateInput = z.infer<typeof etcdGateInputSchema>;

export interface EtcdGateResult {
  ok: true;
  worstP99Ms: number;
  peers: Array<{ from: string; to: string; p99Ms: number }>;
  walFsyncP99Ms?: number;
}

/** Attempts of the activity that report an unreachable listener as transient before it becomes a pause. */
const TRANSIENT_ATTEMPTS = 3;
const SCRAPE_TIMEOUT_MS = 5_000;
const METRICS_PATCH_HINT =
  'enable the etcd metrics listener on every control-plane node with the Talos patch ' +
  'cluster.etcd.extraArgs.listen-metrics-urls: http://0.0.0.0:2381 (and allow TCP 2381 from the orchestrator), then resume';

export async function etcdLatencyGate(deps: ActivityDeps, input: EtcdGateInput): Promise<EtcdGateResult> {
  const parsed = etcdGateInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fatal(`etcdLatencyGate: invalid input at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const i = parsed.data;
  const idToName = new Map<string, string>();
  for (const m of i.members) {
    if (!m.memberId) continue;
    try {
      idToName.set(normaliseMemberId(m.memberId), m.name);
    } catch (err) {
      throw fatal(`etcdLatencyGate: members[${m.name}].memberId: ${(err as Error).message}`, 'pass the id as talosctl etcd members prints it (hex)');
    }
  }

  const first = i.sampleGapMs ? await scrapeAll(deps, i) : undefined;
  if (i.sampleGapMs) await sleep(i.sampleGapMs, { cluster: i.cluster, phase: 'sample-gap' });
  const second = await scrapeAll(deps, i);

  // Members not given an id name themselves through their own etcd_server_id gauge (etcd >= 3.4).
  for (const m of i.members) {
    const own = ownServerId(second.get(m.name)!);
    if (own && !idToName.has(own)) idToName.set(own, m.name);
  }
  const scrapes: MemberScrape[] = i.members.map((m) => ({ name: m.name, first: first?.get(m.name), second: second.get(m.name)! }));
  const { peers, walFsyncP99Ms } = peerLatencies(scrapes, idToName);

  if (i.members.length > 1 && peers.length === 0) {
    const reason = `etcd in ${i.cluster} reports no peer round-trip samples yet (etcd records the first ~5 s after start, then every 30 s)`;
    if (activityAttempt() < TRANSIENT_ATTEMPTS) throw transient(reason);
    throw blocked({
      reason,
      hint: 'check that every member runs and has joined (talosctl etcd members); the metric is etcd_network_peer_round_trip_time_seconds',
      evidence: { cluster: i.cluster, members: i.members.length },
    });
  }

  const worst = peers.reduce<(typeof peers)[number] | undefined>((w, p) => (!w || p.p99Ms > w.p99Ms ? p : w), undefined);
  const over = peers.filter((p) => p.p99Ms > i.budgetMs);
  if (worst && over.length > 0) {
    const suspect = commonSuspect(over);
    throw blocked({
      reason: `etcd peer round-trip p99 ${fmt(worst.p99Ms)} ms between ${worst.from} and ${worst.to} exceeds the ${fmt(i.budgetMs)} ms budget`,
      hint:
        `Golden Rule: keep a cluster's control plane in one site (never stretch etcd over a WAN); ` +
        `check the link/NIC/switch port ${suspect ? `of ${suspect}` : `between ${worst.from} and ${worst.to}`}; ` +
        'or override the gate with a reason if this latency is understood and accepted',
      evidence: {
        cluster: i.cluster,
        from: worst.from,
        to: worst.to,
        p99Ms: worst.p99Ms,
        budgetMs: i.budgetMs,
        overBudgetPairs: over.map((p) => `${p.from}->${p.to}=${fmt(p.p99Ms)}ms`).join(', '),
        basis: worst.basis,
        samples: worst.samples,
        ...(suspect ? { suspect } : {}),
        ...(walFsyncP99Ms !== undefined ? { walFsyncP99Ms } : {}),
      },
      overridable: true,
    });
  }
  return {
    ok: true,
    worstP99Ms: worst?.p99Ms ?? 0,
    peers: peers.map(({ from, to, p99Ms }) => ({ from, to, p99Ms })),
    ...(walFsyncP99Ms !== undefined ? { walFsyncP99Ms } : {}),
  };
}

type Scrape = { ok: true; samples: Sample[] } | { ok: false; why: string };

async function scrapeOne(url: string): Promise<Scrape> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS), headers: { accept: 'text/plain' } });
    const text = await res.text();
    if (!res.ok) return { ok: false, why: `HTTP ${res.status}` };
    try {
      return { ok: true, samples: parseExposition(text) };
    } catch (err) {
      return { ok: false, why: `not Prometheus text (${(err as Error).message})` };
    }
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    if (e.name === 'TimeoutError') return { ok: false, why: `no answer within ${SCRAPE_TIMEOUT_MS} ms` };
    return { ok: false, why: e.cause?.code ?? e.cause?.message ?? e.message ?? String(err) };
  }
}

/**
 * Scrapes every member; unreachable ones are retried (1 s apart) within the poll budget, capped at 15 s: a listener
 * that is not configured will not appear by waiting longer. Then: transient for the first attempts (a member
 * rebooting), a pause naming the Talos patch after that.
 */
async function scrapeAll(deps: ActivityDeps, i: EtcdGateInput): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>();
  const failures = new Map<string, string>();
  let pending = i.members;
  const all = await pollWithin(Math.min(deps.pollBudgetMs, 15_000), 1_000, `etcd metrics of ${i.cluster}`, async () => {
    const results = await Promise.all(pending.map(async (m) => [m, await scrapeOne(deps.etcdMetricsUrl(m.address, i.metricsPort))] as const));
    failures.clear();
    for (const [m, r] of results) {
      if (r.ok) out.set(m.name, r.samples);
      else failures.set(m.name, `${deps.etcdMetricsUrl(m.address, i.metricsPort)}: ${r.why}`);
    }
    pending = pending.filter((m) => failures.has(m.name));
    return pending.length === 0 ? out : undefined;
  });
  if (all) return all;
  const list = [...failures.entries()].map(([n, w]) => `${n} (${w})`).join(', ');
  const reason = `cannot read etcd metrics of ${list} in ${i.cluster}`;
  if (activityAttempt() < TRANSIENT_ATTEMPTS) throw transient(reason);
  throw blocked({
    reason,
    hint: METRICS_PATCH_HINT,
    evidence: { cluster: i.cluster, unreachable: [...failures.keys()].join(','), metricsPort: i.metricsPort },
  });
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();
