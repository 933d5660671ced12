#!/usr/bin/env bash
# The main job end to end, offline: start the bundled sandbox on 127.0.0.1, build the C example
# against the library, and fetch a token through the C ABI. Set KY_OFFLINE=1 to build with --offline.
set -euo pipefail
cd "$(dirname "$0")/.."

offline=()
[ "${KY_OFFLINE:-}" = 1 ] && offline=(--offline)
echo "== building the library and the sandbox (release)"
cargo build --release --quiet "${offline[@]}" -p ky-access-token -p ky-sandbox

work=$(mktemp -d)
# The sandbox runs as a coprocess: it prints KY_BASE_URL=... first and exits when its stdin (our
# end of the coprocess) closes, so it never outlives this script.
coproc SANDBOX { exec target/release/ky-sandbox --quiet --exit-on-stdin-eof; }
sandbox_pid=$SANDBOX_PID
# `|| true`: under `set -e` the trap would otherwise end the script with the sandbox's own status
# (143, killed by SIGTERM) instead of ours.
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
IFS= read -r -t 30 line <&"${SANDBOX[0]}" || { echo "sandbox did not start" >&2; exit 1; }
export KY_BASE_URL=${line#KY_BASE_URL=}
echo "== sandbox listening at $KY_BASE_URL"

cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/get_token.c \
  -Ltarget/release -lky_access_token -Wl,-rpath,"$PWD/target/release" -o "$work/get_token"

id=223fc70098ad11e9a5898928ba7882e6
token=$("$work/get_token" "$id")
echo "== token for $id (the documented sample token):"
echo "$token"
echo "== an API error (err != 0) is reported with its status, upstream msg and err:"
set +e
"$work/get_token" fault-api-error-40001
echo "exit status: $?"
set -e
