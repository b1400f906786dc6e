import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptError } from '../../codec/aes-gcm-codec.ts';
import { codecKeyRef, loadCodecKeyring, parseCodecKeys } from '../../codec/config.ts';
import { ConfigError } from '../../config/env.ts';
import type { SecretStore } from '../../secrets/store.ts';

const b64 = () => randomBytes(32).toString('base64');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();
const plain = (value: unknown) => defaultPayloadConverter.toPayload(value);

describe('AesGcmCodec', () => {
  const oldKey = b64();
  const newKey = b64();

  test('round trip hides the value and its inner encoding', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${oldKey}`));
    const input = plain({ talosconfig: 'SUPER-SECRET-TOKEN' });
    const [enc] = await codec.encode([input]);
    assert.equal(meta(enc!, 'encoding'), ENCRYPTED_ENCODING);
    assert.equal(meta(enc!, KEY_ID_METADATA), 'k1');
    const raw = Buffer.from(enc!.data!).toString('latin1');
    assert.ok(!raw.includes('SUPER-SECRET-TOKEN'));
    assert.ok(!raw.includes('json/plain'));
    const [dec] = await codec.decode([enc!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(dec!), { talosconfig: 'SUPER-SECRET-TOKEN' });
    assert.equal(meta(dec!, 'encoding'), 'json/plain');
  });

  test('rotation: the new key encrypts, the old key still decrypts', async () => {
    const before = new AesGcmCodec(parseCodecKeys(`2024-a:${oldKey}`));
    const after = new AesGcmCodec(parseCodecKeys(`2025-b:${newKey},2024-a:${oldKey}`));
    const [old] = await before.encode([plain('written last year')]);
    const [fresh] = await after.encode([plain('written today')]);
    assert.equal(meta(fresh!, KEY_ID_METADATA), '2025-b');
    const [a, b] = await after.decode([old!, fresh!]);
    assert.equal(defaultPayloadConverter.fromPayload(a!), 'written last year');
    assert.equal(defaultPayloadConverter.fromPayload(b!), 'written today');
  });

  test('an unknown key id is a clear error naming the id', async () => {
    const [enc] = await new AesGcmCodec(parseCodecKeys(`gone:${oldKey}`)).encode([plain(1)]);
    const codec = new AesGcmCodec(parseCodecKeys(`k2:${newKey}`));
    await assert.rejects(codec.decode([enc!]), (err: Error) => {
      assert.ok(err instanceof PayloadDecryptError);
      assert.match(err.message, /key id "gone".*not configured \(configured: k2\)/);
      return true;
    });
  });

  test('tampered ciphertext, tag or a swapped key under the same id is rejected', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${oldKey}`));
    const [enc] = await codec.encode([plain('do not change me')]);
    const flipped = Buffer.from(enc!.data!);
    flipped[14] = flipped[14]! ^ 0x01;
    await assert.rejects(codec.decode([{ ...enc!, data: flipped }]), /failed authentication/);
    const other = new AesGcmCodec(parseCodecKeys(`k1:${newKey}`));
    await assert.rejects(other.decode([enc!]), /failed authentication/);
    await assert.rejects(codec.decode([{ ...enc!, data: Buffer.alloc(8) }]), /truncated/);
  });

  test('payloads that are not encrypted pass through decode unchanged', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${oldKey}`));
    const p = plain('legacy history');
    const [out] = await codec.decode([p]);
    assert.equal(out, p);
  });
});

describe('codec keys from configuration', () => {
  test('parse errors name the variable and never echo key material', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    assert.throws(() => parseCodecKeys(`k1:${short}`), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /MESHPILOT_CODEC_KEYS: key "k1": .*32 bytes/);
      assert.ok(!err.message.includes(short));
      return true;
    });
    assert.throws(() => parseCodecKeys('nokey'), /MESHPILOT_CODEC_KEYS: entry 1 has no ":"/);
    assert.throws(() => parseCodecKeys(`Bad Id:${b64()}`), /MESHPILOT_CODEC_KEYS: entry 1: a key id/);
    const k = b64();
    assert.throws(() => parseCodecKeys(`a:${k},a:${k}`), /key id "a" is listed twice/);
  });

  test('no variable set means encryption is off; both set is an error', async () => {
    assert.equal(await loadCodecKeyring({}), undefined);
    await assert.rejects(
      loadCodecKeyring({ MESHPILOT_CODEC_KEYS: `a:${b64()}`, MESHPILOT_CODEC_KEY_IDS: 'a' }),
      /set either MESHPILOT_CODEC_KEYS or MESHPILOT_CODEC_KEY_IDS/,
    );
  });

  test('keys by id come from the secret store, raw or base64, first id encrypts', async () => {
    const raw = randomBytes(32);
    const text = b64();
    const stored = new Map<string, Buffer>([
      [codecKeyRef('new'), Buffer.from(`${text}\n`)],
      [codecKeyRef('old'), raw],
    ]);
    const secrets = {
      has: async (ref: string) => stored.has(ref),
      get: async (ref: string) => stored.get(ref)!,
    } as unknown as SecretStore;
    const ring = await loadCodecKeyring({ MESHPILOT_CODEC_KEY_IDS: 'new,old' }, secrets);
    assert.equal(ring?.current, 'new');
    assert.deepEqual(ring?.keys.get('new'), Buffer.from(text, 'base64'));
    assert.deepEqual(ring?.keys.get('old'), raw);
    await assert.rejects(
      loadCodecKeyring({ MESHPILOT_CODEC_KEY_IDS: 'new,missing' }, secrets),
      /MESHPILOT_CODEC_KEY_IDS: key "missing" is not in the secret store \(expected at codec\/keys\/missing\)/,
    );
    await assert.rejects(loadCodecKeyring({ MESHPILOT_CODEC_KEY_IDS: 'new' }), /need the secret store/);
  });
});
