/**
 * The wire format between a lab tool shim (lab/shim/labcall.go) and the lab tool server: frames of
 * one type byte, a big-endian uint32 length and that many bytes.
 *
 *   shim → server   q  the call (JSON: tool, argv, env as KEY=VALUE strings, cwd, pid)
 *                   s  the shim's whole stdin, sent only when the server asks for it
 *   server → shim   o  bytes for stdout       e  bytes for stderr
 *                   i  "send me your stdin"   x  the exit code (decimal text); the last frame
 */
export type FrameType = 'q' | 's' | 'o' | 'e' | 'i' | 'x';

export function encodeFrame(type: FrameType, payload: string | Buffer = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; `push` returns every frame completed by the chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: string; body: Buffer }[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: { type: string; body: Buffer }[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      out.push({ type: this.buf.toString('latin1', 0, 1), body: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    return out;
  }
}
