import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, renameSync, statSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { EncryptedFileSecretStore, keyFromString } from '../../secrets/encrypted-file-store.ts';

const key = keyFromString('test-key-material');

describe('encrypted file secret store', () => {
  test('round trip, encrypted at rest, 0600', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sec-'));
    const store = new EncryptedFileSecretStore(dir, key);
    await store.put('mesh/m/c/talosconfig', 'context: admin\nkey: SUPERSECRET');
    assert.equal((await store.get('mesh/m/c/talosconfig')).toString(), 'context: admin\nkey: SUPERSECRET');
    const file = path.join(dir, 'mesh/m/c/talosconfig.enc');
    assert.ok(!readFileSync(file).toString('latin1').includes('SUPERSECRET'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('list names what is stored under a prefix, sorted, without decrypting or counting half-written files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sec-'));
    const store = new EncryptedFileSecretStore(dir, key);
    for (const ref of ['backup/m/c2/b', 'backup/m/c1/a.meta', 'backup/m/c1/a', 'backup/n/c1/x', 'mesh/m/c1/kubeconfig']) await store.put(ref, 'v');
    mkdirSync(path.join(dir, 'backup/m/c3'), { recursive: true });
    assert.deepEqual(await store.list('backup/m/'), ['backup/m/c1/a', 'backup/m/c1/a.meta', 'backup/m/c2/b']);
    assert.deepEqual(await store.list('backup/m/c1/'), ['backup/m/c1/a', 'backup/m/c1/a.meta']);
    assert.deepEqual(await store.list('backup/none/'), []);
  });

  test('ifAbsent keeps the first value: generated once, ever', async () => {
    const store = new EncryptedFileSecretStore(mkdtempSync(path.join(os.tmpdir(), 'sec-')), key);
    assert.equal(await store.put('a/b', 'first', { ifAbsent: true }), true);
    assert.equal(await store.put('a/b', 'second', { ifAbsent: true }), false);
    assert.equal((await store.get('a/b')).toString(), 'first');
  });

  test('a wrong key or a moved file does not decrypt', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sec-'));
    await new EncryptedFileSecretStore(dir, key).put('x/one', 'v');
    await assert.rejects(new EncryptedFileSecretStore(dir, keyFromString('other')).get('x/one'), /cannot decrypt/);
    mkdirSync(path.join(dir, 'y'), { recursive: true });
    renameSync(path.join(dir, 'x/one.enc'), path.join(dir, 'y/two.enc'));
    await assert.rejects(new EncryptedFileSecretStore(dir, key).get('y/two'), /cannot decrypt/);
  });

  test('ifAbsent is atomic: of racing writers exactly one wins, the value is whole, no temporary file is left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sec-'));
    const store = new EncryptedFileSecretStore(dir, key);
    const values = Array.from({ length: 8 }, (_, i) => `bundle-${i}-${'x'.repeat(4096)}`);
    const won = await Promise.all(values.map((v) => store.put('mesh/m/c/talos-secrets', v, { ifAbsent: true })));
    assert.equal(won.filter(Boolean).length, 1);
    assert.equal((await store.get('mesh/m/c/talos-secrets')).toString(), values[won.indexOf(true)]);
    assert.deepEqual(readdirSync(path.join(dir, 'mesh/m/c')), ['talos-secrets.enc']);
  });

  test('invalid references and missing secrets are clear errors', async () => {
    const store = new EncryptedFileSecretStore(mkdtempSync(path.join(os.tmpdir(), 'sec-')), key);
    await assert.rejects(store.get('../etc/passwd'), /invalid secret reference/);
    await assert.rejects(store.get('no/such'), /secret "no\/such" not found/);
  });
});
