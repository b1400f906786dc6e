import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadEnv, temporalSettings } from '../../config/env.ts';

describe('environment config', () => {
  test('defaults: local dev server, default namespace, meshpilot queue', () => {
    const env = loadEnv({});
    assert.equal(env.TEMPORAL_ADDRESS, 'localhost:7233');
    assert.equal(env.TEMPORAL_NAMESPACE, 'default');
    assert.equal(env.MESHPILOT_TASK_QUEUE, 'meshpilot');
    assert.equal(temporalSettings(env).tls, undefined);
  });

  test('a malformed address names the variable and the value', () => {
    assert.throws(() => loadEnv({ TEMPORAL_ADDRESS: 'not an address' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /TEMPORAL_ADDRESS: expected host:port/);
      assert.match(err.message, /not an address/);
      return true;
    });
  });

  test('a port out of range is refused', () => {
    assert.throws(() => loadEnv({ TEMPORAL_ADDRESS: 'temporal:99999' }), /TEMPORAL_ADDRESS: port must be at most 65535/);
  });

  test('a missing certificate file names the setting', () => {
    assert.throws(
      () => loadEnv({ TEMPORAL_TLS_CERT: '/nonexistent/client.pem', TEMPORAL_TLS_KEY: '/nonexistent/client.key' }),
      (err: Error) => /TEMPORAL_TLS_CERT: file does not exist/.test(err.message) && /TEMPORAL_TLS_KEY: file does not exist/.test(err.message),
    );
  });

  test('a client certificate without its key is refused', () => {
    assert.throws(() => loadEnv({ TEMPORAL_TLS_CERT: '/etc/hostname' }), /TEMPORAL_TLS_KEY: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together/);
  });

  test('malformed numbers and enums name their variables, all at once', () => {
    assert.throws(
      () => loadEnv({ MESHPILOT_METRICS_PORT: 'ninety', MESHPILOT_LOG_LEVEL: 'loud', MESHPILOT_SITE: 'Not A Site' }),
      (err: Error) =>
        /MESHPILOT_METRICS_PORT/.test(err.message) && /MESHPILOT_LOG_LEVEL/.test(err.message) && /MESHPILOT_SITE/.test(err.message),
    );
  });

  test('an API key turns on TLS (Temporal Cloud) and is never echoed', () => {
    const env = loadEnv({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key-value' });
    assert.ok(temporalSettings(env).tls);
    assert.equal(temporalSettings(env).apiKey, 'secret-key-value');
    assert.throws(() => loadEnv({ TEMPORAL_API_KEY: 'x', TEMPORAL_ADDRESS: 'bad' }), (err: Error) => !err.message.includes('secret-key-value'));
  });
});
