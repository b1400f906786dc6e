// A loopback fake of the parts of Slack meshpilot talks to: the Web API (auth.test, chat.postMessage,
// chat.update) and response_url endpoints. Every call is recorded; messages are kept by ts so tests can see
// whether something was updated in place or posted again.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  authorization?: string;
  contentType?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  versions: number;
}

/** A file uploaded through files.getUploadURLExternal → the upload URL → files.completeUploadExternal. */
export interface StoredFile {
  id: string;
  filename: string;
  content: string;
  title?: string;
  channel?: string;
  threadTs?: string;
  comment?: string;
}

export interface FakeSlack {
  apiUrl: string;
  files: Map<string, StoredFile>;
  responseUrl(id: string): string;
  calls: ApiCall[];
  responses: Array<{ id: string; body: Record<string, unknown> }>;
  messages: Map<string, StoredMessage>;
  /** the next call of `method` answers this instead (an HTTP status, or Slack's ok:false error code) */
  failNext(method: string, failure: { status?: number; error?: string; retryAfter?: number }): void;
  waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parse(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = k === 'blocks' || k === 'attachments' ? JSON.parse(v) : v;
  }
  return out;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: ApiCall[] = [];
  const responses: FakeSlack['responses'] = [];
  const messages = new Map<string, StoredMessage>();
  const files = new Map<string, StoredFile>();
  const failures = new Map<string, { status?: number; error?: string; retryAfter?: number }>();
  let seq = 0;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith('/response/')) {
      responses.push({ id: url.pathname.slice('/response/'.length), body: parse(req.headers['content-type'], raw) });
      return reply(200, { ok: true });
    }
    if (url.pathname.startsWith('/upload/')) {
      const f = files.get(url.pathname.slice('/upload/'.length));
      if (!f) return reply(404, { ok: false });
      f.content = raw;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
      return;
    }
    if (!url.pathname.startsWith('/api/')) return reply(404, { ok: false, error: 'not_found' });
    const method = url.pathname.slice('/api/'.length);
    const body = parse(req.headers['content-type'], raw);
    calls.push({ method, body, authorization: req.headers.authorization, contentType: req.headers['content-type'] });
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      if (failure.status) return reply(failure.status, { ok: false }, failure.retryAfter ? { 'retry-after': String(failure.retryAfter) } : {});
      return reply(200, { ok: false, error: failure.error });
    }
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '') || String(body.token ?? '');
    if (!token.startsWith('xoxb-')) return reply(200, { ok: false, error: 'not_authed' });
    switch (method) {
      case 'auth.test':
        return reply(200, { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'meshpilot', team_id: 'T0FAKE', user_id: 'U0BOT', bot_id: 'B0BOT' });
      case 'chat.postMessage': {
        const channel = String(body.channel ?? '');
        if (!channel) return reply(200, { ok: false, error: 'channel_not_found' });
        seq += 1;
        const ts = `1700000000.${String(seq).padStart(6, '0')}`;
        messages.set(ts, { channel, ts, text: String(body.text ?? ''), blocks: (body.blocks as StoredMessage['blocks']) ?? [], versions: 1 });
        return reply(200, { ok: true, channel, ts, message: { text: body.text } });
      }
      case 'chat.update': {
        const m = messages.get(String(body.ts));
        if (!m || m.channel !== body.channel) return reply(200, { ok: false, error: 'message_not_found' });
        m.text = String(body.text ?? '');
        m.blocks = (body.blocks as StoredMessage['blocks']) ?? [];
        m.versions += 1;
        return reply(200, { ok: true, channel: m.channel, ts: m.ts });
      }
      case 'files.getUploadURLExternal': {
        if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return reply(200, { ok: false, error: 'invalid_arguments' });
        if (!body.filename || !Number(body.length)) return reply(200, { ok: false, error: 'missing_argument' });
        seq += 1;
        const id = `F${String(seq).padStart(6, '0')}`;
        files.set(id, { id, filename: String(body.filename), content: '' });
        return reply(200, { ok: true, upload_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const shared = JSON.parse(String(body.files ?? '[]')) as Array<{ id: string; title?: string }>;
        for (const x of shared) {
          const f = files.get(x.id);
          if (!f || !f.content) return reply(200, { ok: false, error: 'file_not_found' });
          Object.assign(f, { title: x.title, channel: body.channel_id, threadTs: body.thread_ts, comment: body.initial_comment });
        }
        return reply(200, { ok: true, files: shared });
      }
      default:
        return reply(200, { ok: false, error: 'unknown_method' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    files,
    responseUrl: (id) => `${base}/response/${id}`,
    calls,
    responses,
    messages,
    failNext: (method, failure) => void failures.set(method, failure),
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
