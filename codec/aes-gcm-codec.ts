import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { CodecKeyring } from './config.ts';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload the codec cannot decrypt: unknown key id, tampered ciphertext or malformed envelope. */
export class PayloadDecryptError extends Error {
  override name = 'PayloadDecryptError';
}

const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/**
 * AES-256-GCM over the whole serialized Payload (metadata included, so even the inner encoding is hidden).
 * Layout iv(12) | ciphertext | tag(16), as WebCrypto emits it, so the Temporal samples' codec servers can read ours.
 * Runs outside the workflow sandbox (worker main thread, clients, codec server); workflow code never sees keys.
 */
export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly keyring: CodecKeyring) {
    const current = keyring.keys.get(keyring.current);
    if (!current) throw new Error(`codec keyring: encrypting key "${keyring.current}" is not among its keys`);
    for (const [id, key] of keyring.keys) {
      if (key.length !== 32) throw new Error(`codec keyring: key "${id}" must be 32 bytes`);
    }
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keyring.keys.get(this.keyring.current)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = PayloadMessage.encode(payload).finish();
      const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(this.keyring.current),
        },
        data: body,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decryptOne(payload) : payload));
  }

  private decryptOne(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!id) throw new PayloadDecryptError(`encrypted payload has no "${KEY_ID_METADATA}" metadata`);
    const key = this.keyring.keys.get(id);
    if (!key) {
      throw new PayloadDecryptError(
        `payload was encrypted with key id "${id}", which is not configured (configured: ${[...this.keyring.keys.keys()].join(', ')}); ` +
          'keep retired keys listed after the current one so old histories stay readable',
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptError(`encrypted payload (key "${id}") is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptError(`encrypted payload (key "${id}") failed authentication: tampered, or different key material under that id`);
    }
    const decoded = PayloadMessage.decode(plain);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}
