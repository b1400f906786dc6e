// Slack request signing, checked by us before Bolt sees a request: Bolt only rejects timestamps that are too
// old, while a forged request from the future is just as much a replay risk (Slack's own docs use abs()).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE_VERSION = 'v0';
/** Slack's replay window: five minutes either side of our clock. */
export const SLACK_MAX_SKEW_S = 5 * 60;

/** `v0=` + hex HMAC-SHA256(signing secret, `v0:<timestamp>:<raw body>`). */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`${SLACK_SIGNATURE_VERSION}:${timestamp}:`);
  hmac.update(rawBody);
  return `${SLACK_SIGNATURE_VERSION}=${hmac.digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export interface SignedRequest {
  signingSecret: string;
  /** X-Slack-Request-Timestamp */
  timestamp: string | undefined;
  /** X-Slack-Signature */
  signature: string | undefined;
  /** the body exactly as received, before any parsing */
  rawBody: string | Buffer;
  /** injectable so Slack's documented example (from 2018) can be checked */
  nowMs?: number;
}

export function verifySlackSignature(req: SignedRequest): SignatureCheck {
  if (!req.signingSecret) return { ok: false, reason: 'no signing secret configured' };
  if (!req.timestamp || !req.signature) return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  if (!/^\d{1,12}$/.test(req.timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a unix time' };
  const nowS = Math.floor((req.nowMs ?? Date.now()) / 1000);
  const skew = nowS - Number(req.timestamp);
  if (skew > SLACK_MAX_SKEW_S) return { ok: false, reason: `stale request: timestamp is ${skew} s old (limit ${SLACK_MAX_SKEW_S} s)` };
  if (-skew > SLACK_MAX_SKEW_S) return { ok: false, reason: `timestamp is ${-skew} s in the future (limit ${SLACK_MAX_SKEW_S} s)` };
  if (!req.signature.startsWith(`${SLACK_SIGNATURE_VERSION}=`)) return { ok: false, reason: 'unknown signature version' };
  const expected = Buffer.from(slackSignature(req.signingSecret, req.timestamp, req.rawBody), 'utf8');
  const given = Buffer.from(req.signature, 'utf8');
  // Equal lengths first (timingSafeEqual requires it); the length of a hex digest is public anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
