import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidSlackRequest } from '@slack/bolt';
import { slackSignature, verifySlackSignature } from '../../chat/signature.ts';

// Slack's worked example from "Verifying requests from Slack" (api.slack.com/authentication/verifying-requests-from-slack).
const DOC = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  expected: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};
const at = (deltaS: number) => (Number(DOC.timestamp) + deltaS) * 1000;

describe("Slack request signing (Slack's documented example)", () => {
  test('computes the documented signature', () => {
    assert.equal(slackSignature(DOC.secret, DOC.timestamp, DOC.body), DOC.expected);
    assert.equal(slackSignature(DOC.secret, DOC.timestamp, Buffer.from(DOC.body)), DOC.expected);
  });

  test('accepts the documented request within the 5-minute window, and agrees with Bolt', () => {
    const req = { signingSecret: DOC.secret, timestamp: DOC.timestamp, signature: DOC.expected, rawBody: DOC.body };
    assert.deepEqual(verifySlackSignature({ ...req, nowMs: at(30) }), { ok: true });
    assert.deepEqual(verifySlackSignature({ ...req, nowMs: at(300) }), { ok: true });
    assert.equal(
      isValidSlackRequest({ signingSecret: DOC.secret, body: DOC.body, headers: { 'x-slack-signature': DOC.expected, 'x-slack-request-timestamp': Number(DOC.timestamp) }, nowMilliseconds: at(30) }),
      true,
    );
  });

  test('rejects stale and future timestamps (Bolt alone lets the future one through)', () => {
    const req = { signingSecret: DOC.secret, timestamp: DOC.timestamp, signature: DOC.expected, rawBody: DOC.body };
    const stale = verifySlackSignature({ ...req, nowMs: at(301) });
    assert.equal(stale.ok, false);
    assert.match(!stale.ok ? stale.reason : '', /stale/);
    const future = verifySlackSignature({ ...req, nowMs: at(-301) });
    assert.equal(future.ok, false);
    assert.match(!future.ok ? future.reason : '', /future/);
    assert.equal(
      isValidSlackRequest({ signingSecret: DOC.secret, body: DOC.body, headers: { 'x-slack-signature': DOC.expected, 'x-slack-request-timestamp': Number(DOC.timestamp) }, nowMilliseconds: at(-3600) }),
      true,
      "Bolt's own check accepts a timestamp an hour ahead: the reason for our gate",
    );
  });

  test('rejects a changed body, a wrong secret, a truncated or unversioned signature, missing headers', () => {
    const base = { signingSecret: DOC.secret, timestamp: DOC.timestamp, signature: DOC.expected, rawBody: DOC.body, nowMs: at(0) };
    const reasons = [
      verifySlackSignature({ ...base, rawBody: DOC.body.replace('text=', 'text=deploy') }),
      verifySlackSignature({ ...base, signingSecret: 'another-secret' }),
      verifySlackSignature({ ...base, signature: DOC.expected.slice(0, -2) }),
      verifySlackSignature({ ...base, signature: DOC.expected.replace('v0=', 'v1=') }),
      verifySlackSignature({ ...base, signature: undefined }),
      verifySlackSignature({ ...base, timestamp: 'yesterday' }),
    ].map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(reasons, [
      'signature mismatch',
      'signature mismatch',
      'signature mismatch',
      'unknown signature version',
      'missing X-Slack-Signature or X-Slack-Request-Timestamp',
      'X-Slack-Request-Timestamp is not a unix time',
    ]);
  });
});
