import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { redact } from '../../secrets/redact.ts';
import { sleep } from '../context.ts';

/**
 * A small Redfish client: HTTP Basic auth (the emulator and many BMCs have no SessionService), JSON in and out,
 * ETag/If-Match handling, 202 task monitors. It knows nothing about booting; `activities/redfish.ts` does.
 * Every error it throws is a RedfishError whose message is redacted and never carries the credentials.
 */
export interface RedfishConnection {
  /** `https://bmc.example:443` (a trailing `/redfish/v1` is accepted and ignored) */
  endpoint: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the BMC certificate (a self-signed BMC cert is its own CA) */
  ca?: string;
  /** skip certificate verification entirely: only for BMCs nobody can issue a cert for */
  insecureTls?: boolean;
  /** per-request timeout; InsertMedia gets `slowRequestTimeoutMs` because BMCs may download the image inline */
  requestTimeoutMs?: number;
  slowRequestTimeoutMs?: number;
  /** called while a long request or a task monitor is pending, so the activity can heartbeat */
  onWait?: (what: string) => void;
}

export type RedfishErrorKind = 'auth' | 'tls' | 'network' | 'http' | 'protocol';

export class RedfishError extends Error {
  override name = 'RedfishError';
  constructor(
    readonly kind: RedfishErrorKind,
    message: string,
    readonly status?: number,
    /** the BMC's own extended-info message, if it sent one (redacted) */
    readonly bmcMessage?: string,
  ) {
    super(message);
  }
}

export function isRedfishError(err: unknown): err is RedfishError {
  return err instanceof RedfishError;
}

export interface RedfishResponse<T = unknown> {
  status: number;
  etag?: string;
  body: T;
}

const odataRef = z.object({ '@odata.id': z.string() });
export type ODataRef = z.infer<typeof odataRef>;
export const collectionSchema = z.object({ Members: z.array(odataRef).default([]) });

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'EPROTO',
]);

export class RedfishClient {
  readonly base: URL;
  private readonly agent: Agent;
  private readonly auth: string;
  private readonly secrets: string[];

