/**
 * ky-access-token for Node.js: the Tianmu (天幕) mini-game access token, fetched and cached by the
 * native library (one upstream request per program however many callers, refresh-ahead,
 * stale-if-error, compare-and-invalidate) through its C ABI.
 *
 *     import { getAccessToken } from 'ky-access-token';
 *     const token = await getAccessToken('223fc70098ad11e9a5898928ba7882e6');
 */

import { isMainThread } from 'node:worker_threads';

import {
  ClientClosedError,
  InvalidArgumentError,
  KyError,
  Status,
  statusName as knownStatusName,
} from './errors';
import * as native from './native';
import { Functions, KyStats, LogCallback, TOKEN_BUFFER_SIZE, TokenDetailCallback, fns, koffi } from './native';

export * from './errors';

/** Where the native library was loaded from (see the lookup order in the README). */
export const libraryPath: string = native.libraryPath;

type Handle = bigint; // ky_client* as koffi 3 hands it out

// --- errors -------------------------------------------------------------------------------------

/** The error for `status` with this thread's details (call right after the failing call). */
function lastError(status: number): KyError {
  let message: string = fns.ky_last_error_message() ?? '';
  if (message === '') message = fns.ky_status_description(status) ?? '';
  return KyError.fromStatus(status, message, Number(fns.ky_last_api_err()));
}

function check(status: number): void {
  if (status !== Status.OK) throw lastError(status);
}

/**
 * The error for a failure of the worker-thread path (`fetchPooled`): koffi ran the blocking call on
 * a pool thread, whose per-thread details (upstream `msg`, `apiErr`) JavaScript cannot reach. So
 * the message is the status description; `apiErr` is 0. (The main-thread path gets the details
 * as callback arguments: `ky_*_async_detail`.)
 */
function asyncError(status: number): KyError {
  const description = fns.ky_status_description(status) ?? '';
  const hint =
    status === Status.CANCELLED
      ? 'the client was closed before this call ran'
      : 'details such as the upstream msg/err are in the onLog lines and in getAccessTokenSync errors';
  return KyError.fromStatus(status, `${description} (${hint})`);
}

// --- arguments ----------------------------------------------------------------------------------

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string, not ${value === null ? 'null' : typeof value}`);
  }
  if (value.includes('\0')) {
    throw new InvalidArgumentError(Status.INVALID_ARGUMENT, `invalid ${what}: contains a NUL character`);
  }
  return value;
}

function checkProgramId(value: unknown): string {
  return text(value, 'program id');
}

function milliseconds(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number of milliseconds`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      Status.INVALID_ARGUMENT,
      `invalid ${what}: ${value} (must be a whole number of milliseconds >= 0)`,
    );
  }
  return value;
}

// --- keeping the event loop alive exactly while native calls are outstanding --------------------

// koffi delivers a callback from a foreign thread through an unref'd thread-safe function, so a
// pending native call alone would let Node exit (and tear down the callback under the worker).
// One ref'd timer is held while any async call is outstanding, and unref'd when none is.
let outstanding = 0;
let keepAlive: NodeJS.Timeout | undefined;

function hold(): void {
  if (outstanding++ === 0) {
    keepAlive ??= setInterval(() => {}, 0x7fffffff);
    keepAlive.ref();
  }
}

function release(): void {
  if (--outstanding === 0) keepAlive?.unref();
}

// --- the async path: one registered callback per JS environment, userdata = call key ------------

interface Pending {
  resolve(token: string): void;
  reject(error: KyError): void;
  owner: Client | undefined; // keeps a Client alive (not collected) until its calls are answered
}

// (client or default) + program id -> the one native async call outstanding for it on this
// thread. Concurrent callers of the same id join it: the library would answer them all from one
// fetch anyway, and one native call means one callback relayed to this thread instead of one per
// caller (1,000 callers: 1 relay, not 1,000) and no KY_ERR_BUSY for a burst on one id.
const flights = new Map<string, Promise<string>>();
const DEFAULT_OWNER = 'default';

