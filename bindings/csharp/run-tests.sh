#!/usr/bin/env bash
# The C# binding's tests: compile bindings/csharp/src, the tests and examples/csharp with mcs
# (warnings are errors), start the sandbox, and run everything under mono against it; then the
# AppDomain cases (tests/domain/DomainHost.cs): unload loops and exit with a live child domain,
# each a separate mono process under a hard `timeout`.
#
#   bash bindings/csharp/run-tests.sh            # builds the library and sandbox with cargo
#   KY_LIB_DIR=target/release bash bindings/csharp/run-tests.sh   # use an existing build
#
# KY_LIB_DIR must hold libky_access_token.so and ky-sandbox; KY_OFFLINE=1 builds with --offline.
# Without mcs/mono this is a SKIP (exit 0, nothing counted as passed), and a failure when CI=true.
# (The toolchain check and the library lookup/build: ../run-tests-common.sh.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

fail() { echo "csharp: FAILED: $*" >&2; exit 1; }

# shellcheck source=SCRIPTDIR/../run-tests-common.sh
source "$here/../run-tests-common.sh"
ky_require_tools csharp "install mono-mcs and mono-runtime" mcs mono
ky_lib_env

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
mcs "${mcs_flags[@]}" -r:"$work/Ky.AccessToken.dll" -out:"$work/domain_host.exe" "$here"/tests/domain/*.cs

# The sandbox exits when fd 3 (its stdin) closes, so it never outlives this script.
mkfifo "$work/stdin"
"$KY_SANDBOX_BIN" --quiet --exit-on-stdin-eof <"$work/stdin" >"$work/sandbox.out" &
sandbox_pid=$!
exec 3>"$work/stdin"
for _ in $(seq 200); do
  grep -q '^KY_BASE_URL=' "$work/sandbox.out" 2>/dev/null && break
  sleep 0.05
done
base_url=$(sed -n 's/^KY_BASE_URL=//p' "$work/sandbox.out")
[ -n "$base_url" ] || fail "the sandbox did not start"
echo "== sandbox at $base_url"

# Only the sandbox: the default client reads KY_BASE_URL; no proxy variable may redirect it.
test_env=(env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy
  -u KY_TIMEOUT_MS -u KY_MAX_RETRIES -u KY_CACHE_TTL_MS -u KY_CA_FILE
  KY_BASE_URL="$base_url"
  KY_CS_EXAMPLE="$work/get_token.exe"
  LD_LIBRARY_PATH="$lib_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
status=0
"${test_env[@]}" mono --debug "$work/tests.exe" "$@" || status=$?
[ $# -eq 0 ] || exit "$status" # a name filter runs the in-process tests only

# AppDomain unloads and exit (the Unity Editor's domain reloads). A crash (signal, Mono assertion),
# a hang (the hard timeout kills it: exit status 124/137), a failed check (exit 1) or any line on
# stderr (the library never writes there; Rust panics and Mono's crash reports do) fails a case.
# The limits only bound a hang; a passing run takes a fraction of them.
echo "== AppDomain reload and exit (domain_host.exe, each under timeout)"
domain_passed=0 domain_failed=0
domain_case() { # name limit-seconds args...
  local name=$1 limit=$2 rc=0 started=$SECONDS
  shift 2
  "${test_env[@]}" timeout -k 10 "$limit" mono --debug "$work/domain_host.exe" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  if [ "$rc" -eq 0 ] && [ ! -s "$work/$name.err" ]; then
    domain_passed=$((domain_passed + 1))
    echo "PASS $name: $(tail -n 1 "$work/$name.out") ($((SECONDS - started)) s)"
  else
    domain_failed=$((domain_failed + 1))
    local why="exit status $rc"
    [ "$rc" -ge 124 ] && why="$why (killed by the ${limit} s timeout: a hang)"
    echo "FAIL $name: $why; last output: $(tail -n 1 "$work/$name.out")"
    head -n 40 "$work/$name.err" | sed 's/^/    stderr: /'
  fi
}
# Static API, KyClient with a prefetch list, log callback, a sync Get blocked on a background
# thread, thousands of GetAsync calls and a stream of them, slow ones in flight: 25 unloads, twice.
domain_case domain_reload_loop_1 600 reload 25 1500
domain_case domain_reload_loop_2 600 reload 25 1500
# AccessToken.Shutdown (what Unity's beforeAssemblyReload / quitting can call) with all of that in flight.
domain_case shutdown_frees_everything_then_unload 120 shutdown
# Main returns while a never-unloaded child domain holds all of that: the process must exit.
for i in 1 2 3; do
  domain_case "exit_with_live_child_domain_$i" 120 exit
done
echo "csharp: $domain_passed passed, $domain_failed failed"
[ "$domain_failed" -eq 0 ] || status=1
exit "$status"