  constructor(private readonly conn: RedfishConnection) {
    let url: URL;
    try {
      url = new URL(conn.endpoint);
    } catch {
      throw new RedfishError('protocol', `bmc.endpoint ${JSON.stringify(conn.endpoint)} is not a URL (want https://host[:port])`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RedfishError('protocol', `bmc.endpoint must be http(s), got ${url.protocol}`);
    }
    this.base = new URL(url.origin);
    this.auth = `Basic ${Buffer.from(`${conn.username}:${conn.password}`).toString('base64')}`;
    this.secrets = [conn.password, this.auth.slice(6)];
    this.agent = new Agent({
      connect: {
        ...(conn.ca ? { ca: conn.ca } : {}),
        rejectUnauthorized: !conn.insecureTls,
      },
      // Power and boot requests are quick; InsertMedia overrides per request (see slowRequestTimeoutMs).
      headersTimeout: conn.requestTimeoutMs ?? 30_000,
      bodyTimeout: conn.requestTimeoutMs ?? 30_000,
      connections: 4,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The service root is the only hard-coded path (DSP0266); everything else is found by following links. */
  serviceRoot(): Promise<RedfishResponse<Record<string, unknown>>> {
    return this.get('/redfish/v1/');
  }

  get<T = Record<string, unknown>>(path: string): Promise<RedfishResponse<T>> {
    return this.send<T>('GET', path);
  }

  async post<T = unknown>(path: string, body: unknown, opts: { slow?: boolean } = {}): Promise<RedfishResponse<T>> {
    return this.followTask(await this.send<T>('POST', path, body, { slow: opts.slow }), opts);
  }

  /**
   * PATCH with If-Match when the resource has an ETag (Lenovo XCC and Huawei iBMC answer 428 without it).
   * On 412 a weak ETag is retried strong, then without If-Match (what sushy's connector does); on 428 the ETag is
   * fetched once more. Each fallback is a single extra request, never a loop.
   */
  async patch<T = unknown>(path: string, body: unknown, etag?: string): Promise<RedfishResponse<T>> {
    const candidates: Array<string | undefined> = [etag];
    if (etag?.startsWith('W/')) candidates.push(etag.slice(2));
    if (etag) candidates.push(undefined);
    let last: RedfishError | undefined;
    for (const tag of candidates) {
      try {
        return await this.followTask(await this.send<T>('PATCH', path, body, { ifMatch: tag }));
      } catch (err) {
        if (!(err instanceof RedfishError) || err.kind !== 'http') throw err;
        if (err.status === 428 && !etag) {
          const fresh = await this.get(path);
          if (!fresh.etag) throw err;
          return this.followTask(await this.send<T>('PATCH', path, body, { ifMatch: fresh.etag }));
        }
        if (err.status !== 412) throw err;
        last = err;
      }
    }
    throw last ?? new RedfishError('protocol', `PATCH ${path}: no ETag variant accepted`);
  }

  /** A 202 with a Location is a task monitor: poll it (GET answers 202 while running) until it settles. */
  private async followTask<T>(res: RedfishResponse<T>, opts: { slow?: boolean } = {}): Promise<RedfishResponse<T>> {
    if (res.status !== 202) return res;
    const monitor = (res as RedfishResponse<T> & { location?: string }).location;
    if (!monitor) return res;
    const deadline = Date.now() + (opts.slow ? (this.conn.slowRequestTimeoutMs ?? 600_000) : 120_000);
    let delay = 500;
    while (Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
      this.conn.onWait?.(`task ${monitor}`);
      const polled = await this.send<T>('GET', monitor, undefined, { allowAccepted: true });
      if (polled.status === 202) continue;
      const state = (polled.body as { TaskState?: string } | undefined)?.TaskState;
      if (state && ['Exception', 'Killed', 'Cancelled'].includes(state)) {
        const msg = extendedMessage(polled.body);
        throw new RedfishError('http', `task ${monitor} ended ${state}${msg ? `: ${msg}` : ''}`, 500, msg);
      }
      if (state && !['Completed', 'OK'].includes(state) && polled.status === 200 && isRunning(state)) continue;
      return polled;
    }
    throw new RedfishError('network', `task ${monitor} did not finish in time`);
  }

  private async send<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
    opts: { ifMatch?: string; slow?: boolean; allowAccepted?: boolean } = {},
  ): Promise<RedfishResponse<T>> {
    const url = new URL(path, this.base);
    if (url.origin !== this.base.origin) {
      throw new RedfishError('protocol', `BMC linked outside itself (${url.origin}); refusing to send credentials there`);
    }
    const headers: Record<string, string> = {
      authorization: this.auth,
      accept: 'application/json',
      // Compression makes some BMCs hand out weak ETags (sushy connector comment).
      'accept-encoding': 'identity',
      'odata-version': '4.0',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
    const timeout = opts.slow ? (this.conn.slowRequestTimeoutMs ?? 600_000) : undefined;
    const beat = opts.slow && this.conn.onWait ? setInterval(() => this.conn.onWait?.(`${method} ${url.pathname}`), 5_000) : undefined;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.agent,
        ...(timeout ? { headersTimeout: timeout, bodyTimeout: timeout } : {}),
      });
    } catch (err) {
      throw this.transportError(method, url, err);
    } finally {
      if (beat) clearInterval(beat);
    }
    const text = await res.body.text().catch(() => '');
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const where = `${method} ${url.pathname}`;
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new RedfishError('auth', `${where}: the BMC refused the credentials (HTTP ${res.statusCode})`, res.statusCode);
    }
    if (res.statusCode >= 400) {
      const msg = extendedMessage(parsed) ?? text.slice(0, 300);
      const clean = msg ? redact(msg, this.secrets) : undefined;
      throw new RedfishError('http', `${where}: HTTP ${res.statusCode}${clean ? `: ${clean}` : ''}`, res.statusCode, clean);
    }
    const etagHeader = res.headers.etag;
    const etag =
      (Array.isArray(etagHeader) ? etagHeader[0] : etagHeader) ??
      ((parsed as { '@odata.etag'?: string } | undefined)?.['@odata.etag'] || undefined);
    const location = res.headers.location;
    const out: RedfishResponse<T> & { location?: string } = { status: res.statusCode, etag, body: parsed as T };
    if (res.statusCode === 202 && location) out.location = Array.isArray(location) ? location[0] : location;
    return out;
  }

  private transportError(method: string, url: URL, err: unknown): RedfishError {
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? e.cause?.code ?? '';
    const detail = redact(`${code ? `${code}: ` : ''}${e.cause?.message ?? e.message ?? String(err)}`, this.secrets);
    const where = `${method} ${url.origin}${url.pathname}`;
    if (TLS_CODES.has(code) || /certificate|self[- ]signed|TLS|SSL/i.test(detail)) {
      return new RedfishError('tls', `${where}: TLS verification failed (${detail})`);
    }
    return new RedfishError('network', `${where}: ${detail}`);
  }
}

function isRunning(state: string): boolean {
  return ['New', 'Starting', 'Running', 'Pending', 'Suspended', 'Interrupted', 'Stopping', 'Cancelling', 'Service'].includes(state);
}

/** Redfish errors carry `error.@Message.ExtendedInfo[].Message`; fall back to `error.message`. */
export function extendedMessage(body: unknown): string | undefined {
  const err = (body as { error?: { message?: unknown; '@Message.ExtendedInfo'?: unknown } } | undefined)?.error;
  if (!err) return undefined;
  const infos = Array.isArray(err['@Message.ExtendedInfo']) ? err['@Message.ExtendedInfo'] : [];
  const parts = infos.map((i: { Message?: unknown }) => (typeof i?.Message === 'string' ? i.Message : '')).filter(Boolean);
  if (parts.length) return parts.join('; ');
  return typeof err.message === 'string' ? err.message : undefined;
}