function flightKey(owner: Client | undefined, id: string): string {
  return `${owner ? owner.tag : DEFAULT_OWNER}\0${id}`;
}

/**
 * With onLog installed, a blocking call on the main thread that joins a fetch led by a library
 * thread deadlocks: that thread's log line waits for the main thread (koffi delivers it there),
 * which waits for the fetch. Refuse the case this thread can see: an async call for the same id
 * on the same client is outstanding.
 */
function guardSync(owner: Client | undefined, id: string): void {
  if (logHandler !== null && isMainThread && flights.has(flightKey(owner, id))) {
    throw new InvalidArgumentError(
      Status.INVALID_ARGUMENT,
      'getAccessTokenSync would wait for the fetch in flight for this id (started by getAccessToken), whose log ' +
        'line onLog must deliver on this same thread: a deadlock. Await getAccessToken() instead',
    );
  }
}

const pending = new Map<bigint, Pending>();
let nextKey = 1n; // 0 would arrive as NULL
let tokenCallback: unknown; // koffi.register() result; never unregistered (callbacks may be in flight)

function onToken(
  status: number,
  token: string | null,
  _tokenLen: number,
  message: string | null,
  apiErr: number | bigint,
  userdata: unknown,
): void {
  // Runs on this JS thread (koffi relays it from the library's worker); must never throw. The
  // failure's details come as arguments: this thread's ky_last_error_message() is not this call's.
  const key = typeof userdata === 'bigint' ? userdata : BigInt((userdata as number | null) ?? 0);
  const entry = pending.get(key);
  if (!entry) return;
  pending.delete(key);
  release();
  if (status === Status.OK && token !== null) entry.resolve(token);
  else entry.reject(KyError.fromStatus(status, message || (fns.ky_status_description(status) ?? ''), Number(apiErr)));
}

/** Joins the call outstanding for (owner, id) on this thread, or starts one with `start`. */
function joinOrStart(owner: Client | undefined, id: string, start: () => Promise<string>): Promise<string> {
  const flight = flightKey(owner, id);
  const joined = flights.get(flight);
  if (joined) return joined.then(); // a promise of its own, settled with the same outcome
  const call = start();
  flights.set(flight, call);
  const done = (): void => {
    if (flights.get(flight) === call) flights.delete(flight);
  };
  call.then(done, done);
  return call;
}

function startAsync(submit: (callback: unknown, key: bigint) => number, owner?: Client): Promise<string> {
  tokenCallback ??= koffi.register(onToken, TokenDetailCallback);
  return new Promise<string>((resolve, reject) => {
    const key = nextKey++;
    pending.set(key, { resolve, reject, owner });
    hold();
    let status: number;
    try {
      status = submit(tokenCallback, key);
    } catch (error) {
      pending.delete(key);
      release();
      throw error;
    }
    if (status !== Status.OK) {
      // Not queued: the callback will not run, and the details are on this thread now.
      pending.delete(key);
      release();
      reject(lastError(status));
    }
  });
}

/**
 * The async path in a worker thread. A worker can be terminated at any moment, and koffi frees a
 * terminated worker's registered callbacks: a library thread calling one later would crash the
 * process. So workers never hand the library a callback: the blocking call runs on libuv's thread
 * pool (koffi's `.async`, which outlives a terminated worker) into native memory (not a JS
 * Buffer that termination could free under it), and the promise settles on the worker's thread.
 */
async function fetchPooled(call: (buf: unknown, len: number, done: (err: unknown, status: number) => void) => void): Promise<string> {
  let size = TOKEN_BUFFER_SIZE;
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = koffi.alloc('char', size);
    try {
      const status = await new Promise<number>((resolve, reject) =>
        call(buf, size, (err, result) => (err ? reject(err) : resolve(result))),
      );
      if (status === Status.BUFFER_TOO_SMALL) {
        size *= 4; // the required size is on the pool thread; the token stays cached meanwhile
        continue;
      }
      if (status !== Status.OK) throw asyncError(status);
      return koffi.decode.string(buf);
    } finally {
      new Uint8Array(koffi.view(buf, size)).fill(0); // do not leave the secret in freed memory
      koffi.free(buf);
    }
  }
  throw asyncError(Status.BUFFER_TOO_SMALL);
}

