// The chat app's HTTP front: health, then our own checks on every Slack request before Bolt sees it. Bolt
// verifies signatures too, but accepts timestamps from the future, accepts the same signed request as often as
// it is sent, and answers a wrong content type with a 401/400 that hides the cause; here the window is
// symmetric, a request is accepted at most once, and each refusal has its own status.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ReplayGuard } from './replay-guard.ts';
import { verifySlackSignature } from './signature.ts';

export const SLACK_ENDPOINT = '/slack/events';
const MAX_BODY_BYTES = 1024 * 1024;
const FORM = 'application/x-www-form-urlencoded';

export interface GateOptions {
  signingSecret: string;
  /** Bolt's receiver.requestListener: gets requests that passed, with `rawBody` already read */
  bolt: (req: IncomingMessage, res: ServerResponse) => void;
  health: () => Record<string, unknown>;
  log: (line: string) => void;
  nowMs?: () => number;
  /** remembers accepted requests for their replay window; default: a fresh one per server */
  replays?: ReplayGuard;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${text}\n`);
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Slash commands and interactivity payloads are form posts; anything else did not come from Slack. */
function isSlackForm(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== FORM) return false;
  return params.every((p) => p === '' || p === 'charset=utf-8');
}

export function createChatServer(options: GateOptions): Server {
  const opts = { ...options, replays: options.replays ?? new ReplayGuard() };
  return createServer((req, res) => {
    void handle(opts, req, res).catch((err: unknown) => {
      opts.log(`chat: request failed: ${(err as Error).message}`);
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.end();
    });
  });
}

async function handle(opts: GateOptions & { replays: ReplayGuard }, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (pathname === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', ...opts.health() }));
    return;
  }
  if (pathname !== SLACK_ENDPOINT) return plain(res, 404, 'not found');
  if (req.method !== 'POST') return plain(res, 405, 'method not allowed', { allow: 'POST' });
  if (!isSlackForm(req.headers['content-type'])) {
    req.resume();
    return plain(res, 415, `unsupported content type: Slack sends ${FORM}`);
  }
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) return plain(res, 413, 'request body too large');
    throw err;
  }
  // Slack's certificate probe carries no signature and nothing else may ride along with it.
  if (new URLSearchParams(raw.toString('utf8')).get('ssl_check') === '1') return plain(res, 200, 'ok');
  const timestamp = header(req, 'x-slack-request-timestamp');
  const signature = header(req, 'x-slack-signature');
  const nowMs = (opts.nowMs ?? Date.now)();
  const check = verifySlackSignature({ signingSecret: opts.signingSecret, timestamp, signature, rawBody: raw, nowMs });
  if (!check.ok) {
    opts.log(`chat: refused a request to ${SLACK_ENDPOINT}: ${check.reason}`);
    return plain(res, 401, 'invalid request signature');
  }
  // Verified, so both headers are there. Only now is the request remembered: unsigned noise cannot fill the store.
  const claim = opts.replays.claim(timestamp!, signature!, nowMs);
  if (!claim.ok && claim.why === 'full') {
    opts.log('chat: refused a request: too many requests in the replay window to remember another one');
    return plain(res, 503, 'too many requests in the last 5 minutes', { 'retry-after': '60' });
  }
  if (!claim.ok) {
    opts.log(`chat: refused a replayed request (signature ${signature!.slice(3, 15)}…, first accepted ${new Date(claim.firstSeenMs).toISOString()})`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ response_type: 'ephemeral', text: `Already done: this exact request was received at ${new Date(claim.firstSeenMs).toISOString()} and is not run twice.` }));
    return;
  }
  // Bolt reuses a buffered body and compares the content type with ===, so hand it exactly what Slack sends.
  Object.assign(req, { rawBody: raw });
  req.headers['content-type'] = FORM;
  opts.bolt(req, res);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}
