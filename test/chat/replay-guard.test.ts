import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplayGuard } from '../../chat/replay-guard.ts';

const T = 1_700_000_000; // a request's X-Slack-Request-Timestamp, seconds
const at = (deltaS: number) => (T + deltaS) * 1000;

describe('replay guard (#12, case 3)', () => {
  test('a signed request is accepted once; a second copy inside its window is a replay, naming when the first came', () => {
    const g = new ReplayGuard();
    assert.deepEqual(g.claim(String(T), 'v0=aa', at(1)), { ok: true });
    assert.deepEqual(g.claim(String(T), 'v0=aa', at(299)), { ok: false, why: 'replay', firstSeenMs: at(1) });
    assert.deepEqual(g.claim(String(T), 'v0=bb', at(2)), { ok: true }, 'another request is not a replay');
    assert.deepEqual(g.claim(String(T + 1), 'v0=aa', at(2)), { ok: true }, 'the same signature with another timestamp is another request');
  });

  test('entries live as long as the signature check would accept the request, and no longer', () => {
    const g = new ReplayGuard();
    g.claim(String(T), 'v0=aa', at(0));
    g.claim(String(T + 300), 'v0=future', at(0)); // up to 5 minutes ahead is accepted, so it is kept that long
    assert.equal(g.claim(String(T), 'v0=aa', at(300)).ok, false);
    g.claim(String(T + 400), 'v0=later', at(400));
    assert.equal(g.size, 2, 'the first entry expired once its window closed');
    assert.equal(g.claim(String(T + 300), 'v0=future', at(600)).ok, false);
  });

  test('bounded: when full of live entries it refuses new requests instead of forgetting one', () => {
    const g = new ReplayGuard(3);
    for (const s of ['a', 'b', 'c']) assert.equal(g.claim(String(T), `v0=${s}`, at(0)).ok, true);
    assert.deepEqual(g.claim(String(T), 'v0=d', at(10)), { ok: false, why: 'full' });
    assert.equal(g.claim(String(T), 'v0=a', at(10)).ok, false, 'a remembered request is still a replay');
    assert.deepEqual(g.claim(String(T + 302), 'v0=e', at(302)), { ok: true }, 'room again once the old ones expired');
  });
});
