#!/usr/bin/env bash
# The Python binding's one test command: builds the library and the sandbox, makes sure pytest
# and the build backend are there, runs bindings/python/tests against the package from source.
#   KY_LIB_DIR=DIR   use DIR/libky_access_token.so and DIR/ky-sandbox instead of building
#   KY_OFFLINE=1     cargo build --offline
#   CI=true          a missing tool, zero tests or any skipped test is a failure
#   PYTHON=...       interpreter to use (default python3)
#   KY_SANDBOX_BIN=PATH  the sandbox binary to test against (default: next to the library)
# (The library lookup/build and the verdict: ../run-tests-common.sh.)
# Last line: "python: N passed, F failed".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3}
ci=${CI:-}

fail() { echo "error: $*" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/../run-tests-common.sh
source "$here/../run-tests-common.sh"
ky_lib_env --keep-sandbox-bin # KY_SANDBOX_BIN=PATH: run the tests against that sandbox binary

command -v "$PYTHON" >/dev/null 2>&1 || fail "$PYTHON not found (Python 3.8+ with pip is needed)"
if ! "$PYTHON" -c 'import pytest, hatchling' >/dev/null 2>&1; then
  echo "== $PYTHON -m pip install -q pytest hatchling"
  if ! "$PYTHON" -m pip install -q pytest hatchling; then
    [ "$ci" = true ] && fail "could not install pytest and hatchling (CI=true: required)"
    echo "warning: could not install pytest/hatchling; the wheel test will be skipped" >&2
  fi
fi
"$PYTHON" -c 'import pytest' >/dev/null 2>&1 || fail "pytest is not importable by $PYTHON"

echo "== pytest bindings/python/tests (library: $KY_ACCESS_TOKEN_LIB)"
report_dir=$(mktemp -d)
trap 'rm -rf "$report_dir"' EXIT
set +e
PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m pytest -p no:cacheprovider -q -rs \
  --junitxml="$report_dir/junit.xml" "$here/tests"
status=$?
set -e

read -r total failed skipped < <("$PYTHON" - "$report_dir/junit.xml" <<'PY' || echo "0 0 0"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
get = lambda k: int(suite.get(k, 0))
print(get("tests"), get("failures") + get("errors"), get("skipped"))
PY
)
passed=$((total - failed - skipped))

ky_summary python pytest "$status" "$total" "$passed" "$failed" "$skipped"
