// Test helpers: one loopback ky-sandbox per test file (node --test runs each file in its own
// process), the environment the default client reads, and child processes with hard timeouts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');
export const SAMPLE_ID = '223fc70098ad11e9a5898928ba7882e6';
export const SAMPLE_TOKEN_PREFIX = '27_t3e8';

// Variables the default client would read: the tests decide them, not the caller's shell.
for (const name of [
  'KY_BASE_URL', 'KY_TIMEOUT_MS', 'KY_MAX_RETRIES', 'KY_CACHE_TTL_MS', 'KY_CA_FILE', 'KY_CONNECT_TIMEOUT_MS',
  'KY_REFRESH_AHEAD', 'KY_STALE_IF_ERROR_MS', 'KY_USER_AGENT_SUFFIX', 'KY_MAX_PROGRAMS',
  'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy',
]) {
  delete process.env[name];
}
process.env.KY_ACCESS_TOKEN_LIB ??= path.join(REPO_ROOT, 'target', 'debug', 'libky_access_token.so');

/** A program id this sandbox has never seen (token `sandbox_<id>_v1`). */
export function freshId(prefix = 'node') {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

/**
 * Starts ky-sandbox (KY_SANDBOX_BIN) on 127.0.0.1 and resolves to its control object. It exits
 * when this process does (its stdin is our pipe); nothing here keeps the event loop alive.
 */
export async function startSandbox(args = []) {
  const bin = process.env.KY_SANDBOX_BIN ?? path.join(REPO_ROOT, 'target', 'debug', 'ky-sandbox');
  const proc = spawn(bin, ['--quiet', '--exit-on-stdin-eof', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout });
  const announced = {};
  const wanted = args.includes('--tls-dir') ? 2 : 1;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ky-sandbox did not announce its URL within 60 s')), 60_000);
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`ky-sandbox exited early (${code})`)));
    lines.on('line', (line) => {
      const [key, value] = line.split('=', 2);
      announced[key] = value;
      if (Object.keys(announced).length >= wanted) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  lines.close();
  proc.removeAllListeners('exit');
  proc.unref();
  proc.stdin.unref?.();
  proc.stdout.destroy();
  const baseUrl = announced.KY_BASE_URL;
  if (!/^https?:\/\/(127\.0\.0\.1|localhost):\d+$/.test(baseUrl ?? '')) throw new Error(`unexpected sandbox URL ${baseUrl}`);
  const control = async (method, route) => {
    const response = await fetch(baseUrl + route, { method });
    if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status}`);
    return response.json();
  };
  return {
    baseUrl,
    caFile: announced.KY_CA_FILE,
    stats: () => control('GET', '/_sandbox/stats'),
    count: async (id) => (await control('GET', '/_sandbox/stats')).programs[id] ?? 0,
    rotate: async (id) => (await control('POST', `/_sandbox/rotate/${id}`)).token,
  };
}

/** Starts the sandbox and points the process default client at it (call before the first get). */
export async function useSandboxForDefaultClient() {
  const sandbox = await startSandbox();
  process.env.KY_BASE_URL = sandbox.baseUrl;
  process.env.KY_TIMEOUT_MS = '10000'; // generous: a loaded machine; timeout tests use their own Client
  process.env.KY_REFRESH_AHEAD = '0'; // no background refresh: request counts must be exact
  return sandbox;
}

/**
 * Runs `node ARGS…` with a hard timeout (the child is SIGKILLed past it) and resolves to
 * { code, signal, stdout, stderr, timedOut }.
 */
export function runNode(args, { env = {}, timeoutMs = 60_000, cwd = PACKAGE_DIR, input } = {}) {
  return run(process.execPath, args, { env, timeoutMs, cwd, input });
}

export function run(command, args, { env = {}, timeoutMs = 60_000, cwd = PACKAGE_DIR, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.end(input ?? '');
  });
}
