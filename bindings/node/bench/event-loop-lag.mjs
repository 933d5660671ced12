// Event-loop lag while token fetches are in flight, measured with perf_hooks.monitorEventLoopDelay
// (a benchmark, not a test: figures go to BENCHMARKS.md). Also the cost of a call on each path.
//
//   KY_ACCESS_TOKEN_LIB=target/release/libky_access_token.so KY_SANDBOX_BIN=target/release/ky-sandbox \
//     node bindings/node/bench/event-loop-lag.mjs
//
// Every request goes to a ky-sandbox on 127.0.0.1 that this script starts. Scenarios, each
// measured over the same window with a 1 ms histogram resolution:
//   idle            nothing in flight (the floor: timer granularity and machine noise)
//   async, 1 slow   one getAccessToken on a fetch the sandbox answers after 2 s
//   async, 1,000    1,000 concurrent getAccessToken on one 2 s fetch (one request; 1,000 callbacks
//                   relayed to the JS thread when it lands)
//   async, 1,000 after submitting   the same, with the window opened once the 1,000 calls are
//                   submitted (what is left: the wait and the 1,000 callbacks when the fetch lands)
//   sync, 1 slow    getAccessTokenSync on a 500 ms fetch: the blocking call, for contrast
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as os from 'node:os';

import { startSandbox } from '../test/helpers.mjs';

const sandbox = await startSandbox();
process.env.KY_BASE_URL = sandbox.baseUrl;
process.env.KY_TIMEOUT_MS = '30000';
process.env.KY_REFRESH_AHEAD = '0';
const ky = await import('ky-access-token');
const repeats = Number(process.env.REPEATS ?? 5);
let round = 0;

async function lag(work) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A timer that must keep firing: the monitor needs the loop to have something to do.
  const ticker = setInterval(() => {}, 5);
  // A scenario may start its calls before the window opens (to leave their submission out).
  const inFlight = typeof work.before === 'function' ? work.before() : null;
  h.enable();
  const started = performance.now();
  await (inFlight ?? work());
  const elapsed = performance.now() - started;
  h.disable();
  clearInterval(ticker);
  const ms = (ns) => ns / 1e6;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), elapsed };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const scenarios = {
  'idle (2 s)': () => sleep(2000),
  'async, 1 call on a 2 s fetch': async () => {
    await ky.getAccessToken(`slow-${2000 + round}`);
  },
  'async, 1,000 calls on one 2 s fetch': async () => {
    await Promise.all(Array.from({ length: 1000 }, () => ky.getAccessToken(`slow-${2100 + round}`)));
  },
  'async, 1,000 calls on one 2 s fetch, window opened after submitting them': Object.assign(async () => {}, {
    before: () => Promise.all(Array.from({ length: 1000 }, () => ky.getAccessToken(`slow-${2200 + round}`))),
  }),
  'sync, 1 call on a 500 ms fetch (blocking, contrast)': async () => {
    await sleep(50);
    ky.getAccessTokenSync(`slow-${500 + round}`);
    await sleep(50);
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(2);
const rows = [];
for (const [name, work] of Object.entries(scenarios)) {
  const results = [];
  for (round = 0; round < repeats; round++) results.push(await lag(work));
  const pick = (k) => results.map((r) => r[k]);
  rows.push(
    `| ${name} | ${fmt(median(pick('p50')))} | ${fmt(median(pick('p99')))} | ${fmt(median(pick('max')))} (${fmt(Math.min(...pick('max')))} – ${fmt(Math.max(...pick('max')))}) | ${fmt(median(pick('elapsed')))} |`,
  );
}

// Per-call cost on a cache hit: sync (one FFI call) and async (queue -> library worker ->
// callback relayed to this thread -> promise).
const hitId = 'bench-hit';
ky.getAccessTokenSync(hitId);
const timeIt = async (n, fn) => {
  const t0 = performance.now();
  await fn(n);
  return ((performance.now() - t0) * 1e3) / n; // µs per call
};
const syncHit = median(await Promise.all([0, 1, 2].map(() => timeIt(100_000, (n) => { for (let i = 0; i < n; i++) ky.getAccessTokenSync(hitId); }))));
const asyncHits = [];
for (let r = 0; r < 3; r++) asyncHits.push(await timeIt(2000, async (n) => { for (let i = 0; i < n; i++) await ky.getAccessToken(hitId); }));
const asyncHitsParallel = [];
for (let r = 0; r < 3; r++) asyncHitsParallel.push(await timeIt(4000, (n) => Promise.all(Array.from({ length: n }, () => ky.getAccessToken(hitId)))));

console.log(`Node ${process.version}, koffi ${(await import('koffi')).default.version}, library ${ky.version()} (${ky.libraryPath}), ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}, ${repeats} repeats`);
console.log('');
console.log('| scenario | lag p50 ms | lag p99 ms | lag max ms, median (min – max) | elapsed ms |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log('');
console.log(`| cache hit | µs per call |`);
console.log('|---|---|');
console.log(`| getAccessTokenSync | ${fmt(syncHit)} |`);
console.log(`| await getAccessToken, one at a time | ${fmt(median(asyncHits))} |`);
console.log(`| getAccessToken, 4,000 at once (one id: they join one native call) | ${fmt(median(asyncHitsParallel))} |`);
