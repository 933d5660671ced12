// The happy path through both entry points, the cache, invalidation and the Client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { PACKAGE_DIR, REPO_ROOT, SAMPLE_ID, SAMPLE_TOKEN_PREFIX, freshId, useSandboxForDefaultClient } from './helpers.mjs';

const sandbox = await useSandboxForDefaultClient();
const ky = await import('ky-access-token');
const kyCjs = createRequire(import.meta.url)('ky-access-token');

test('ESM and CommonJS entry points are one instance', () => {
  assert.equal(ky.getAccessToken, kyCjs.getAccessToken);
  assert.equal(ky.Client, kyCjs.Client);
  assert.equal(ky.KyError, kyCjs.KyError);
  const esmNames = Object.keys(ky).sort();
  const cjsNames = Object.keys(kyCjs).filter((n) => n !== '__esModule').sort();
  assert.deepEqual(esmNames, cjsNames);
});

test('version() is the library version, matching Cargo.toml', () => {
  const cargo = readFileSync(path.join(REPO_ROOT, 'Cargo.toml'), 'utf8');
  const crateVersion = /^version = "([^"]+)"/m.exec(cargo)[1];
  assert.equal(ky.version(), crateVersion);
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8'));
  assert.equal(pkg.version, crateVersion, 'package.json version follows the library');
});

test('getAccessToken: the documented sample token, then a cache hit', async () => {
  const before = await sandbox.count(SAMPLE_ID);
  const token = await ky.getAccessToken(SAMPLE_ID);
  assert.ok(token.startsWith(SAMPLE_TOKEN_PREFIX), 'sample token');
  assert.equal(await ky.getAccessToken(SAMPLE_ID), token);
  assert.equal(ky.getAccessTokenSync(SAMPLE_ID), token);
  assert.ok((await sandbox.count(SAMPLE_ID)) - before <= 1, 'at most one upstream request');
});

test('getAccessTokenSync fetches and caches', async () => {
  const id = freshId();
  assert.equal(ky.getAccessTokenSync(id), `sandbox_${id}_v1`);
  assert.equal(ky.getAccessTokenSync(id), `sandbox_${id}_v1`);
  assert.equal(await sandbox.count(id), 1);
});

test('a token longer than the default buffer, sync and async', async () => {
  const id = 'big-token-3000';
  const sync = ky.getAccessTokenSync(id);
  assert.equal(sync.length, 3000);
  assert.ok(sync.startsWith('27_'));
  assert.equal(await ky.getAccessToken(id), sync);
  assert.equal(await sandbox.count(id), 1, 'the bigger-buffer retry does not refetch');
});

test('invalidate drops the token; the next call fetches the rotated one', async () => {
  const id = freshId();
  assert.equal(await ky.getAccessToken(id), `sandbox_${id}_v1`);
  assert.equal(await sandbox.rotate(id), `sandbox_${id}_v2`);
  assert.equal(await ky.getAccessToken(id), `sandbox_${id}_v1`, 'still cached');
  ky.invalidate(id);
  assert.equal(await ky.getAccessToken(id), `sandbox_${id}_v2`);
  assert.equal(await sandbox.count(id), 2);
});

test('invalidateIf drops only the token it is given', async () => {
  const id = freshId();
  const old = await ky.getAccessToken(id);
  await sandbox.rotate(id);
  assert.equal(ky.invalidateIf(id, 'not-the-token'), false);
  assert.equal(ky.invalidateIf(id, old), true);
  const fresh = await ky.getAccessToken(id);
  assert.equal(fresh, `sandbox_${id}_v2`);
  // A second caller holding the old token finds the fresh one and leaves it alone.
  assert.equal(ky.invalidateIf(id, old), false);
  assert.equal(await ky.getAccessToken(id), fresh);
  assert.equal(await sandbox.count(id), 2);
});

test('stats() counts hits, misses and upstream requests', async () => {
  const id = freshId();
  const before = ky.stats();
  await ky.getAccessToken(id);
  await ky.getAccessToken(id);
  ky.getAccessTokenSync(id);
  const after = ky.stats();
  assert.equal(after.upstreamRequests - before.upstreamRequests, 1);
  assert.ok(after.cacheHits - before.cacheHits >= 2);
  assert.ok(after.cacheMisses - before.cacheMisses >= 1);
  assert.equal(after.upstreamFailuresByStatus.length, 16);
  for (const value of Object.values(after)) {
    if (Array.isArray(value)) value.forEach((v) => assert.equal(typeof v, 'number'));
    else assert.equal(typeof value, 'number');
  }
});

