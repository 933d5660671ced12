/**
 * Finds and loads the native library and declares every C function it uses, from one table
 * (`SIGNATURES`, in the header's own C syntax, so a checker can compare it with
 * include/ky_access_token.h line by line).
 *
 * Lookup order: `KY_ACCESS_TOKEN_LIB` (a file path; when set it is the only candidate, so a wrong
 * override fails loudly instead of silently loading some other copy), then this package's own
 * binary (`prebuilds/<platform>-<arch>/`), then the system loader (LD_LIBRARY_PATH, ldconfig,
 * PATH on Windows).
 * @internal
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import koffi = require('koffi');

import { LibraryNotFoundError } from './errors';

export const ENV_VAR = 'KY_ACCESS_TOKEN_LIB';
/** KY_TOKEN_BUFFER_SIZE */
export const TOKEN_BUFFER_SIZE = 1024;
/** KY_STATUS_SLOTS */
export const STATUS_SLOTS = 16;

export const LIBRARY_FILE =
  process.platform === 'win32'
    ? 'ky_access_token.dll'
    : process.platform === 'darwin'
      ? 'libky_access_token.dylib'
      : 'libky_access_token.so';

/** True on a musl libc Linux (Alpine): Node's report has no glibc version there. */
function isMusl(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header !== undefined && !report.header.glibcVersionRuntime;
}

/**
 * The folder of this platform's binary inside the package: `prebuilds/linux-x64`,
 * `prebuilds/linux-x64-musl` (Alpine), `prebuilds/win32-x64`, `prebuilds/darwin-arm64`…
 */
export const PLATFORM_DIR = `${process.platform}-${process.arch}${isMusl() ? '-musl' : ''}`;

// --- types: the header's typedefs, declared once, by name, before the functions that use them ---

koffi.alias('ky_status', 'int32_t');
koffi.alias('ky_log_level', 'int32_t');
koffi.opaque('ky_client');
koffi.opaque('ky_config');
export const KyStats = koffi.struct('ky_stats', {
  version: 'uint32_t',
  size: 'uint32_t',
  cache_hits: 'uint64_t',
  cache_misses: 'uint64_t',
  upstream_requests: 'uint64_t',
  upstream_failures: 'uint64_t',
  upstream_failures_by_status: koffi.array('uint64_t', STATUS_SLOTS, 'Array'),
  coalesced_waiters: 'uint64_t',
  stale_served: 'uint64_t',
  refresh_ahead_runs: 'uint64_t',
  cached_programs: 'uint64_t',
});
// The header's callback typedefs are function pointer types; koffi's prototypes are function
// types, so each typedef name is declared as a pointer to its prototype.
export const TokenCallback = koffi.pointer(
  'ky_token_callback',
  koffi.proto('void ky_token_callback_fn(ky_status status, const char *token, size_t token_len, void *userdata)'),
);
export const TokenDetailCallback = koffi.pointer(
  'ky_token_detail_callback',
  koffi.proto(
    'void ky_token_detail_callback_fn(ky_status status, const char *token, size_t token_len, const char *message, int64_t api_err, void *userdata)',
  ),
);
export const LogCallback = koffi.pointer(
  'ky_log_callback',
  koffi.proto('void ky_log_callback_fn(ky_log_level level, const char *line, void *userdata)'),
);

/**
 * Every exported function, exactly as in include/ky_access_token.h except for koffi's direction
 * markers (`_Out_`: koffi writes the value back into the JS array/object passed) and the two
 * `_alloc` functions, whose `char *` result is declared `void *` so that koffi hands back the raw
 * pointer for `ky_string_free` instead of copying the string and leaking it. Output buffers
 * (`char *out_buf`) are Node Buffers, passed without copying.
 */
