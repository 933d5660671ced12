// Use it from Node/TypeScript: fetch the access token without blocking the event loop, handle
// typed errors, and drop a token WeChat rejected exactly once however many requests saw it.
//
//   npm install ky-access-token
//   KY_BASE_URL=http://127.0.0.1:PORT npx tsx get-token.ts [PROGRAM_ID]   (or compile with tsc)
import {
  ApiError,
  Client,
  KyError,
  LogLevel,
  TimeoutError,
  getAccessToken,
  invalidateIf,
  onLog,
  stats,
  version,
} from 'ky-access-token';

async function main(): Promise<number> {
  const programId = process.argv[2] ?? '223fc70098ad11e9a5898928ba7882e6';
  console.log(`ky-access-token ${version()}`);

  // Library log lines (never tokens), here warnings and errors only.
  await onLog((level, line) => console.error(`[ky ${level}] ${line}`), LogLevel.WARN);

  // The process default client, configured from KY_* (KY_BASE_URL, KY_TIMEOUT_MS, ...).
  let token: string;
  try {
    // snippet:begin readme
    token = await getAccessToken(programId); // never blocks the event loop
    // snippet:end readme
  } catch (error) {
    if (error instanceof ApiError) console.error(`the API refused: err ${error.apiErr}: ${error.message}`);
    else if (error instanceof TimeoutError) console.error(`too slow: ${error.message}`);
    else if (error instanceof KyError) console.error(`${error.statusName}: ${error.message}`);
    else throw error;
    return 1;
  }
  console.log(`token ${token.slice(0, 6)}... (${token.length} characters)`);

  // WeChat answered 40001 "invalid credential" with this token? Drop it; the next call refetches.
  // Of many requests that saw the same stale token, only the first one causes a refetch.
  const dropped: boolean = invalidateIf(programId, token);
  console.log(`invalidated: ${dropped}`);
  console.log(`upstream requests so far: ${stats().upstreamRequests}`);

  // A client of its own (its own cache and settings), closed when done.
  const client = new Client({ fromEnv: true, timeoutMs: 3000, maxRetries: 1 });
  try {
    const again = await client.getAccessToken(programId);
    console.log(`client token ${again === token ? 'unchanged' : 'rotated'}`);
  } finally {
    await client.close();
  }
  await onLog(null);
  return 0;
}

main().then((code) => {
  process.exitCode = code;
});
