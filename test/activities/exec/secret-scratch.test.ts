// Secrets a tool needs as a file live in RAM, privately, for the length of the call; a dead worker's are swept.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { processToken } from '../../../activities/exec/proc.ts';
import {
  createScratchDir,
  identityDirName,
  scratchBase,
  SECRET_TMPDIR_ENV,
  secretScratchRoot,
  sweepSecretScratch,
  withSecretDir,
  withSecretFile,
} from '../../../activities/exec/secret-scratch.ts';

const uid = process.getuid!();

describe('secret scratch', () => {
  test('the scratch is RAM-backed on this host (/dev/shm is a tmpfs): nothing a tool reads lands on a disk', () => {
    const base = scratchBase({});
    assert.equal(base.ramBacked, true, base.warning);
    assert.equal(base.warning, undefined);
    const { dir } = secretScratchRoot();
    assert.ok(dir.startsWith(path.join(base.dir, `meshpilot-${uid}`)));
    for (let d = dir; d !== base.dir; d = path.dirname(d)) assert.equal(statSync(d).mode & 0o777, 0o700, `${d} is private`);
  });

  test('a secret file exists, 0600, only while the call runs — also when the call fails', async () => {
    let seen = '';
    await withSecretFile('mesh/m/c/talosconfig', 'key: s3cr3t-value', async (file) => {
      seen = file;
      assert.equal(readFileSync(file, 'utf8'), 'key: s3cr3t-value');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(path.basename(file), 'talosconfig');
    });
    assert.equal(existsSync(path.dirname(seen)), false);
    let dir = '';
    await assert.rejects(
      withSecretDir(async (d) => {
        dir = d;
        writeFileSync(path.join(d, 'secrets.yaml'), 'x');
        throw new Error('tool failed');
      }),
      /tool failed/,
    );
    assert.equal(existsSync(dir), false);
  });

  test("the start-up sweep removes a dead worker's scratch and keeps a live one's", async () => {
    const base = mkdtempSync(path.join('/dev/shm', 'mp-sweep-'));
    const env = { [SECRET_TMPDIR_ENV]: base };
    const identity = 'meshpilot-usa@test-host';
    const live = execa('sleep', ['300'], { reject: false });
    const dead = execa('true');
    await dead;
    try {
      const identityDir = path.join(base, `meshpilot-${uid}`, identityDirName(identity));
      for (const owner of [processToken(live.pid!), processToken(dead.pid!)]) {
        mkdirSync(path.join(identityDir, owner, 'call-1'), { recursive: true, mode: 0o700 });
        writeFileSync(path.join(identityDir, owner, 'call-1', 'kubeconfig'), 'secret');
      }
      chmodSync(path.join(base, `meshpilot-${uid}`), 0o700);
      const { removed } = sweepSecretScratch({ identity, env });
      assert.deepEqual(removed, [processToken(dead.pid!)]);
      assert.deepEqual(readdirSync(identityDir), [processToken(live.pid!)]);
    } finally {
      live.kill('SIGKILL');
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('a per-user directory that others can enter is refused, naming it', () => {
    const base = mkdtempSync(path.join('/dev/shm', 'mp-open-'));
    mkdirSync(path.join(base, `meshpilot-${uid}`), { mode: 0o755 });
    chmodSync(path.join(base, `meshpilot-${uid}`), 0o755);
    try {
      assert.throws(() => createScratchDir(base, 'meshpilot@x'), new RegExp(`meshpilot-${uid} must be a directory owned by this user with mode 0700`));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('a base that is not a tmpfs is used but reported', () => {
    const onDisk = mkdtempSync(path.join(process.cwd(), '.tmp-scratch-'));
    try {
      const base = scratchBase({ [SECRET_TMPDIR_ENV]: onDisk });
      assert.equal(base.ramBacked, false);
      assert.match(base.warning!, /is not a tmpfs/);
    } finally {
      rmSync(onDisk, { recursive: true, force: true });
    }
  });
});
