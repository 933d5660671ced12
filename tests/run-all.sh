#!/usr/bin/env bash
# Every check and test of the project, in the order a reviewer would want them to fail.
# This is the README's test command and what .ci/run executes after installing tools.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (Rust unit + integration tests, C ABI tests under valgrind, header drift)"
cargo test --workspace --locked
echo "== quickstart (README's first command: sandbox + C example through the release library)"
bash examples/quickstart.sh
