// Every status maps to its error class, on the sync path (full details) and the async path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';

import { freshId, useSandboxForDefaultClient } from './helpers.mjs';

const sandbox = await useSandboxForDefaultClient();
const ky = await import('ky-access-token');

/** Asserts `fn` throws (sync) and `afn` rejects (async) with `Class`, `status` and `check(err)`. */
async function bothFail(syncFn, asyncFn, Class, statusKey, check = () => {}) {
  const status = ky.Status[statusKey];
  const verify = (e) => {
    assert.ok(e instanceof Class, `${e?.name}: ${e?.message}`);
    assert.ok(e instanceof ky.KyError && e instanceof Error);
    assert.equal(e.status, status);
    assert.equal(e.statusName, `KY_ERR_${statusKey}`);
    assert.equal(e.name, Class.name);
    assert.ok(e.message.length > 0);
    return true;
  };
  let syncError;
  assert.throws(syncFn, (e) => verify((syncError = e)));
  check(syncError, 'sync');
  let asyncError;
  await assert.rejects(asyncFn(), (e) => verify((asyncError = e)));
  check(asyncError, 'async');
}

test('KY_ERR_INVALID_ARGUMENT: malformed ids, before any request', async () => {
  const before = (await sandbox.stats()).total;
  for (const bad of ['', 'has space', 'x'.repeat(33), 'semi;colon', '../etc', '中文']) {
    await bothFail(() => ky.getAccessTokenSync(bad), () => ky.getAccessToken(bad), ky.InvalidArgumentError, 'INVALID_ARGUMENT');
    assert.throws(() => ky.invalidate(bad), ky.InvalidArgumentError);
  }
  // What a C string cannot carry is rejected on the JS side with the same class.
  await bothFail(() => ky.getAccessTokenSync('ab\0cd'), () => ky.getAccessToken('ab\0cd'), ky.InvalidArgumentError, 'INVALID_ARGUMENT');
  assert.equal((await sandbox.stats()).total, before, 'no request was sent');
  // 32 characters is the limit, and allowed.
  const id32 = 'a'.repeat(32);
  assert.equal(ky.getAccessTokenSync(id32), `sandbox_${id32}_v1`);
});

test('wrong types are TypeErrors (sync throws, async rejects)', async () => {
  for (const bad of [undefined, null, 42, {}, Buffer.from('abc')]) {
    assert.throws(() => ky.getAccessTokenSync(bad), TypeError);
    await assert.rejects(ky.getAccessToken(bad), TypeError);
  }
  assert.throws(() => ky.invalidateIf('abc', 42), TypeError);
  assert.throws(() => new ky.Client({ timeoutMs: '5000' }), TypeError);
  assert.throws(() => new ky.Client({ prefetch: 'abc' }), TypeError);
});

test('KY_ERR_INVALID_ARGUMENT: configuration values the library rejects, with its message', () => {
  assert.throws(() => new ky.Client({ timeoutMs: 0 }), (e) => e instanceof ky.InvalidArgumentError && /timeout/i.test(e.message));
  assert.throws(() => new ky.Client({ baseUrl: 'ftp://example.invalid' }), (e) => e instanceof ky.InvalidArgumentError && e.message.length > 0);
  assert.throws(() => new ky.Client({ baseUrl: 'http://example.invalid' }), ky.InvalidArgumentError, 'plain http only for loopback');
  assert.throws(() => new ky.Client({ maxRetries: 11 }), ky.InvalidArgumentError);
  assert.throws(() => new ky.Client({ proxy: 'socks5://127.0.0.1:1' }), ky.InvalidArgumentError);
  assert.throws(() => new ky.Client({ timeoutMs: -1 }), ky.InvalidArgumentError);
  assert.throws(() => new ky.Client({ timeoutMs: 1.5 }), ky.InvalidArgumentError);
  assert.throws(() => new ky.Client({ prefetch: ['bad id'] }), ky.InvalidArgumentError);
  assert.throws(() => new ky.Client({ caFile: '/nonexistent/ca.pem' }), ky.InvalidArgumentError);
});

test('KY_ERR_NETWORK: connection refused', async () => {
  // A loopback port that was just free: bound, then closed.
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  const client = new ky.Client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0, timeoutMs: 60_000 });
  await bothFail(() => client.getAccessTokenSync('abc'), () => client.getAccessToken('abc'), ky.NetworkError, 'NETWORK', (e) => {
    assert.ok(!(e instanceof ky.TimeoutError) && !(e instanceof ky.TlsError));
  });
  await client.close();
});

test('KY_ERR_TIMEOUT: the whole-call deadline', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, timeoutMs: 300, maxRetries: 0 });
  await bothFail(() => client.getAccessTokenSync('fault-slow-headers'), () => client.getAccessToken('fault-slow-headers'), ky.TimeoutError, 'TIMEOUT', (e) => {
    assert.ok(e instanceof ky.NetworkError);
  });
  await client.close();
});

