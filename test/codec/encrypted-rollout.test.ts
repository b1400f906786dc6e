// With the codec on, a finished rollout's raw history holds only encrypted payloads: no cluster names, node
// addresses, secret references or failure messages in clear; a client with the keys reads it all back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { parseCodecKeys } from '../../codec/config.ts';
import { dataConverter } from '../../codec/data-converter.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';

describe('encrypted rollout history', () => {
  const suite = useLabSuite();

  test('every payload of the parent and the children is binary/encrypted; the codec client decodes the status', async () => {
    const converter = dataConverter(parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`));
    const l = await suite.lab({ scenario: 'flaky-tools', dataConverter: converter });
    const client = new Client({ connection: suite.env.connection, namespace: 'default', dataConverter: converter });
    const { workflowId } = await start(client, l.plan, l.taskQueue);
    const view = await waitFor(client, workflowId, isFinished, 240_000);
    assert.equal(view.state, 'completed');

    const ids = [workflowId, ...view.clusters.map((c) => c.workflowId)];
    let payloads = 0;
    let failures = 0;
    for (const id of ids) {
      const history = await suite.env.client.workflow.getHandle(id).fetchHistory();
      const walk = (v: unknown, key = '', at = ''): void => {
        // search attributes are never encoded, by design: they hold no secrets (mesh, state, step names)
        if (key === 'searchAttributes') return;
        // a patched() marker is written by the SDK's core, outside the codec: it must hold the patch id and nothing else
        if (key === 'patch-data') {
          for (const p of (v as { payloads: { data: Uint8Array }[] }).payloads) {
            assert.deepEqual(Object.keys(JSON.parse(Buffer.from(p.data).toString()) as object).sort(), ['deprecated', 'id'], `patch marker in ${id} holds only its id`);
          }
          return;
        }
        if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
          const o = v as Record<string, unknown>;
          if (o.metadata && o.data instanceof Uint8Array) {
            payloads++;
            const enc = Buffer.from((o.metadata as Record<string, Uint8Array>).encoding ?? []).toString();
            assert.equal(enc, 'binary/encrypted', `a payload in ${id} at ${at} is ${enc}: ${Buffer.from(o.data).toString().slice(0, 200)}`);
            for (const clear of ['cluster-usa', '192.168.10.11', 'mesh/usa-europe', 'talosctl']) {
              assert.ok(!Buffer.from(o.data).toString('latin1').includes(clear), `"${clear}" in clear in ${id}`);
            }
            return;
          }
          if (key === 'failure' || 'applicationFailureInfo' in o) {
            failures++;
            assert.ok(!/talosctl|kubectl|helm|Unavailable/.test(String(o.message ?? '')), `failure message in clear in ${id}: ${String(o.message)}`);
          }
          for (const [k, child] of Object.entries(o)) walk(child, k, `${at}.${k}`);
        } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, key, `${at}[${i}]`));
      };
      walk(history);
    }
    assert.ok(payloads > 50, `payloads were found (${payloads})`);
    assert.ok(failures > 0, 'flaky tools left activity failures in history, and their messages are encrypted');
    // the keys make it readable again
    const decoded = await getRolloutView(client, workflowId);
    assert.deepEqual(decoded.clusters.map((c) => c.name).sort(), ['cluster-europe', 'cluster-usa']);
  });
});
