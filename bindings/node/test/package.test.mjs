// `npm pack` → a fresh folder → `npm install --offline` of the tarball (koffi from the npm cache
// that scripts/prepare.sh filled) → the package finds its own prebuilt library and works, from
// CommonJS and ESM; the TypeScript example type-checks (tsc --noEmit), compiles and runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PACKAGE_DIR, REPO_ROOT, freshId, run, runNode, useSandboxForDefaultClient } from './helpers.mjs';

const sandbox = await useSandboxForDefaultClient();
const HARD = 300_000;
const work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'ky-node-pack-')));
const app = path.join(work, 'app');
// The consumer's environment: no override, so the package's own prebuilt binary must be found.
const consumerEnv = { KY_ACCESS_TOKEN_LIB: '', npm_config_update_notifier: 'false' };
let tarball;

process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function ok(result, what) {
  assert.equal(result.timedOut, false, `${what}: hung\n${result.stdout}\n${result.stderr}`);
  assert.equal(result.code, 0, `${what}: exit ${result.code}\n${result.stdout}\n${result.stderr}`);
}

test('npm pack: compiled JS, types for both entry points, the native library; no sources or tests', async () => {
  const libDir = path.dirname(process.env.KY_ACCESS_TOKEN_LIB);
  const packed = await run('bash', [path.join(PACKAGE_DIR, 'scripts', 'pack.sh'), path.join(work, 'out')], {
    env: { KY_PACK_LIB_DIR: libDir },
    timeoutMs: HARD,
  });
  ok(packed, 'pack.sh');
  tarball = packed.stdout.trim().split('\n').pop();
  assert.match(tarball, /ky-access-token-\d+\.\d+\.\d+\.tgz$/);
  const listing = await run('tar', ['tzf', tarball]);
  ok(listing, 'tar');
  const files = listing.stdout.trim().split('\n').sort();
  const platform = `${process.platform}-${process.arch}`;
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts', 'dist/native.js', 'dist/errors.js', 'package.json', 'README.md', `prebuilds/${platform}/libky_access_token.so`]) {
    assert.ok(files.includes(`package/${f}`), `${f} in ${files.join(' ')}`);
  }
  assert.ok(!files.some((f) => /package\/(src|test|scripts|node_modules)\//.test(f)), files.join(' '));
});

test('the tarball installs offline into a fresh folder and works there (require and import)', async () => {
  assert.ok(tarball, 'packed by the previous test');
  mkdirSync(app);
  for (const f of ['get-token.ts', 'tsconfig.json', 'package.json']) {
    copyFileSync(path.join(REPO_ROOT, 'examples', 'node', f), path.join(app, f));
  }
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball, '@types/node@20.19.43', 'typescript@5.9.3'], {
    cwd: app,
    env: consumerEnv,
    timeoutMs: HARD,
  });
  ok(install, 'npm install --offline (if ENOTCACHED: run bindings/node/scripts/prepare.sh once online)');
  const id = freshId();
  const probe = `
    const ky = require('ky-access-token');
    const koffiPath = require.resolve('koffi');
    console.log(JSON.stringify({ lib: ky.libraryPath, koffi: koffiPath, version: ky.version(), token: ky.getAccessTokenSync(process.argv[1]) }));
  `;
  const cjs = await runNode(['-e', probe, id], { cwd: app, env: consumerEnv, timeoutMs: HARD });
  ok(cjs, 'require in the fresh folder');
  const report = JSON.parse(cjs.stdout);
  assert.equal(report.lib, path.join(app, 'node_modules', 'ky-access-token', 'prebuilds', `${process.platform}-${process.arch}`, 'libky_access_token.so'));
  assert.ok(report.koffi.startsWith(path.join(app, 'node_modules', 'koffi')), report.koffi);
  assert.equal(report.token, `sandbox_${id}_v1`);
  const esm = await runNode(['--input-type=module', '-e', `import { getAccessToken } from 'ky-access-token'; console.log(await getAccessToken('${id}'));`], {
    cwd: app,
    env: consumerEnv,
    timeoutMs: HARD,
  });
  ok(esm, 'import in the fresh folder');
  assert.equal(esm.stdout.trim(), `sandbox_${id}_v1`);
});