test('KY_ERR_HTTP_STATUS: a 404', async () => {
  await bothFail(() => ky.getAccessTokenSync('fault-http-404'), () => ky.getAccessToken('fault-http-404'), ky.HttpStatusError, 'HTTP_STATUS', (e, path) => {
    assert.match(e.message, /404/);
    assert.equal(e.apiErr, 0);
  });
});

test('KY_ERR_API: err and the upstream Chinese msg, sync and async', async () => {
  const before = await sandbox.count('fault-api-error');
  await bothFail(() => ky.getAccessTokenSync('fault-api-error'), () => ky.getAccessToken('fault-api-error'), ky.ApiError, 'API', (e) => {
    assert.equal(e.apiErr, 40013);
    assert.match(e.message, /项目不存在/);
  });
  assert.equal(await sandbox.count('fault-api-error'), before + 2, 'errors are never cached');
  assert.throws(() => ky.getAccessTokenSync('fault-api-error-40001'), (e) => e.apiErr === 40001);
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, maxRetries: 0 });
  await assert.rejects(client.getAccessToken('fault-api-error-40001'), (e) => e.apiErr === 40001 && /40001/.test(e.message));
  await client.close();
});

test('KY_ERR_BAD_RESPONSE: malformed, tokenless and non-JSON answers', async () => {
  for (const id of ['fault-malformed', 'fault-no-token', 'fault-not-json', 'fault-empty-token']) {
    await bothFail(() => ky.getAccessTokenSync(id), () => ky.getAccessToken(id), ky.BadResponseError, 'BAD_RESPONSE');
  }
});

test('KY_ERR_TLS: an untrusted certificate', async () => {
  // Covered against a real TLS sandbox in basic.test.mjs; here the class relationships.
  const e = ky.KyError.fromStatus(ky.Status.TLS, 'm');
  assert.ok(e instanceof ky.TlsError && e instanceof ky.NetworkError);
});

test('KY_ERR_CANCELLED and KY_ERR_BUSY: queued calls of a closed client, a full queue', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, timeoutMs: 30_000 });
  // Four workers busy with slow fetches (4 s: close() runs long before they end, and waits for
  // them), then more than KY_MAX_QUEUED_ASYNC (4096) calls queued behind them.
  const busy = [0, 1, 2, 3].map((i) => client.getAccessToken(`slow-${4000 + i}`));
  // Distinct ids: calls for one id share one native call (see index.ts), so they would not fill the queue.
  const queued = Array.from({ length: 4200 }, (_, i) => client.getAccessToken(`queued-${i}`));
  const outcomes = await Promise.allSettled([client.close().then(() => 'closed'), ...busy, ...queued]);
  assert.equal(outcomes[0].value, 'closed');
  const errors = outcomes.slice(1).filter((o) => o.status === 'rejected').map((o) => o.reason);
  const busyErrors = errors.filter((e) => e instanceof ky.BusyError);
  const cancelled = errors.filter((e) => e instanceof ky.CancelledError);
  assert.ok(busyErrors.length > 0, 'some calls found the queue full');
  assert.ok(cancelled.length > 0, 'queued calls were cancelled by close()');
  assert.equal(busyErrors.length + cancelled.length + outcomes.slice(1).filter((o) => o.status === 'fulfilled').length, 4204);
  for (const e of busyErrors) assert.equal(e.statusName, 'KY_ERR_BUSY');
  for (const e of cancelled) assert.equal(e.statusName, 'KY_ERR_CANCELLED');
});

test('fromStatus maps every code; unknown codes stay KyError', () => {
  const classes = {
    INVALID_ARGUMENT: ky.InvalidArgumentError, BUFFER_TOO_SMALL: ky.BufferTooSmallError, NETWORK: ky.NetworkError,
    TIMEOUT: ky.TimeoutError, TLS: ky.TlsError, HTTP_STATUS: ky.HttpStatusError, API: ky.ApiError,
    BAD_RESPONSE: ky.BadResponseError, INTERNAL: ky.InternalError, CANCELLED: ky.CancelledError, BUSY: ky.BusyError,
  };
  for (const [key, Class] of Object.entries(classes)) {
    const e = ky.KyError.fromStatus(ky.Status[key], 'message', 5);
    assert.equal(e.constructor, Class);
    assert.equal(e.apiErr, 5);
    assert.equal(e.statusName, `KY_ERR_${key}`);
  }
  const unknown = ky.KyError.fromStatus(42, 'm');
  assert.equal(unknown.constructor, ky.KyError);
  assert.equal(unknown.statusName, 'KY_ERR_UNKNOWN');
});

test('no token in any error message', async () => {
  const id = freshId();
  const token = await ky.getAccessToken(id);
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, timeoutMs: 300, maxRetries: 0 });
  const errors = [];
  try { client.getAccessTokenSync('fault-slow-headers'); } catch (e) { errors.push(e); }
  await client.getAccessToken('fault-http-500').catch((e) => errors.push(e));
  await client.close();
  assert.equal(errors.length, 2);
  for (const e of errors) assert.ok(!String(e).includes(token) && !e.stack.includes(token));
});
