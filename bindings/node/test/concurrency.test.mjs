// Single flight through the async path: 1,000 concurrent calls, one upstream request; the event
// loop keeps turning while a fetch is in flight (no timing: the order of events is asserted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';

import { useSandboxForDefaultClient } from './helpers.mjs';

const sandbox = await useSandboxForDefaultClient();
const ky = await import('ky-access-token');

test('1,000 concurrent getAccessToken calls share exactly one upstream request', async () => {
  const id = 'slow-400'; // fresh in this sandbox, and slow enough for every call to overlap the fetch
  assert.equal(await sandbox.count(id), 0);
  const before = ky.stats();
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => ky.getAccessToken(id)));
  assert.equal(tokens.length, 1000);
  assert.ok(tokens.every((t) => t === `sandbox_${id}_v1`));
  assert.equal(await sandbox.count(id), 1, 'exactly one upstream request');
  const after = ky.stats();
  assert.equal(after.upstreamRequests - before.upstreamRequests, 1);
});

test('concurrent callers of one id share one native call; later callers get their own', async () => {
  const id = 'slow-402';
  const a = ky.getAccessToken(id);
  const b = ky.getAccessToken(id);
  assert.notEqual(a, b, 'each caller gets a promise of its own');
  assert.equal(await a, await b);
  const before = ky.stats();
  assert.equal(await ky.getAccessToken(id), `sandbox_${id}_v1`);
  const after = ky.stats();
  assert.equal(after.cacheHits - before.cacheHits, 1, 'a call after the flight settled asks the library again (a hit)');
  // Failures are shared by the joiners, and not remembered afterwards.
  const failures = await Promise.allSettled([ky.getAccessToken('fault-http-404'), ky.getAccessToken('fault-http-404')]);
  assert.ok(failures.every((f) => f.status === 'rejected' && f.reason instanceof ky.HttpStatusError));
  const n = await sandbox.count('fault-http-404');
  await ky.getAccessToken('fault-http-404').catch(() => {});
  assert.equal(await sandbox.count('fault-http-404'), n + 1);
});

test('1,000 concurrent calls on a Client, mixed with sync hits, one request', async () => {
  const client = new ky.Client({ baseUrl: sandbox.baseUrl, timeoutMs: 30_000 });
  const id = 'slow-401';
  const calls = Array.from({ length: 1000 }, () => client.getAccessToken(id));
  const tokens = await Promise.all(calls);
  assert.ok(tokens.every((t) => t === `sandbox_${id}_v1`));
  assert.equal(client.getAccessTokenSync(id), `sandbox_${id}_v1`);
  assert.equal(await sandbox.count(id), 1);
  await client.close();
});

test('concurrent calls for different ids each fetch once', async () => {
  const ids = Array.from({ length: 8 }, (_, i) => `slow-${100 + i}`);
  const results = await Promise.all(ids.flatMap((id) => Array.from({ length: 5 }, () => ky.getAccessToken(id).then((t) => [id, t]))));
  for (const [id, token] of results) assert.equal(token, `sandbox_${id}_v1`);
  for (const id of ids) assert.equal(await sandbox.count(id), 1, id);
});

test('the event loop keeps serving (even the upstream itself) while a fetch is in flight', async () => {
  // The upstream is an HTTP server on this very event loop that answers only when the test says
  // so: the request reaching it at all proves the loop runs during the fetch; no clock involved.
  let requestArrived;
  const arrived = new Promise((resolve) => (requestArrived = resolve));
  let answer;
  const server = http.createServer((req, res) => {
    requestArrived(req.url);
    answer = (token) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ err: 0, msg: '请求成功', data: { accessToken: token } }));
    };
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new ky.Client({ baseUrl: `http://127.0.0.1:${server.address().port}`, timeoutMs: 120_000, maxRetries: 0 });
  try {
    let settled = false;
    const call = client.getAccessToken('held-open').then((t) => {
      settled = true;
      return t;
    });
    assert.match(await arrived, /\/programs\/held-open\/accesstoken$/);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(typeof (await sandbox.stats()).total, 'number'); // other I/O on this thread, too
    assert.equal(settled, false, 'the call is still waiting for the held answer');
    answer('27_held_token');
    assert.equal(await call, '27_held_token');
  } finally {
    await client.close();
    server.close();
  }
});

test('a rejected call does not disturb the others in flight', async () => {
  const results = await Promise.allSettled([
    ky.getAccessToken('slow-500'),
    ky.getAccessToken('fault-http-503'),
    ky.getAccessToken('bad id'),
    ky.getAccessToken('slow-500'),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  assert.ok(results[1].reason instanceof ky.HttpStatusError);
  assert.ok(results[2].reason instanceof ky.InvalidArgumentError);
});