// --- the sync path ------------------------------------------------------------------------------

function fetchInto(call: (buf: Buffer, len: number) => number): string {
  let size = TOKEN_BUFFER_SIZE;
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = Buffer.alloc(size);
    const status = call(buf, size);
    if (status === Status.BUFFER_TOO_SMALL) {
      // The token stays cached: asking again with the size it needs does not refetch.
      size = Math.max(Number(fns.ky_last_required_size()), size + 1);
      continue;
    }
    if (status !== Status.OK) throw lastError(status);
    const end = buf.indexOf(0);
    const token = buf.toString('utf8', 0, end < 0 ? size : end);
    buf.fill(0); // do not leave the secret in the freed buffer
    return token;
  }
  throw lastError(Status.BUFFER_TOO_SMALL);
}

// --- stats ----------------------------------------------------------------------------------------

/** A client's counters since it was created (`ky_stats`); read one by one, so they may be a call apart. */
export interface Stats {
  cacheHits: number;
  cacheMisses: number;
  upstreamRequests: number;
  upstreamFailures: number;
  /** Indexed by status code (3 = `KY_ERR_NETWORK`, …). */
  upstreamFailuresByStatus: number[];
  coalescedWaiters: number;
  staleServed: number;
  refreshAheadRuns: number;
  cachedPrograms: number;
}

function readStats(fill: (out: Record<string, unknown>, size: number) => number): Stats {
  const raw: Record<string, unknown> = {};
  check(fill(raw, koffi.sizeof(KyStats)));
  const n = (key: string): number => Number(raw[key]);
  return {
    cacheHits: n('cache_hits'),
    cacheMisses: n('cache_misses'),
    upstreamRequests: n('upstream_requests'),
    upstreamFailures: n('upstream_failures'),
    upstreamFailuresByStatus: (raw.upstream_failures_by_status as Array<number | bigint>).map(Number),
    coalescedWaiters: n('coalesced_waiters'),
    staleServed: n('stale_served'),
    refreshAheadRuns: n('refresh_ahead_runs'),
    cachedPrograms: n('cached_programs'),
  };
}

// --- the process default client (configured from the KY_* environment at its first use) ---------

/**
 * The access token for `programId`, without blocking the event loop: the library's own worker
 * threads fetch it (one upstream request however many callers ask at once) and the promise
 * settles on this thread. Rejects with a {@link KyError} subclass.
 */
