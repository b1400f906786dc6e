// No tool outlives its activity or its worker: process groups, the parent-death signal, the tool scope and the
// start-up sweep, with tiny real executables (test/fixtures/bin) — no mocks of the process boundary.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { parentDeathPrefix } from '../../../activities/exec/parent-death.ts';
import { processToken } from '../../../activities/exec/proc.ts';
import { groupsIn, sweepLedgers } from '../../../activities/exec/process-ledger.ts';
import { onToolEvent, runTool } from '../../../activities/exec/run-tool.ts';
import { withToolScope } from '../../../activities/exec/tool-scope.ts';

const forking = path.resolve('test/fixtures/bin/forking-tool');
const slow = path.resolve('test/fixtures/bin/slow-tool');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie is dead for our purposes (its parent has not reaped it yet)
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const readPid = (file: string) => () => {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return n > 0 ? n : undefined;
};

/** Polls until the pids are gone; returns how long that took, or fails after `withinMs`. */
async function goneWithin(pids: number[], withinMs: number): Promise<number> {
  const started = Date.now();
  while (pids.some(alive)) {
    assert.ok(Date.now() - started < withinMs, `still alive after ${withinMs} ms: ${pids.filter(alive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

function pidFiles() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hygiene-'));
  return { dir, tool: path.join(dir, 'tool.pid'), child: path.join(dir, 'child.pid') };
}

describe('tool processes', () => {
  test('the parent-death signal is available here (setpriv with --pdeathsig): CI must prove what production relies on', () => {
    const { prefix, why } = parentDeathPrefix();
    assert.equal(why, undefined);
    assert.match(prefix[0]!, /setpriv$/);
  });

  test('cancellation terminates the whole process group: the tool and what it started', async () => {
    const f = pidFiles();
    const env = new MockActivityEnvironment();
    const running = env.run(() => runTool({ env: { PATH: process.env.PATH, PIDFILE: f.tool, CHILD_PIDFILE: f.child } }, forking, []));
    const tool = await waitFor('the tool', readPid(f.tool));
    const grandchild = await waitFor('its child', readPid(f.child));
    assert.ok(alive(tool) && alive(grandchild));
    env.cancel();
    await assert.rejects(running, (err) => err instanceof CancelledFailure && /killed .*forking-tool/.test(err.message));
    await goneWithin([tool, grandchild], 2_000);
  });

  test('a cancelled activity starts no new tool call', async () => {
    const env = new MockActivityEnvironment();
    const spawned: string[] = [];
    const off = onToolEvent((e) => e.type === 'spawn' && spawned.push(e.command));
    try {
      await assert.rejects(
        env.run(async () => {
          env.cancel();
          return runTool({ env: { PATH: process.env.PATH } }, slow, ['after-cancel', 'x']);
        }),
        (err) => err instanceof CancelledFailure && /was not started/.test(err.message),
      );
    } finally {
      off();
    }
    assert.deepEqual(spawned, []);
  });

  test('when an activity ends, its tools still running are terminated and later calls refused (a failed parallel check)', async () => {
    const f = pidFiles();
    const tools = { env: { PATH: process.env.PATH, PIDFILE: f.tool, CHILD_PIDFILE: f.child } };
    let late: Promise<unknown> | undefined;
    await assert.rejects(
      withToolScope(async () => {
        // two checks in parallel: one runs on, the other fails at once; the activity fails with the first error
        const sibling = runTool(tools, forking, []);
        sibling.catch(() => undefined);
        late = (async () => {
          await new Promise((r) => setTimeout(r, 300));
          return runTool({ env: { PATH: process.env.PATH } }, slow, ['too-late', 'x']);
        })();
        late.catch(() => undefined);
        await waitFor('the sibling tool', readPid(f.child));
        await Promise.all([sibling, Promise.reject(new Error('the other check failed'))]);
      }),
      /the other check failed/,
    );
    // the scope waited for the sibling's group to be gone before the activity settled
    assert.equal(alive(Number(readFileSync(f.tool, 'utf8'))), false);
    assert.equal(alive(Number(readFileSync(f.child, 'utf8'))), false);
    await assert.rejects(late!, (err) => err instanceof CancelledFailure && /the activity failed; .*too-late x was not started/.test(err.message));
  });

  test('a tool dies with its worker even on SIGKILL; the next start-up sweep kills what the tool itself left in its group', async () => {
    const f = pidFiles();
    const ledgers = path.join(f.dir, 'run');
    const worker = execa('node', ['--import', 'tsx', 'test/fixtures/exec/tool-parent.ts', ledgers, f.tool, f.child], { reject: false, stdio: 'inherit' });
    const tool = await waitFor('the tool', readPid(f.tool), 60_000);
    const grandchild = await waitFor('its child', readPid(f.child), 60_000);
    const recorded = () => {
      const ledger = readdirSync(ledgers).find((n) => n.endsWith('.pids'));
      const groups = ledger ? [...groupsIn(readFileSync(path.join(ledgers, ledger), 'utf8')).keys()] : [];
      return groups.length ? groups : undefined;
    };
    assert.deepEqual(await waitFor('the ledger line', recorded), [tool], 'the ledger records the running group');
    worker.kill('SIGKILL');
    await worker;
    const ms = await goneWithin([tool], 2_000);
    assert.ok(ms <= 2_000);
    // the grandchild is not the worker's child: no parent-death signal for it, the sweep is its end
    assert.ok(alive(grandchild), 'the grandchild outlived the worker (what the sweep is for)');
    const swept = sweepLedgers(ledgers);
    assert.deepEqual(swept.killed, [tool]);
    assert.equal(swept.ledgers, 1);
    await goneWithin([grandchild], 2_000);
    assert.deepEqual(readdirSync(ledgers), [], 'the dead worker ledger is removed');
  });

  test("the sweep leaves a live worker's tools alone", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hygiene-live-'));
    const owner = execa('sleep', ['300'], { reject: false });
    const group = execa('sleep', ['300'], { reject: false, detached: true });
    try {
      writeFileSync(path.join(dir, `${processToken(owner.pid!)}.pids`), `+${group.pid} 0\n`);
      assert.deepEqual(sweepLedgers(dir).killed, []);
      assert.ok(alive(group.pid!));
    } finally {
      owner.kill('SIGKILL');
      group.kill('SIGKILL');
    }
  });

  test('the parent check after the prctl: a tool whose starter is not the worker (it died before the prctl) does not run', async () => {
    const { prefix } = parentDeathPrefix();
    // the shell in between plays the worker that died: setpriv's parent is no longer this process
    const r = await execa('sh', ['-c', '"$@"; echo "exit $?"', 'sh', ...prefix, 'echo', 'ran'], { reject: false });
    assert.equal(r.stdout.trim(), 'exit 137');
    const direct = await execa(prefix[0]!, [...prefix.slice(1), 'echo', 'ran'], { reject: false });
    assert.equal(direct.stdout.trim(), 'ran');
  });
});
