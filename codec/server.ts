import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { AesGcmCodec, PayloadDecryptError } from './aes-gcm-codec.ts';
import type { CodecKeyring } from './config.ts';

export interface CodecServerOptions {
  keys: CodecKeyring;
  /** 0 picks a free port. Default 8888, the port Temporal's docs and samples use. */
  port?: number;
  /** Default 127.0.0.1: the server decrypts for anyone who reaches it, so exposing it is a deliberate choice. */
  host?: string;
  /** Browser origins of the Web UI allowed to call us (exact match, e.g. http://localhost:8233). */
  uiOrigins: string[];
  /** When set, POST /encode and /decode need `Authorization: Bearer <token>`. */
  authToken?: string;
  log?: (line: string) => void;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_CODEC_PORT = 8888;
// A UI page decodes a history in a few requests; 2 MB payloads are the server's own per-blob ceiling.
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'x-namespace, content-type, authorization';

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
/** The Temporal codec-server body: Payloads in protobuf JSON (bytes as base64). */
const payloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).optional(),
      data: base64.optional(),
    }),
  ),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? []).toString('base64') };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): Payload[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not JSON: expected {"payloads":[{"metadata":{...},"data":"<base64>"}]}');
  }
  const parsed = payloadsBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `invalid body at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.payloads.map(fromJson);
}

/**
 * The codec server the Web UI and `temporal --codec-endpoint` call to show decrypted payloads.
 * Routes: POST /encode, POST /decode (also under /{namespace}/, the CLI's endpoint templating), GET /healthz.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  const codec: PayloadCodec = new AesGcmCodec(opts.keys);
  const origins = new Set(opts.uiOrigins);
  const log = opts.log ?? (() => {});

  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (!origin || !origins.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    // The UI's "include cross-origin credentials" setting sends cookies; without this the browser drops the answer.
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    return true;
  }

  function send(res: ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const allowed = cors(req, res);
    if (path === '/healthz') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET /healthz');
      send(res, 200, { status: 'ok' });
      return 200;
    }
    const action = path.match(/^(?:\/[A-Za-z0-9._-]+)?\/(encode|decode)$/)?.[1] as 'encode' | 'decode' | undefined;
    if (!action) throw new HttpError(404, `no route ${path}: use POST /encode or POST /decode`);
    if (req.method === 'OPTIONS') {
      if (!allowed) throw new HttpError(403, `origin ${JSON.stringify(req.headers.origin ?? '')} is not an allowed UI origin`);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      send(res, 204);
      return 204;
    }
    if (req.method !== 'POST') throw new HttpError(405, `use POST ${path}`);
    if (opts.authToken && !tokenMatches(req.headers.authorization, opts.authToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    const payloads = parseBody(await readBody(req));
    const out = action === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    send(res, 200, { payloads: out.map(toJson) });
    return 200;
  }

  const server = http.createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof HttpError) return (send(res, err.status, { error: err.message }), err.status);
        if (err instanceof PayloadDecryptError) return (send(res, 422, { error: err.message }), 422);
        // Anything else may carry payload bytes in its message: answer generically.
        send(res, 500, { error: 'codec server error' });
        return 500;
      })
      .then((status) => log(`${req.method} ${req.url} ${status} ${Date.now() - started}ms`))
      // the answer is sent; a log sink that throws must not become an unhandled rejection that kills the server
      .catch(() => undefined);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_CODEC_PORT, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
