#!/usr/bin/env bash
# Every check and test of the project, in the order a reviewer would want them to fail.
# This is the README's test command and what .ci/run executes after installing tools.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (Rust unit + integration tests, C ABI tests under valgrind, header drift, release archives: tests/dist.rs)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
echo "== C# binding (mcs + mono against the library and the sandbox)"
bash bindings/csharp/run-tests.sh 2>&1 | tee -a "$log"
echo "== Python binding (ctypes, pytest against the sandbox, wheel into a fresh venv)"
bash bindings/python/run-tests.sh 2>&1 | tee -a "$log"
echo "== Node binding (koffi, node --test against the sandbox, npm pack installed offline into a fresh folder)"
bash bindings/node/run-tests.sh 2>&1 | tee -a "$log"
echo "== quickstart (README's first command: sandbox + C example through the release library)"
bash examples/quickstart.sh

# One closing line for the whole run: cargo's per-binary "test result" lines plus each binding's
# "<name>: N passed, 0 failed" line.
passed=$(awk '/^test result: ok\./ { sum += $4 }
              /^(python|csharp|node): [0-9]+ passed, 0 failed$/ { sum += $2 }
              END { print sum + 0 }' "$log")
echo "all tests: ${passed} passed, 0 failed"