export function getAccessToken(programId: string): Promise<string> {
  try {
    const id = checkProgramId(programId);
    return joinOrStart(undefined, id, () =>
      isMainThread
        ? startAsync((callback, key) => fns.ky_get_access_token_async_detail(id, callback, key))
        : fetchPooled((buf, len, done) => fns.ky_get_access_token.async(id, buf, len, done)),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * {@link getAccessToken} blocking this thread (for scripts and CLIs): at most `KY_TIMEOUT_MS`
 * on a miss, a few µs on a cache hit. Throws a {@link KyError} subclass.
 */
export function getAccessTokenSync(programId: string): string {
  const id = checkProgramId(programId);
  guardSync(undefined, id);
  return fetchInto((buf, len) => fns.ky_get_access_token(id, buf, len));
}

/** Drops the cached token, so the next call fetches afresh (e.g. when WeChat answers 40001). No I/O. */
export function invalidate(programId: string): void {
  check(fns.ky_invalidate_access_token(checkProgramId(programId)));
}

/**
 * Compare-and-invalidate: drops the cached token only if it is still `token` (the one WeChat
 * just rejected), so many failing requests cause one refresh, not a storm. True if dropped. No I/O.
 */
export function invalidateIf(programId: string, token: string): boolean {
  const id = checkProgramId(programId);
  const tok = Buffer.from(text(token, 'token'), 'utf8');
  const out = [false];
  check(fns.ky_invalidate_access_token_if(id, tok, tok.length, out));
  return Boolean(out[0]);
}

/** Counters of the process default client. */
export function stats(): Stats {
  return readStats((out, size) => fns.ky_get_stats(out, size));
}

/** The native library's version, e.g. `"0.1.0"`. */
export function version(): string {
  return fns.ky_version() ?? '';
}

/** The C name of a status code, e.g. `KY_ERR_NETWORK` (asks the library, so new codes are named too). */
export function statusName(status: number): string {
  return fns.ky_status_name(status) ?? knownStatusName(status);
}

// --- clients with their own configuration ---------------------------------------------------------

/** Options of a {@link Client}; each mirrors a `ky_config_set_*` setter. Unset = library default. */
export interface ClientOptions {
  /** Start from the `KY_*` environment (as the default client does) instead of the library defaults. */
  fromEnv?: boolean;
  /** API base URL, e.g. `https://api.kuaiyugo.com`; `http://` only for loopback hosts (a sandbox). */
  baseUrl?: string;
  /** Whole-call deadline, retries included (1 to 600000; default 5000). */
  timeoutMs?: number;
  /** Deadline for opening a connection (TCP + TLS). */
  connectTimeoutMs?: number;
  /** Retries of a network error or 5xx (0 to 10; default 2). */
  maxRetries?: number;
  /** How long a token is served from cache (default 60000, capped at 300000; 0 disables the cache). */
  cacheTtlMs?: number;
  /** Extra trusted root certificates: a PEM file (read when the client is created). */
  caFile?: string;
  /** Extra trusted root certificates: PEM text or bytes. */
  caPem?: string | Uint8Array;
  /** A proxy URL `http://[user:password@]host:port`, `"none"` (default) or `"env"`. */
  proxy?: string;
  /** Appended to the User-Agent: printable ASCII, at most 64 characters. */
  userAgentSuffix?: string;
  /** Refresh-ahead point as a fraction of the TTL (default 0.8; 0 or 1 turns it off). */
  refreshAhead?: number;
  /** Stale-if-error window (default and maximum 300000; 0 turns it off). */
  staleIfErrorMs?: number;
  /** Program ids to keep warm from creation on (at most 1024). */
  prefetch?: Iterable<string>;
  /** Most program ids cached at once (default 10000; least recently used evicted beyond it). */
  maxPrograms?: number;
}

type Setter = (config: unknown) => number;

/** maxRetries: a whole number that fits the setter's uint32_t. */
function retries(value: unknown, what: string): number {
  const v = milliseconds(value, what);
  if (v > 0xffffffff) throw new InvalidArgumentError(Status.INVALID_ARGUMENT, `invalid ${what}: ${v}`);
  return v;
}

/** refreshAhead: any number; the library checks the range. */
function fraction(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number`);
  return value;
}

/** maxPrograms: a whole number; the library rejects 0 and too large a value. */
function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(Status.INVALID_ARGUMENT, `invalid ${what}: ${value} (a whole number >= 1)`);
  }
  return value;
}

/**
 * The options that are one value for one `ky_config_set_*` call, in the order they are checked:
 * `convert` gets the option's name for its error message. caPem (which passes its length too) and
 * prefetch (one call per program id) are handled apart in {@link settersFor}.
 */
const SCALAR_OPTIONS: ReadonlyArray<{
  option: keyof ClientOptions;
  convert: (value: unknown, what: string) => string | number;
  setter: Functions[string];
}> = [
  { option: 'baseUrl', convert: text, setter: fns.ky_config_set_base_url },
  { option: 'timeoutMs', convert: milliseconds, setter: fns.ky_config_set_timeout_ms },
  { option: 'connectTimeoutMs', convert: milliseconds, setter: fns.ky_config_set_connect_timeout_ms },
  { option: 'maxRetries', convert: retries, setter: fns.ky_config_set_max_retries },
  { option: 'cacheTtlMs', convert: milliseconds, setter: fns.ky_config_set_cache_ttl_ms },
  { option: 'caFile', convert: text, setter: fns.ky_config_set_ca_file },
  { option: 'proxy', convert: text, setter: fns.ky_config_set_proxy },
  { option: 'userAgentSuffix', convert: text, setter: fns.ky_config_set_user_agent_suffix },
  { option: 'refreshAhead', convert: fraction, setter: fns.ky_config_set_refresh_ahead },
  { option: 'staleIfErrorMs', convert: milliseconds, setter: fns.ky_config_set_stale_if_error_ms },
  { option: 'maxPrograms', convert: wholeNumber, setter: fns.ky_config_set_max_programs },
];

/** Every option checked and converted, as the calls that apply it to a ky_config. */
function settersFor(options: ClientOptions): Setter[] {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const s: Setter[] = [];
  for (const { option, convert, setter } of SCALAR_OPTIONS) {
    if (options[option] === undefined) continue;
    const v = convert(options[option], option);
    s.push((c) => setter(c, v));
  }
  if (options.caPem !== undefined) {
    const v = typeof options.caPem === 'string' ? Buffer.from(options.caPem, 'utf8') : options.caPem;
    if (!(v instanceof Uint8Array)) throw new TypeError('caPem must be a string or a Uint8Array');
    s.push((c) => fns.ky_config_set_ca_pem(c, v, v.byteLength));
  }
  if (options.prefetch !== undefined) {
    if (typeof options.prefetch === 'string') {
      throw new TypeError('prefetch must be an array of program ids, not a string');
    }
    for (const pid of options.prefetch) {
      const v = checkProgramId(pid);
      s.push((c) => fns.ky_config_add_prefetch(c, v));
    }
  }
  return s;
}

function freeLater(handle: Handle, done: () => void): void {
  // ky_client_free waits for the client's running calls, whose callbacks koffi relays to this
  // thread: calling it here would deadlock. It runs on libuv's pool instead (which also keeps the
  // event loop alive until it has finished).
  fns.ky_client_free.async(handle, () => done());
}

let clientCount = 0;
const orphans = new FinalizationRegistry<Handle>((handle) => freeLater(handle, () => {}));

/**
 * A client with its own configuration, cache and worker pool (`ky_client`). Close it with
 * {@link Client.close} (or `await using`); a client that is garbage-collected unclosed is freed
 * then. Using it after `close()` throws {@link ClientClosedError}.
 */
export class Client {
  #handle: Handle | null = null;
  #closing: Promise<void> | null = null;
  /** @internal identifies this client in the sync-call guard */
  readonly tag = `client${++clientCount}`;
  #pooled = 0; // worker threads: blocking calls running on libuv's pool with this handle
  #afterPooled: (() => void) | null = null;

  constructor(options: ClientOptions = {}) {
    const setters = settersFor(options); // every argument checked before anything native exists
    const config: unknown[] = [null];
    check(options.fromEnv ? fns.ky_config_from_env(config) : fns.ky_config_new(config));
    try {
      for (const set of setters) check(set(config[0]));
      const out: unknown[] = [null];
      check(fns.ky_client_new(config[0], out));
      this.#handle = out[0] as Handle;
    } finally {
      fns.ky_config_free(config[0]); // the client keeps its own copy
    }
    orphans.register(this, this.#handle, this);
  }

  #live(): Handle {
    if (this.#handle === null) throw new ClientClosedError(Status.INVALID_ARGUMENT, 'this Client is closed');
    return this.#handle;
  }

  /** True once {@link close} has been called. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /** As {@link getAccessToken}, on this client. */
  getAccessToken(programId: string): Promise<string> {
    try {
      const handle = this.#live();
      const id = checkProgramId(programId);
      return joinOrStart(this, id, () => {
        if (isMainThread) {
          return startAsync((callback, key) => fns.ky_client_get_access_token_async_detail(handle, id, callback, key), this);
        }
        // ky_client_free must be the last call on the handle: close() waits for these.
        this.#pooled++;
        const settle = (): void => {
          if (--this.#pooled === 0 && this.#afterPooled) this.#afterPooled();
        };
        const call = fetchPooled((buf, len, done) => fns.ky_client_get_access_token.async(handle, id, buf, len, done));
        call.then(settle, settle);
        return call;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** As {@link getAccessTokenSync}, on this client. */
  getAccessTokenSync(programId: string): string {
    const handle = this.#live();
    const id = checkProgramId(programId);
    guardSync(this, id);
    return fetchInto((buf, len) => fns.ky_client_get_access_token(handle, id, buf, len));
  }

  /** As {@link invalidate}, on this client. */
  invalidate(programId: string): void {
    const handle = this.#live();
    check(fns.ky_client_invalidate_access_token(handle, checkProgramId(programId)));
  }

  /** As {@link invalidateIf}, on this client. */
  invalidateIf(programId: string, token: string): boolean {
    const handle = this.#live();
    const id = checkProgramId(programId);
    const tok = Buffer.from(text(token, 'token'), 'utf8');
    const out = [false];
    check(fns.ky_client_invalidate_access_token_if(handle, id, tok, tok.length, out));
    return Boolean(out[0]);
  }

  /** This client's counters. */
  stats(): Stats {
    const handle = this.#live();
    return readStats((out, size) => fns.ky_client_stats(handle, out, size));
  }

  /**
   * Frees the client: calls still queued reject with {@link CancelledError}, running ones finish.
   * The returned promise settles once the native client is gone (at most about its timeout).
   * Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const handle = this.#handle;
    this.#handle = null;
    orphans.unregister(this);
    this.#closing =
      handle === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            if (this.#pooled === 0) return freeLater(handle, resolve);
            this.#afterPooled = () => freeLater(handle, resolve);
          });
    return this.#closing;
  }

  /** `using client = new Client(…)`: starts {@link close} (the native free finishes in the background). */
  [Symbol.dispose](): void {
    void this.close();
  }

  /** `await using client = new Client(…)`: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// --- log --------------------------------------------------------------------------------------------

/** `ky_log_level`. */
export const LogLevel = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Receives one log line (never contains a token). */
export type LogHandler = (level: LogLevel, line: string) => void;

let logHandler: LogHandler | null = null;
let logCallback: unknown; // registered once, never unregistered

function onLogLine(level: number, line: string | null): void {
  const handler = logHandler;
  if (!handler) return;
  try {
    handler(level as LogLevel, line ?? '');
  } catch (error) {
    // Nothing may cross into the library; report it the way Node reports a misbehaving listener.
    process.emitWarning(`ky-access-token onLog handler threw: ${String(error)}`, 'KyLogWarning');
  }
}

/**
 * Routes the library's log lines (one per upstream request, retry, failure, stale token served,
 * background refresh) at `minLevel` and above to `handler`; `null` removes it. The library's log
 * hook is process-wide, so this works from the main thread only. The promise settles once the
 * library uses the new setting (the change runs off this thread: the library waits there for a
 * line still being delivered, which koffi delivers on this thread).
 */
export function onLog(handler: LogHandler | null, minLevel: LogLevel = LogLevel.INFO): Promise<void> {
  if (!isMainThread) {
    return Promise.reject(
      new Error('onLog is process-wide: install it from the main thread (a worker may end before the library stops calling it)'),
    );
  }
  if (handler !== null && typeof handler !== 'function') {
    return Promise.reject(new TypeError('handler must be a function or null'));
  }
  if (!Number.isInteger(minLevel)) return Promise.reject(new TypeError('minLevel must be a LogLevel'));
  if (handler !== null) logCallback ??= koffi.register(onLogLine, LogCallback);
  return new Promise<void>((resolve, reject) => {
    fns.ky_set_log_callback.async(handler ? logCallback : null, null, minLevel, (err: unknown, status: number) => {
      if (err) return reject(err);
      if (status !== Status.OK) {
        return reject(KyError.fromStatus(status, `${fns.ky_status_description(status) ?? ''} (min level ${minLevel})`));
      }
      logHandler = handler;
      resolve();
    });
    // Swap the JS side at once too, so no line is dropped while the native side catches up.
    if (handler) logHandler = handler;
  });
}
