// Process behaviour, each case in a child process with a hard timeout: the process lives exactly
// as long as calls are outstanding, ends cleanly with calls outstanding, and works in
// worker_threads and child_process.fork children.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { freshId, runNode, useSandboxForDefaultClient } from './helpers.mjs';

const sandbox = await useSandboxForDefaultClient();
const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const HARD = 120_000; // kill a hung child after this long: a hang fails the test instead of the suite

function ok(result, what) {
  assert.equal(result.timedOut, false, `${what}: hung (killed after ${HARD} ms)\n${result.stderr}`);
  assert.equal(result.signal, null, `${what}: killed by ${result.signal}\n${result.stderr}`);
  assert.equal(result.code, 0, `${what}: exit code ${result.code}\n${result.stderr}`);
}

/** Runs fixtures/`name` with `args` in a child node under the HARD limit, checks that it exited
 * cleanly (`ok`, messages naming `label`) and returns its stdout, trimmed. */
async function runFixtureOk(name, args, { label = name, env } = {}) {
  const r = await runNode([fixture(name), ...args], { timeoutMs: HARD, env });
  ok(r, label);
  return r.stdout.trim();
}

test('the process stays alive exactly until an un-awaited call settles, then exits by itself', async () => {
  const id = freshId();
  assert.equal(await runFixtureOk('exit-when-done.mjs', [id], { label: 'exit-when-done' }), `token sandbox_${id}_v1`);
  assert.equal(
    await runFixtureOk('exit-when-done.mjs', ['slow-1200'], { label: 'exit-when-done slow' }),
    'token sandbox_slow-1200_v1',
  );
  const failing = await runFixtureOk('exit-when-done.mjs', ['fault-http-500'], {
    label: 'exit-when-done failing',
    env: { KY_MAX_RETRIES: '0' },
  });
  assert.equal(failing, 'error HttpStatusError');
});

test('ESM top-level await and the CommonJS entry point', async () => {
  const id = freshId();
  assert.equal(await runFixtureOk('top-level-await.mjs', [id], { label: 'top-level await' }), `token sandbox_${id}_v1`);
  const cjs = await runFixtureOk('require.cjs', [id], { label: 'require' });
  assert.deepEqual(cjs.split('\n'), [`token sandbox_${id}_v1`, `sync sandbox_${id}_v1`]);
});

test('process.exit() with calls outstanding ends the process cleanly (repeated)', async () => {
  for (const delay of [0, 0, 1, 60, 75, 90, 110, 150]) {
    const out = await runFixtureOk('exit-outstanding.mjs', ['exit', String(delay)], { label: `process.exit after ${delay} ms` });
    assert.equal(out, 'ending');
  }
});

test('an uncaught exception with calls outstanding ends the process with code 1, no hang or crash', async () => {
  for (const delay of [0, 70, 100]) {
    const r = await runNode([fixture('exit-outstanding.mjs'), 'throw', String(delay)], { timeoutMs: HARD });
    assert.equal(r.timedOut, false, 'hung');
    assert.equal(r.signal, null, `signal ${r.signal}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /uncaught on purpose/);
  }
});

test('worker_threads: async and sync calls in workers share the process cache; un-awaited calls keep a worker alive', async () => {
  const id = 'slow-1250'; // slow, so the main thread's fetch is likely still in flight when the workers ask
  assert.equal(await runFixtureOk('worker.mjs', [id], { label: 'workers' }), 'workers ok 4');
  assert.equal(await sandbox.count(id), 1, 'main and 4 workers: one upstream request');
});

test('worker.terminate() with calls in flight neither crashes nor hangs the process', async () => {
  assert.equal(await runFixtureOk('worker-terminate.mjs', [], { label: 'worker terminate' }), 'main sandbox_slow-900_v1');
});

test('child_process.fork: the child is a fresh process with its own library state', async () => {
  const id = freshId();
  assert.equal(await runFixtureOk('fork-parent.mjs', [id], { label: 'fork' }), 'parent true child-exit 0 after true');
  assert.equal(await sandbox.count(id), 2, 'the forked child does not share the parent cache');
});

test('onLog: lines on the main thread, no token in them, exit with the hook installed (repeated)', async () => {
  for (let i = 0; i < 4; i++) {
    const id = freshId();
    const report = JSON.parse(await runFixtureOk('log.mjs', [id], { label: 'log', env: { KY_MAX_RETRIES: '0' } }));
    assert.equal(report.leaked, false);
    assert.ok(report.lines.some((l) => l.includes(id) && /fetched/.test(l)), report.lines.join('\n'));
    assert.ok(report.lines.some((l) => l.includes('fault-http-500')), report.lines.join('\n'));
    assert.ok(report.levels.includes(1) && report.levels.includes(3), `levels ${report.levels}`);
  }
  const removed = await runFixtureOk('log.mjs', [freshId(), 'remove'], { label: 'log remove', env: { KY_MAX_RETRIES: '0' } });
  const [first, after] = removed.split('\n');
  assert.equal(after, `after-remove ${JSON.parse(first).count}`, 'no line after onLog(null)');
});

test('onLog + getAccessTokenSync joining an async fetch in flight: refused, not a deadlock', async () => {
  const out = await runFixtureOk('sync-guard.mjs', ['slow-1300'], { label: 'sync guard' });
  assert.deepEqual(out.split('\n'), ['refused true', 'after true', 'client refused true']);
});

test('onLog is refused in a worker thread (the hook is process-wide)', async () => {
  const code = `
    import { Worker } from 'node:worker_threads';
    const w = new Worker("import('ky-access-token').then((ky) => ky.onLog(() => {})).then(() => console.log('installed'), (e) => console.log('refused ' + e.message.slice(0, 40)))", { eval: true });
    w.on('exit', (c) => console.log('exit ' + c));`;
  const r = await runNode(['--input-type=module', '-e', code], { timeoutMs: HARD });
  ok(r, 'worker onLog');
  assert.match(r.stdout, /refused onLog is process-wide/);
});
