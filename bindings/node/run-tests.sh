#!/usr/bin/env bash
# The Node binding's one test command: builds the library and the sandbox, installs the locked npm
# dependencies when missing (scripts/prepare.sh), compiles the TypeScript, and runs every test
# file under test/ with node's built-in test runner against the loopback sandbox.
#   KY_LIB_DIR=DIR   use DIR/libky_access_token.so and DIR/ky-sandbox instead of building
#   KY_OFFLINE=1     cargo build --offline
#   CI=true          a missing node/npm, zero tests or any skipped test is a failure
# (The toolchain check, the library lookup/build and the verdict: ../run-tests-common.sh.)
# Last line: "node: N passed, F failed".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() { echo "node: FAILED: $*" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/../run-tests-common.sh
source "$here/../run-tests-common.sh"
ky_require_tools node "" node npm
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || fail "Node >= 18.18 needed (found $(node --version))"

ky_lib_env

cd "$here"
if [ ! -d node_modules/koffi ] || [ ! -x node_modules/.bin/tsc ]; then
  echo "== bindings/node/scripts/prepare.sh (npm ci + npm cache for the offline install test)"
  bash scripts/prepare.sh
fi
echo "== tsc (bindings/node/src -> dist)"
npm run --silent build

echo "== node --test bindings/node/test (library: $KY_ACCESS_TOKEN_LIB)"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
# Files run one at a time (each starts its own sandbox; child-process tests are heavy on 2 cores).
# The whole run has a hard limit: a hung test fails the suite instead of stalling CI.
timeout --kill-after=30 1500 node --test --test-concurrency=1 --test-reporter=spec \
  --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$report" test/*.test.mjs
status=$?
set -e

count() { awk -v key="$1" '$1 == "#" && $2 == key { v = $3 } END { print v + 0 }' "$report"; }
total=$(count tests)
passed=$(count pass)
failed=$(( $(count fail) + $(count cancelled) ))
skipped=$(( $(count skipped) + $(count todo) ))
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "error: node --test exceeded its hard time limit" >&2
fi
ky_summary node "node --test" "$status" "$total" "$passed" "$failed" "$skipped"