test('the TypeScript example type-checks against the installed .d.ts (CJS and ESM), compiles and runs', async () => {
  const tsc = path.join(app, 'node_modules', 'typescript', 'bin', 'tsc');
  ok(await runNode([tsc, '--noEmit', '-p', app], { cwd: app, timeoutMs: HARD }), 'tsc --noEmit (example)');
  // An ESM consumer resolves the "import" condition's index.d.mts.
  writeFileSync(path.join(app, 'esm-check.mts'), `
    import { Client, KyError, getAccessToken, type Stats } from 'ky-access-token';
    const token: Promise<string> = getAccessToken('abc');
    const client = new Client({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000, prefetch: ['abc'] });
    const stats: Stats = client.stats();
    const closed: Promise<void> = client.close();
    const e: KyError = new KyError(7, 'm', 40013);
    const s: string = e.statusName;
    void [token, stats, closed, s];
    // @ts-expect-error programId must be a string
    void getAccessToken(42);
  `);
  ok(await runNode([tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', path.join(app, 'esm-check.mts')], { cwd: app, timeoutMs: HARD }), 'tsc --noEmit (ESM)');
  ok(await runNode([tsc, '-p', app], { cwd: app, timeoutMs: HARD }), 'tsc (example)');
  const example = await runNode([path.join(app, 'out', 'get-token.js')], { cwd: app, env: consumerEnv, timeoutMs: HARD });
  ok(example, 'example');
  assert.match(example.stdout, /^ky-access-token \d+\.\d+\.\d+$/m);
  assert.match(example.stdout, /^token 27_t3e... \(\d+ characters\)$/m);
  assert.match(example.stdout, /^invalidated: true$/m);
  assert.match(example.stdout, /^client token (unchanged|rotated)$/m);
  assert.ok(await sandbox.count('223fc70098ad11e9a5898928ba7882e6') >= 1);
});

test('pack.sh takes every platform from the release archives in dist/ (scripts/dist.sh layout)', async () => {
  const version = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')).version;
  const dist = path.join(work, 'dist');
  const tree = path.join(work, 'tree');
  const lib = process.env.KY_ACCESS_TOKEN_LIB;
  const make = (rid, rel, content) => {
    const dir = path.join(tree, `ky_access_token-${version}-${rid}`, path.dirname(rel));
    mkdirSync(dir, { recursive: true });
    if (content === 'symlinked-so') {
      // As install.sh lays it out: libky_access_token.so -> .so.0 -> .so.<version>
      copyFileSync(lib, path.join(dir, `libky_access_token.so.${version}`));
      symlinkSync(`libky_access_token.so.${version}`, path.join(dir, 'libky_access_token.so.0'));
      symlinkSync('libky_access_token.so.0', path.join(dir, 'libky_access_token.so'));
    } else {
      writeFileSync(path.join(dir, path.basename(rel)), content);
    }
  };
  make('linux-x64', 'lib/libky_access_token.so', 'symlinked-so');
  make('linux-arm64', 'lib/libky_access_token.so', 'arm64 stand-in');
  make('osx-universal', 'lib/libky_access_token.dylib', 'universal stand-in');
  make('win-x64', 'bin/ky_access_token.dll', 'dll stand-in');
  make('linux-riscv64', 'lib/libky_access_token.so', 'no Node folder for this RID');
  mkdirSync(dist);
  for (const rid of ['linux-x64', 'linux-arm64', 'osx-universal', 'linux-riscv64']) {
    ok(await run('tar', ['-czf', path.join(dist, `ky_access_token-${version}-${rid}.tar.gz`), '-C', tree, `ky_access_token-${version}-${rid}`]), `tar ${rid}`);
  }
  const zip = `import os, sys, zipfile
root, name, out = sys.argv[1:4]
with zipfile.ZipFile(out, "w") as z:
    for d, _, files in os.walk(os.path.join(root, name)):
        for f in files:
            full = os.path.join(d, f)
            z.write(full, os.path.relpath(full, root))`;
  ok(await run('python3', ['-c', zip, tree, `ky_access_token-${version}-win-x64`, path.join(dist, `ky_access_token-${version}-win-x64.zip`)]), 'zip');
  const packed = await run('bash', [path.join(PACKAGE_DIR, 'scripts', 'pack.sh'), path.join(work, 'out-dist')], {
    env: { KY_DIST_DIR: dist, KY_PACK_LIB_DIR: '' },
    timeoutMs: HARD,
  });
  ok(packed, 'pack.sh from dist/');
  assert.match(packed.stderr, /skipping .*linux-riscv64/);
  const tgz = packed.stdout.trim().split('\n').pop();
  const listing = await run('tar', ['tzvf', tgz]);
  ok(listing, 'tar tzvf');
  const prebuilds = Object.fromEntries(
    listing.stdout.trim().split('\n').filter((l) => l.includes('package/prebuilds/')).map((l) => {
      const fields = l.trim().split(/\s+/);
      return [fields[fields.length - 1].replace('package/prebuilds/', ''), Number(fields[2])];
    }),
  );
  assert.deepEqual(Object.keys(prebuilds).sort(), [
    'darwin-arm64/libky_access_token.dylib',
    'darwin-x64/libky_access_token.dylib',
    'linux-arm64/libky_access_token.so',
    'linux-x64/libky_access_token.so',
    'win32-x64/ky_access_token.dll',
  ]);
  assert.equal(prebuilds['linux-x64/libky_access_token.so'], statSync(lib).size, 'the symlinked .so shipped as the file');
  assert.equal(prebuilds['win32-x64/ky_access_token.dll'], 'dll stand-in'.length);
});