test('statusName covers every known code and matches the library', () => {
  for (const [key, code] of Object.entries(ky.Status)) {
    assert.equal(ky.statusName(code), key === 'OK' ? 'KY_OK' : `KY_ERR_${key}`);
    assert.equal(new ky.KyError(code, 'm').statusName, ky.statusName(code), 'the table without the library agrees');
  }
  assert.equal(ky.statusName(99), 'KY_ERR_UNKNOWN');
});

test('Client: its own configuration, cache and stats', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, timeoutMs: 10_000, maxRetries: 0, cacheTtlMs: 60_000, refreshAhead: 0, userAgentSuffix: 'node-test/1' });
  try {
    const id = freshId();
    assert.equal(await client.getAccessToken(id), `sandbox_${id}_v1`);
    assert.equal(client.getAccessTokenSync(id), `sandbox_${id}_v1`);
    assert.equal(await sandbox.count(id), 1);
    const s = client.stats();
    assert.equal(s.upstreamRequests, 1);
    assert.equal(s.cachedPrograms, 1);
    // Separate from the default client's cache:
    assert.equal(await ky.getAccessToken(id), `sandbox_${id}_v1`);
    assert.equal(await sandbox.count(id), 2);
    await sandbox.rotate(id);
    assert.equal(client.invalidateIf(id, `sandbox_${id}_v1`), true);
    assert.equal(await client.getAccessToken(id), `sandbox_${id}_v2`);
    client.invalidate(id);
  } finally {
    await client.close();
  }
});

test('Client with cacheTtlMs 0 fetches every time', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, cacheTtlMs: 0 });
  const id = freshId();
  await client.getAccessToken(id);
  await client.getAccessToken(id);
  assert.equal(await sandbox.count(id), 2);
  await client.close();
});

test('Client fromEnv reads KY_* like the default client', async () => {
  const client = new ky.Client({ fromEnv: true });
  const id = freshId();
  assert.equal(await client.getAccessToken(id), `sandbox_${id}_v1`);
  await client.close();
});

test('Client prefetch warms the cache in the background', async () => {
  const id = freshId();
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, prefetch: [id] });
  // The first call either finds the prefetched token or joins the prefetch in flight.
  assert.equal(await client.getAccessToken(id), `sandbox_${id}_v1`);
  assert.equal(await sandbox.count(id), 1);
  await client.close();
});

test('Client close(): idempotent, then every call fails with ClientClosedError', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl });
  assert.equal(client.closed, false);
  const first = client.close();
  assert.equal(client.close(), first);
  await first;
  assert.equal(client.closed, true);
  await assert.rejects(client.getAccessToken('abc'), ky.ClientClosedError);
  assert.throws(() => client.getAccessTokenSync('abc'), ky.ClientClosedError);
  assert.throws(() => client.invalidate('abc'), ky.ClientClosedError);
  assert.throws(() => client.invalidateIf('abc', 't'), (e) => e instanceof ky.InvalidArgumentError && e.status === 1);
  assert.throws(() => client.stats(), ky.ClientClosedError);
});

test('Client disposal: Symbol.dispose / Symbol.asyncDispose where the runtime has them', async () => {
  assert.equal(typeof Symbol.dispose, 'symbol', 'Node >= 18.18 / 20.4 defines Symbol.dispose');
  const a = new ky.Client({ baseUrl: sandbox.baseUrl });
  a[Symbol.dispose]();
  assert.equal(a.closed, true);
  await a.close();
  const b = new ky.Client({ baseUrl: sandbox.baseUrl });
  await b[Symbol.asyncDispose]();
  assert.equal(b.closed, true);
});

test('Client over HTTPS: trusts the sandbox CA given as caFile or caPem', async () => {
  const { startSandbox } = await import('./helpers.mjs');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ky-node-tls-'));
  try {
    const tls = await startSandbox(['--tls-dir', dir]);
    assert.match(tls.baseUrl, /^https:/);
    const id = freshId();
    const viaFile = new ky.Client({ baseUrl: tls.baseUrl, caFile: tls.caFile, timeoutMs: 60_000 });
    assert.equal(await viaFile.getAccessToken(id), `sandbox_${id}_v1`);
    await viaFile.close();
    const viaPem = new ky.Client({ baseUrl: tls.baseUrl, caPem: readFileSync(tls.caFile), cacheTtlMs: 0, timeoutMs: 60_000 });
    assert.equal(viaPem.getAccessTokenSync(id), `sandbox_${id}_v1`);
    await viaPem.close();
    const untrusted = new ky.Client({ baseUrl: tls.baseUrl, maxRetries: 0, timeoutMs: 60_000 });
    await assert.rejects(untrusted.getAccessToken(id), (e) => e instanceof ky.TlsError && e instanceof ky.NetworkError && e.statusName === 'KY_ERR_TLS');
    assert.throws(() => untrusted.getAccessTokenSync(id), (e) => e instanceof ky.TlsError && e.message.length > 0);
    await untrusted.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
