// The koffi declarations (src/native.ts, one table) against include/ky_access_token.h: every
// exported C function is declared, with the header's own return and parameter types, except for
// the documented deviations (koffi's _Out_ markers; the _alloc results taken as void *).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

import { REPO_ROOT } from './helpers.mjs';

const native = createRequire(import.meta.url)('../dist/native.js');

const normalize = (decl) =>
  decl
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\b_Out_\s+/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([(),*])\s*/g, '$1')
    .replace(/\(void\)/, '()')
    .trim();

function headerPrototypes() {
  const header = readFileSync(path.join(REPO_ROOT, 'include', 'ky_access_token.h'), 'utf8');
  const body = header.slice(header.indexOf('extern "C" {'));
  const withoutComments = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/^\s*#.*$/gm, '');
  const prototypes = new Map();
  for (const match of withoutComments.matchAll(/([A-Za-z_][\w\s*]*?\b(ky_\w+)\s*\([^)]*\))\s*;/g)) {
    prototypes.set(match[2], normalize(match[1]));
  }
  return prototypes;
}

const DEVIATIONS = {
  // char * results the caller must free: koffi would copy the string and lose the pointer.
  ky_get_access_token_alloc: (h) => h.replace(/^char\*/, 'void*'),
  ky_client_get_access_token_alloc: (h) => h.replace(/^char\*/, 'void*'),
  ky_string_free: (h) => h.replace('char*s', 'void*s'),
};

test('every header function is declared once, with the header signature', () => {
  const header = headerPrototypes();
  assert.ok(header.size >= 30, `parsed ${header.size} prototypes`);
  const declared = new Map();
  for (const line of native.SIGNATURES) {
    const name = /(ky_\w+)\s*\(/.exec(line)[1];
    assert.ok(!declared.has(name), `${name} declared twice`);
    declared.set(name, normalize(line));
  }
  assert.deepEqual([...declared.keys()].sort(), [...header.keys()].sort(), 'same set of functions');
  for (const [name, decl] of declared) {
    const expected = (DEVIATIONS[name] ?? ((h) => h))(header.get(name));
    assert.equal(decl, expected, name);
  }
});

test('ky_stats layout matches the header (KY_STATS_VERSION 1)', () => {
  const header = readFileSync(path.join(REPO_ROOT, 'include', 'ky_access_token.h'), 'utf8');
  const struct = /typedef struct \{([\s\S]*?)\} ky_stats;/.exec(header)[1].replace(/\/\*\*[\s\S]*?\*\//g, '');
  const fields = [...struct.matchAll(/(\w+)\s+(\w+)(\[\w+\])?;/g)].map((m) => m[2]);
  assert.deepEqual(Object.keys(native.KyStats.members), fields);
  assert.equal(native.KyStats.size, 8 + 8 * (fields.length - 3) + 8 * 16);
  assert.match(header, /#define KY_STATUS_SLOTS 16/);
  assert.match(header, new RegExp(`#define KY_TOKEN_BUFFER_SIZE ${native.TOKEN_BUFFER_SIZE}\\b`));
});
