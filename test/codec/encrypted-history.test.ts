import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ENCRYPTED_ENCODING } from '../../codec/aes-gcm-codec.ts';
import { parseCodecKeys } from '../../codec/config.ts';
import { dataConverter, failureConverterPath } from '../../codec/data-converter.ts';
import { SA } from '../../contracts/names.ts';
import { startTemporal } from '../helpers/temporal.ts';
import { echoActivities } from './fixtures/echo-activities.ts';
import { echoWorkflow } from './fixtures/echo-workflow.ts';

const { History } = proto.temporal.api.history.v1;
type Event = proto.temporal.api.history.v1.IHistoryEvent;

interface FoundPayload {
  path: string;
  encoding: string;
}

/** Every Payload-shaped object in the raw events, with where it sits. */
function payloadsIn(value: unknown, path: string, found: FoundPayload[]): FoundPayload[] {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const rec = value as Record<string, unknown>;
  const meta = rec.metadata as Record<string, unknown> | undefined;
  if (meta && meta.encoding instanceof Uint8Array) {
    found.push({ path, encoding: Buffer.from(meta.encoding).toString() });
    return found;
  }
  for (const [k, v] of Object.entries(rec)) payloadsIn(v, `${path}.${k}`, found);
  return found;
}

describe('payload encryption against a real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  const keys = parseCodecKeys(`k2:${randomBytes(32).toString('base64')}`);
  const taskQueue = `codec-${randomUUID()}`;

  before(async () => {
    env = await startTemporal();
    bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/echo-workflow.ts', import.meta.url)),
      failureConverterPath,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
  }, { timeout: 120_000 });

  after(async () => {
    await env?.teardown();
  });

  async function runEcho(secret: string, failWorkflow: boolean) {
    const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: dataConverter(keys) });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: bundle,
      activities: echoActivities,
      dataConverter: dataConverter(keys),
    });
    const handle = await client.workflow.start(echoWorkflow, {
      taskQueue,
      workflowId: `codec-echo-${randomUUID()}`,
      args: [{ secret, failWorkflow }],
      staticSummary: `summary with ${secret}`,
      typedSearchAttributes: [{ key: SA.mesh, value: 'lab-mesh' }],
    });
    const outcome = await worker.runUntil(handle.result().then((r) => ({ ok: r }), (err: unknown) => ({ err })));
    return { client, handle, outcome };
  }

  async function assertOnlyCiphertext(events: Event[], secret: string) {
    const raw = Buffer.from(History.encode({ events }).finish());
    assert.ok(!raw.includes(secret), 'the secret appears in plaintext somewhere in the raw history');
    const found = payloadsIn(events, 'events', []);
    const outsideSearchAttributes = found.filter((p) => !/searchAttributes/i.test(p.path));
    assert.ok(outsideSearchAttributes.length >= 4, `expected input, result/failure and metadata payloads, got ${JSON.stringify(found)}`);
    for (const p of outsideSearchAttributes) assert.equal(p.encoding, ENCRYPTED_ENCODING, `payload at ${p.path}`);
    // Search attributes are never encoded by design: they must stay readable and free of the secret.
    const sa = found.filter((p) => /searchAttributes/i.test(p.path));
    assert.ok(sa.length > 0 && sa.every((p) => p.encoding !== ENCRYPTED_ENCODING));
  }

  test('a finished rollout-like run leaves only encrypted payloads; a codec client reads it back', { timeout: 120_000 }, async () => {
    const secret = `TALOS-SECRET-${randomUUID()}`;
    const { handle, outcome } = await runEcho(secret, false);
    assert.deepEqual(outcome, { ok: { echoed: `echo:${secret}` } });
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    // The activity's first attempt failed; the retry records that failure (message and stack) in history.
    const started = events.find((e) => e.activityTaskStartedEventAttributes?.attempt === 2);
    const lastFailure = started?.activityTaskStartedEventAttributes?.lastFailure;
    assert.ok(lastFailure, 'expected the first attempt failure to be recorded');
    assert.equal(lastFailure.message, 'Encoded failure');
    assert.equal(lastFailure.stackTrace, '');
    await assertOnlyCiphertext(events, secret);

    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(SA.mesh), 'lab-mesh');
    const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
    await assert.rejects(plain.workflow.getHandle(handle.workflowId).result(), /encoding|binary\/encrypted/i);
  });

  test('a workflow failure thrown in the sandbox is encrypted too, and decodes for a codec client', { timeout: 120_000 }, async () => {
    const secret = `BMC-PASSWORD-${randomUUID()}`;
    const { handle, outcome } = await runEcho(secret, true);
    assert.ok('err' in outcome && outcome.err instanceof WorkflowFailedError);
    const cause = outcome.err.cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.message, `workflow gave up holding ${secret}`);
    const events = (await handle.fetchHistory()).events ?? [];
    const failed = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
    assert.equal(failed?.failure?.message, 'Encoded failure');
    await assertOnlyCiphertext(events, secret);
  });
});
