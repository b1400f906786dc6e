import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { assertSecretRef, SecretNotFoundError, type SecretStore } from './store.ts';

const MAGIC = Buffer.from('MPS1');

/** Derives the 32-byte AES key from MESHPILOT_SECRET_KEY (any string: hashed; or 64 hex chars: used as is). */
export function keyFromString(material: string): Buffer {
  return /^[0-9a-f]{64}$/i.test(material) ? Buffer.from(material, 'hex') : createHash('sha256').update(material).digest();
}

/**
 * Local files encrypted at rest with AES-256-GCM (one file per secret, ref as the path, ref bound as AAD so a
 * file moved to another name does not decrypt). The key comes from the environment, never from the store dir.
 */
export class EncryptedFileSecretStore implements SecretStore {
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('secret store key must be 32 bytes');
  }

  private file(ref: string): string {
    assertSecretRef(ref);
    return path.join(this.dir, `${ref}.enc`);
  }

  async has(ref: string): Promise<boolean> {
    return existsSync(this.file(ref));
  }

  async get(ref: string): Promise<Buffer> {
    const file = this.file(ref);
    let blob: Buffer;
    try {
      blob = await readFile(file);
    } catch {
      throw new SecretNotFoundError(ref);
    }
    if (!blob.subarray(0, 4).equals(MAGIC)) throw new Error(`secret ${ref}: not a meshpilot secret file`);
    const iv = blob.subarray(4, 16);
    const tag = blob.subarray(16, 32);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(ref));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(blob.subarray(32)), decipher.final()]);
    } catch {
      throw new Error(`secret ${ref}: cannot decrypt (wrong MESHPILOT_SECRET_KEY?)`);
    }
  }

  async put(ref: string, value: Buffer | string, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const file = this.file(ref);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const body = Buffer.concat([cipher.update(Buffer.isBuffer(value) ? value : Buffer.from(value)), cipher.final()]);
    // Layout: MAGIC(4) iv(12) tag(16) ciphertext.
    const fixed = Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
    // Written whole to a temporary name first, so a crash never leaves a truncated file under the real name. With
    // ifAbsent the rename is a link(2), which fails when the name exists: of two racing writers exactly one wins,
    // and "generated once, ever" holds across crashes (nothing is stored until it is stored completely).
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(fixed);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (!opts.ifAbsent) {
      await rename(tmp, file);
      return true;
    }
    try {
      await link(tmp, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async delete(ref: string): Promise<void> {
    await unlink(this.file(ref)).catch(() => {});
  }

  async list(prefix: string): Promise<string[]> {
    // the prefix's directory part is walked; a half-written `.tmp` file is no secret yet
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (base) assertSecretRef(base);
    let entries: string[];
    try {
      entries = await readdir(path.join(this.dir, base), { recursive: true });
    } catch {
      return [];
    }
    return entries
      .filter((e) => e.endsWith('.enc'))
      .map((e) => [base, e.slice(0, -'.enc'.length).split(path.sep).join('/')].filter(Boolean).join('/'))
      .filter((ref) => ref.startsWith(prefix))
      .sort();
  }
}
