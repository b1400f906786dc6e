// `meshpilot rotate certs|ca FILE`: ClusterMesh certificates renewed, or the shared CA replaced, on a live mesh,
// one cluster at a time. After every cluster's change, every peer link that was up before the rotation must be up
// again (else the step pauses); the CA rotation's phases each keep every cluster trusting the CA every other
// cluster's certificates come from, so an abort at any point leaves a connected mesh.
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import { blocked, fatal, refused } from '../contracts/failures.ts';
import type { ActorInput } from '../contracts/messages.ts';
import type { MeshRolloutStatus, RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, ROTATE_CA_STEPS, ROTATE_CERTS_STEPS, type PauseLimits, type RotateStepName } from '../contracts/steps.ts';
import { act, quick, waits } from './activities.ts';
import { answerStepMessages, endedBy } from './operation.ts';
import { ContinueAsNewNeeded, initialSteps, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export type RotateKind = 'certs' | 'ca';

interface CaSummary {
  fingerprint: string;
  subject: string;
  notAfter: string;
}

export interface MeshRotateInput {
  mesh: string;
  revision: string;
  /** the blueprint's clusters, in its order */
  clusters: string[];
  kind: RotateKind;
  /** certificates expiring within this many days fail the final check (default 30) */
  warnDays?: number;
  requestedBy: ActorInput;
  limits?: PauseLimits;
  carried?: {
    startedAt: string;
    runner: StepRunnerState;
    links?: Record<string, string[]>;
    issuers?: Record<string, string>;
    current?: CaSummary;
    next?: CaSummary;
    done?: Record<string, string[]>;
  };
}

export interface MeshRotateResult {
  id: string;
  mesh: string;
  kind: RotateKind;
  state: RunState;
  /** the CA before and after (a CA rotation), or the one CA (certs) */
  ca?: { from: CaSummary; to?: CaSummary };
  /** the earliest expiry of any ClusterMesh certificate after the rotation */
  earliestExpiry?: string;
  error?: string;
}

const stepsOf = (kind: RotateKind) => (kind === 'ca' ? ROTATE_CA_STEPS : ROTATE_CERTS_STEPS);

class RotateState {
  state: RunState = 'running';
  error: string | undefined;
  /** per cluster, the peers its agents were all connected to at preflight: every change must keep them */
  links: Record<string, string[]>;
  /** per cluster, the fingerprint of the CA its certificates came from at preflight */
  issuers: Record<string, string>;
  current: CaSummary | undefined;
  next: CaSummary | undefined;
  /** per step, the clusters it has changed */
  done: Record<string, string[]>;
  earliestExpiry: string | undefined;
  readonly runnerState: StepRunnerState;
  readonly runner: StepRunner<RotateStepName>;
  readonly workflowId = workflowInfo().workflowId;
  readonly startedAt: string;
  private updatedAt: string;
  private readonly sa = new SearchAttributeTracker();

  constructor(readonly input: MeshRotateInput) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = c?.runner ?? { steps: initialSteps(stepsOf(input.kind)), actions: [] };
    this.links = c?.links ?? {};
    this.issuers = c?.issuers ?? {};
    this.current = c?.current;
    this.next = c?.next;
    this.done = c?.done ?? {};
    this.runner = new StepRunner(this.runnerState, stepsOf(input.kind), input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  get title(): string {
    return this.input.kind === 'ca' ? 'CA rotation' : 'Certificate rotation';
  }

  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blockedStep = this.runner.blockedStep();
    if (this.state === 'running' || this.state === 'paused') this.state = blockedStep ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blockedStep ? `rotate/${blockedStep.name}` : 'none' });
    const ca = (x: CaSummary | undefined) => (x ? `${x.subject}, \`${x.fingerprint.slice(0, 23)}…\`, until ${x.notAfter.slice(0, 10)}` : 'not read yet');
    showDetails(
      [
        `## ${this.title}: ${this.input.mesh}: ${this.state}`,
        '',
        `- **clusters**: ${this.input.clusters.join(', ')}`,
        `- **mesh CA**: ${ca(this.current)}`,
        ...(this.input.kind === 'ca' ? [`- **next CA**: ${ca(this.next)}`] : []),
        `- **peer links kept after every change**: ${Object.entries(this.links).map(([c, p]) => `${c} → ${p.join(', ') || 'none'}`).join('; ') || 'not read yet'}`,
        ...Object.entries(this.done).map(([step, cs]) => `- **${step}**: done on ${cs.join(', ')}`),
        ...(this.earliestExpiry ? [`- **earliest certificate expiry after**: ${this.earliestExpiry.slice(0, 10)}`] : []),
        ...(this.error ? ['', `**Error:** ${this.error}`] : []),
        '',
        stepsTable(this.title, this.runnerState.steps, this.workflowId),
      ].join('\n'),
    );
  }

  status(): MeshRolloutStatus {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      revision: this.input.revision,
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      clusters: [],
      operation: {
        kind: this.input.kind === 'ca' ? 'rotate-ca' : 'rotate-certs',
        cluster: '',
        reason: this.input.kind === 'ca' ? `shared CA replaced on ${this.input.clusters.length} clusters` : `ClusterMesh certificates renewed on ${this.input.clusters.length} clusters`,
      },
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  carried(): NonNullable<MeshRotateInput['carried']> {
    return {
      startedAt: this.startedAt,
      runner: this.runnerState,
      links: this.links,
      issuers: this.issuers,
      done: this.done,
      ...(this.current ? { current: this.current } : {}),
      ...(this.next ? { next: this.next } : {}),
    };
  }

  result(): MeshRotateResult {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      kind: this.input.kind,
      state: this.state,
      ...(this.current ? { ca: { from: this.current, ...(this.next ? { to: this.next } : {}) } } : {}),
      ...(this.earliestExpiry ? { earliestExpiry: this.earliestExpiry } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

const summaryOf = (f: { fingerprint: string; subject: string; notAfter: string }): CaSummary => ({ fingerprint: f.fingerprint, subject: f.subject, notAfter: f.notAfter });

export async function meshRotate(input: MeshRotateInput): Promise<MeshRotateResult> {
  const d = new RotateState(input);
  const { runner } = d;
  answerStepMessages(runner, () => d.status(), () => {
    throw refused('a rotation takes no blueprint changes: abort it and start another');
  });

  d.changed();
  try {
    await runner.run('rotate-preflight', () => preflight(d));
    if (input.kind === 'certs') {
      await runner.run('renew-certs', () => eachCluster(d, 'renew-certs', () => ({ issuer: 'current', trust: [], renewedSince: d.startedAt })));
    } else {
      await runner.run('new-ca', async () => {
        d.next = summaryOf(await act(quick.ensureNextMeshCa, `${input.mesh}: the next ClusterMesh CA (created once)`, { mesh: input.mesh }));
        d.changed();
      });
      const keepIssuer = (cluster: string) => (d.issuers[cluster] === d.next?.fingerprint ? 'next' : 'current');
      await runner.run('trust-both', () => eachCluster(d, 'trust-both', (c) => ({ issuer: keepIssuer(c), trust: ['current', 'next'] })));
      await runner.run('reissue', () => eachCluster(d, 'reissue', () => ({ issuer: 'next', trust: ['current', 'next'] })));
      await runner.run('drop-old-ca', () => eachCluster(d, 'drop-old-ca', () => ({ issuer: 'next', trust: [] })));
      await runner.run('promote-ca', async () => {
        await act(quick.promoteMeshCa, `${input.mesh}: the next CA becomes the mesh's CA`, { mesh: input.mesh, fingerprint: d.next!.fingerprint });
      });
    }
    await runner.run('rotate-verify', () => verifyAfter(d));
    d.state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meshRotate>({ ...input, carried: d.carried() });
    }
    const end = endedBy(runner, err);
    d.state = end.state;
    if (end.error !== undefined) d.error = end.error;
  }
  d.changed();
  await condition(allHandlersFinished);
  return d.result();
}

/** The CAs, each cluster's issuer, and the peer links up now (which every later change must keep). Read-only. */
async function preflight(d: RotateState): Promise<void> {
  const { mesh, clusters, kind } = d.input;
  const cas = await act(quick.meshCaFacts, `${mesh}: the mesh CA in the secret store`, { mesh });
  if (kind === 'certs' && cas.next) {
    throw fatal(`a CA rotation of ${mesh} is unfinished (the secret store holds its next CA)`, `finish it first: meshpilot rotate ca FILE (it continues where it stopped), then renew certificates if still needed`);
  }
  d.current = summaryOf(cas.current);
  if (cas.next) d.next = summaryOf(cas.next);
  const tls = await Promise.all(clusters.map((cluster) => act(quick.readClusterTls, `${cluster}: ClusterMesh certificates, CA and trust (public facts)`, { mesh, cluster })));
  const missing = clusters.filter((_, n) => !tls[n]!.leaves.some((l) => l.role === 'server'));
  if (missing.length) {
    throw blocked({
      reason: `${missing.join(', ')}: no clustermesh-apiserver certificate to rotate (clustermesh.useAPIServer off, or not rolled out)`,
      hint: 'roll the mesh out first (meshpilot rollout FILE); resume re-checks',
    });
  }
  d.issuers = Object.fromEntries(clusters.map((c, n) => [c, tls[n]!.leaves.find((l) => l.role === 'server')!.issuerFingerprint]));
  const links = await Promise.all(clusters.map((cluster) => act(quick.peerLinksNow, `${cluster}: the peer links up now (cilium clustermesh status)`, { mesh, cluster })));
  d.links = Object.fromEntries(clusters.map((c, n) => [c, links[n]!.connected.filter((p) => clusters.includes(p))]));
  d.changed();
}

interface TlsTarget {
  issuer: 'current' | 'next';
  trust: Array<'current' | 'next'>;
  renewedSince?: string;
}

/** One cluster at a time: its TLS as `want` says, then every cluster's pre-rotation peer links up again. */
async function eachCluster(d: RotateState, step: string, want: (cluster: string) => TlsTarget): Promise<void> {
  const { mesh, clusters } = d.input;
  for (const cluster of clusters) {
    const w = want(cluster);
    await act(waits.applyClusterTls, `${cluster}: issuer ${w.issuer} CA, trust ${w.trust.length ? w.trust.join(' + ') : 'its issuer only'} (helm upgrade --reuse-values)`, { mesh, cluster, ...w });
    await Promise.all(
      clusters.map((x) =>
        act(waits.meshPeersConnected, `${x}: peer links kept after ${step} on ${cluster}`, { mesh, cluster: x, peers: d.links[x] ?? [], after: `${step} on ${cluster}` }),
      ),
    );
    const done = (d.done[step] ??= []);
    if (!done.includes(cluster)) done.push(cluster);
    d.changed();
  }
}

/** Every blueprint peer connected everywhere, trust whole, and no certificate inside the warning window. */
async function verifyAfter(d: RotateState): Promise<void> {
  const { mesh, clusters } = d.input;
  await Promise.all(
    clusters.map((x) =>
      act(waits.meshPeersConnected, `${x}: every blueprint peer connected`, { mesh, cluster: x, peers: clusters.filter((p) => p !== x), after: `the ${d.title.toLowerCase()}` }),
    ),
  );
  const trust = await act(quick.meshTrustHolds, `${mesh}: every cluster trusts every other's certificates`, { mesh, clusters });
  d.earliestExpiry = trust.earliestExpiry;
  d.changed();
  const warnDays = d.input.warnDays ?? 30;
  if (trust.earliestExpiry && Date.parse(trust.earliestExpiry) - Date.now() < warnDays * 86_400_000) {
    throw blocked({
      reason: `a ClusterMesh certificate still expires ${trust.earliestExpiry.slice(0, 10)}, within the ${warnDays}-day warning window`,
      hint: 'clustermesh.apiserver.tls.auto.certValidityDuration may be set short, or the CA itself expires soon (meshpilot rotate ca FILE); resume re-checks',
    });
  }
}
