#!/usr/bin/env bash
# Installs the package's locked dependencies (npm ci: koffi, typescript, @types/node) and puts
# what a consumer's `npm install` of the packed tarball needs into the npm cache, so that the
# fresh-folder test (test/package.test.mjs) installs with --offline. Run by .ci/run and, when
# node_modules is missing, by run-tests.sh. Online once; afterwards everything comes from the cache.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
npm ci --prefer-offline --no-audit --no-fund
version_of() { node -p "require('./node_modules/$1/package.json').version"; }
koffi=$(version_of koffi)
pkgs=("koffi@$koffi" "typescript@$(version_of typescript)" "@types/node@$(version_of @types/node)"
      "undici-types@$(version_of undici-types)")
# koffi's prebuilt binary for this platform comes in an optional dependency package.
for dir in node_modules/@koromix/*/; do
  pkgs+=("@koromix/$(basename "$dir")@$koffi")
done
npm cache add --prefer-offline "${pkgs[@]}"
echo "prepare: npm cache holds ${pkgs[*]}"