export const SIGNATURES = [
  'ky_status ky_get_access_token(const char *program_id, char *out_buf, size_t len)',
  'void *ky_get_access_token_alloc(const char *program_id)',
  'void ky_string_free(void *s)',
  'ky_status ky_invalidate_access_token(const char *program_id)',
  'const char *ky_last_error_message(void)',
  'int64_t ky_last_api_err(void)',
  'size_t ky_last_required_size(void)',
  'const char *ky_version(void)',
  'const char *ky_status_name(int32_t status)',
  'const char *ky_status_description(int32_t status)',
  'ky_status ky_client_new(const ky_config *config, _Out_ ky_client **out)',
  'void ky_client_free(ky_client *client)',
  'ky_status ky_client_get_access_token(const ky_client *client, const char *program_id, char *out_buf, size_t len)',
  'void *ky_client_get_access_token_alloc(const ky_client *client, const char *program_id)',
  'ky_status ky_client_invalidate_access_token(const ky_client *client, const char *program_id)',
  'ky_status ky_client_invalidate_access_token_if(const ky_client *client, const char *program_id, const char *token, size_t token_len, _Out_ bool *out_invalidated)',
  'ky_status ky_client_get_access_token_async(const ky_client *client, const char *program_id, ky_token_callback callback, void *userdata)',
  'ky_status ky_client_get_access_token_async_detail(const ky_client *client, const char *program_id, ky_token_detail_callback callback, void *userdata)',
  'ky_status ky_client_stats(const ky_client *client, _Out_ ky_stats *out, size_t out_size)',
  'ky_status ky_get_access_token_async(const char *program_id, ky_token_callback callback, void *userdata)',
  'ky_status ky_get_access_token_async_detail(const char *program_id, ky_token_detail_callback callback, void *userdata)',
  'ky_status ky_invalidate_access_token_if(const char *program_id, const char *token, size_t token_len, _Out_ bool *out_invalidated)',
  'ky_status ky_get_stats(_Out_ ky_stats *out, size_t out_size)',
  'ky_status ky_config_new(_Out_ ky_config **out)',
  'ky_status ky_config_from_env(_Out_ ky_config **out)',
  'void ky_config_free(ky_config *config)',
  'ky_status ky_config_set_base_url(ky_config *config, const char *url)',
  'ky_status ky_config_set_timeout_ms(ky_config *config, uint64_t ms)',
  'ky_status ky_config_set_connect_timeout_ms(ky_config *config, uint64_t ms)',
  'ky_status ky_config_set_max_retries(ky_config *config, uint32_t retries)',
  'ky_status ky_config_set_cache_ttl_ms(ky_config *config, uint64_t ms)',
  'ky_status ky_config_set_ca_file(ky_config *config, const char *path)',
  'ky_status ky_config_set_ca_pem(ky_config *config, const uint8_t *pem, size_t len)',
  'ky_status ky_config_set_proxy(ky_config *config, const char *proxy)',
  'ky_status ky_config_set_user_agent_suffix(ky_config *config, const char *suffix)',
  'ky_status ky_config_set_refresh_ahead(ky_config *config, double fraction)',
  'ky_status ky_config_set_stale_if_error_ms(ky_config *config, uint64_t ms)',
  'ky_status ky_config_add_prefetch(ky_config *config, const char *program_id)',
  'ky_status ky_config_set_max_programs(ky_config *config, uint64_t max)',
  'ky_status ky_set_log_callback(ky_log_callback callback, void *userdata, int32_t min_level)',
] as const;

/** The C function name of a signature line. */
function nameOf(signature: string): string {
  const match = /([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(signature);
  if (!match) throw new Error(`bad signature: ${signature}`);
  return match[1];
}

type Fn = ReturnType<koffi.LibraryHandle['func']>;
export type Functions = Record<string, Fn>;

function tryLoad(target: string, origin: string, tried: string[]): koffi.LibraryHandle | null {
  try {
    return koffi.load(target);
  } catch (error) {
    tried.push(`${target} (${origin}): ${(error as Error).message}`);
    return null;
  }
}

function notFound(tried: string[]): LibraryNotFoundError {
  const lines = tried.map((entry) => `  - ${entry}`).join('\n');
  return new LibraryNotFoundError(
    `cannot load the ky-access-token native library (${LIBRARY_FILE}); tried:\n${lines}\n` +
      `Set ${ENV_VAR} to the library's path (build it with \`cargo build --release\` in the ` +
      `ky-access-token repository: target/release/${LIBRARY_FILE}), or install a package built ` +
      `for ${PLATFORM_DIR}, which ships it under prebuilds/${PLATFORM_DIR}/.`,
  );
}

/** The package's own copy of the library: <package>/prebuilds/<platform>-<arch>/<file>. */
export function bundledLibraryPath(): string {
  return path.join(__dirname, '..', 'prebuilds', PLATFORM_DIR, LIBRARY_FILE);
}

function load(): { lib: koffi.LibraryHandle; libraryPath: string } {
  const tried: string[] = [];
  const override = process.env[ENV_VAR] ?? '';
  if (override !== '') {
    const lib = tryLoad(override, `from ${ENV_VAR}`, tried);
    if (!lib) throw notFound(tried);
    return { lib, libraryPath: override };
  }
  const bundled = bundledLibraryPath();
  if (fs.existsSync(bundled)) {
    const lib = tryLoad(bundled, 'package prebuilds', tried);
    if (lib) return { lib, libraryPath: bundled };
  } else {
    tried.push(`${bundled} (package prebuilds): no such file`);
  }
  const lib = tryLoad(LIBRARY_FILE, 'system loader', tried);
  if (lib) return { lib, libraryPath: LIBRARY_FILE };
  throw notFound(tried);
}

function declare(lib: koffi.LibraryHandle, libraryPath: string): Functions {
  const fns: Functions = {};
  for (const signature of SIGNATURES) {
    try {
      fns[nameOf(signature)] = lib.func(signature);
    } catch (error) {
      throw new LibraryNotFoundError(
        `${libraryPath} cannot provide ${nameOf(signature)} (${(error as Error).message}): it is not ` +
          `this version of the ky-access-token library (set ${ENV_VAR} to a matching build)`,
      );
    }
  }
  return fns;
}

const loaded = load();
/** Where the library was loaded from. */
export const libraryPath: string = loaded.libraryPath;
/** The declared functions, by C name. */
export const fns: Functions = declare(loaded.lib, loaded.libraryPath);
export { koffi };
