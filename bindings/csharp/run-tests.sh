#!/usr/bin/env bash
# The C# binding's tests: compile bindings/csharp/src, the tests and examples/csharp with mcs
# (warnings are errors), start the sandbox, and run everything under mono against it.
#
#   bash bindings/csharp/run-tests.sh            # builds the library and sandbox with cargo
#   KY_LIB_DIR=target/release bash bindings/csharp/run-tests.sh   # use an existing build
#
# KY_LIB_DIR must hold libky_access_token.so and ky-sandbox. Without mcs/mono this is a SKIP
# (exit 0, nothing counted as passed), and a failure when CI=true.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

missing=()
for tool in mcs mono; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "csharp: FAILED: ${missing[*]} not installed (install mono-mcs and mono-runtime); CI=true forbids skipping" >&2
    exit 1
  fi
  echo "SKIP csharp: ${missing[*]} not installed; no C# test ran (not counted as passed)"
  exit 0
fi

if [ -z "${KY_LIB_DIR:-}" ]; then
  offline=()
  [ "${KY_OFFLINE:-}" = 1 ] && offline=(--offline)
  echo "== building the library and the sandbox (debug)"
  (cd "$root" && cargo build --quiet "${offline[@]}" -p ky-access-token -p ky-sandbox)
  lib_dir=$root/target/debug
else
  lib_dir=$(cd "$KY_LIB_DIR" && pwd)
fi
for f in "$lib_dir/libky_access_token.so" "$lib_dir/ky-sandbox"; do
  [ -e "$f" ] || { echo "csharp: FAILED: $f not found (KY_LIB_DIR=$lib_dir)" >&2; exit 1; }
done

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  if [ -n "$sandbox_pid" ]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== compiling (mcs -unsafe -warnaserror)"
mcs_flags=(-unsafe -warnaserror -nologo -debug)
mcs "${mcs_flags[@]}" -target:library -out:"$work/Ky.AccessToken.dll" "$here"/src/*.cs
mcs "${mcs_flags[@]}" -r:"$work/Ky.AccessToken.dll" -r:System.Core.dll -out:"$work/tests.exe" "$here"/tests/*.cs
mcs "${mcs_flags[@]}" -r:"$work/Ky.AccessToken.dll" -out:"$work/get_token.exe" "$root/examples/csharp/GetToken.cs"

# The sandbox exits when fd 3 (its stdin) closes, so it never outlives this script.
mkfifo "$work/stdin"
"$lib_dir/ky-sandbox" --quiet --exit-on-stdin-eof <"$work/stdin" >"$work/sandbox.out" &
sandbox_pid=$!
exec 3>"$work/stdin"
for _ in $(seq 200); do
  grep -q '^KY_BASE_URL=' "$work/sandbox.out" 2>/dev/null && break
  sleep 0.05
done
base_url=$(sed -n 's/^KY_BASE_URL=//p' "$work/sandbox.out")
[ -n "$base_url" ] || { echo "csharp: FAILED: the sandbox did not start" >&2; exit 1; }
echo "== sandbox at $base_url"

# Only the sandbox: the default client reads KY_BASE_URL; no proxy variable may redirect it.
status=0
env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
  -u KY_TIMEOUT_MS -u KY_MAX_RETRIES -u KY_CACHE_TTL_MS -u KY_CA_FILE \
  KY_BASE_URL="$base_url" \
  KY_CS_EXAMPLE="$work/get_token.exe" \
  LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  mono --debug "$work/tests.exe" "$@" || status=$?
exit "$status"
