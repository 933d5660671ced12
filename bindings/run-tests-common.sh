# shellcheck shell=bash
# bindings/run-tests-common.sh: what the bindings/*/run-tests.sh scripts share: the toolchain
# check, the native library plus the sandbox (built with cargo, or taken from KY_LIB_DIR), and
# the verdict with its closing "NAME: N passed, F failed" line. Sourced, not run:
#
#   set -euo pipefail
#   root=...                                   # the repository root
#   fail() { echo "NAME: FAILED: $*" >&2; exit 1; }
#   source "$root/bindings/run-tests-common.sh"
#   ky_require_tools NAME "HINT" TOOL...       # e.g. ky_require_tools node "" node npm
#   ky_lib_env [--keep-sandbox-bin]
#   ...run the tests, count them...
#   ky_summary NAME RUNNER STATUS TOTAL PASSED FAILED SKIPPED   # exits
#
# ky_require_tools: when a TOOL is not on PATH, a SKIP (prints "SKIP NAME: ...", exit 0: nothing
#   counted as passed), or with CI=true a failure (fail "...; HINT"). Returns when all are there.
# ky_lib_env: finds the library and the sandbox, and checks that both files are there (else fail).
#   KY_LIB_DIR=DIR  use DIR/<library file> and DIR/ky-sandbox instead of building
#   KY_OFFLINE=1    cargo build --offline
#   Without KY_LIB_DIR: cargo build -p ky-access-token -p ky-sandbox (debug), in $root.
#   Sets lib_dir (absolute) and lib_file (libky_access_token.so, .dylib or ky_access_token.dll);
#   exports KY_ACCESS_TOKEN_LIB=$lib_dir/$lib_file and KY_SANDBOX_BIN=$lib_dir/ky-sandbox
#   (--keep-sandbox-bin: a KY_SANDBOX_BIN already in the environment is kept).
# ky_summary: the run fails (exit status 1 unless already non-zero) when RUNNER ran no test, or
#   with CI=true when any test was skipped (without CI a skip is a note, never counted as passed);
#   prints "NAME: PASSED passed, FAILED failed" (a failed run shows at least 1 failed: the skipped
#   count when the skips failed it) and exits with the status. tests/run-all.sh reads that line.
# The caller defines fail (its own message prefix) and $root; set -euo pipefail is assumed.

ky_require_tools() { # NAME HINT TOOL...
  local name=$1 hint=$2 tool
  shift 2
  local missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${CI:-}" = true ] && fail "${missing[*]} not installed${hint:+ ($hint)}; CI=true forbids skipping"
  echo "SKIP $name: ${missing[*]} not installed; no $name test ran (not counted as passed)"
  exit 0
}

ky_lib_env() { # [--keep-sandbox-bin]
  : "${root:?run-tests-common.sh: set root (the repository root) before ky_lib_env}"
  case "$(uname -s)" in
    Darwin) lib_file=libky_access_token.dylib ;;
    MINGW* | MSYS* | CYGWIN*) lib_file=ky_access_token.dll ;;
    *) lib_file=libky_access_token.so ;;
  esac
  if [ -n "${KY_LIB_DIR:-}" ]; then
    [ -d "$KY_LIB_DIR" ] || fail "KY_LIB_DIR=$KY_LIB_DIR is not a directory"
    lib_dir=$(cd "$KY_LIB_DIR" && pwd)
  else
    echo "== cargo build -p ky-access-token -p ky-sandbox"
    local offline=()
    [ "${KY_OFFLINE:-}" = 1 ] && offline=(--offline)
    (cd "$root" && cargo build --quiet -p ky-access-token -p ky-sandbox ${offline[@]+"${offline[@]}"})
    lib_dir="$root/target/debug"
  fi
  export KY_ACCESS_TOKEN_LIB="$lib_dir/$lib_file"
  if [ "${1:-}" = --keep-sandbox-bin ]; then
    export KY_SANDBOX_BIN="${KY_SANDBOX_BIN:-$lib_dir/ky-sandbox}"
  else
    export KY_SANDBOX_BIN="$lib_dir/ky-sandbox"
  fi
  [ -f "$KY_ACCESS_TOKEN_LIB" ] || fail "$KY_ACCESS_TOKEN_LIB not found"
  [ -x "$KY_SANDBOX_BIN" ] || fail "$KY_SANDBOX_BIN not found"
}

ky_summary() { # NAME RUNNER STATUS TOTAL PASSED FAILED SKIPPED
  local name=$1 runner=$2 status=$3 total=$4 passed=$5 failed=$6 skipped=$7
  if [ "$total" -eq 0 ]; then
    [ "$status" -eq 0 ] && status=1
    echo "error: $runner ran no tests" >&2
  fi
  if [ "$skipped" -gt 0 ]; then
    if [ "${CI:-}" = true ]; then
      status=1
      echo "error: $skipped test(s) skipped; with CI=true a skip is a failure" >&2
    else
      echo "note: $skipped test(s) skipped (not counted as passed)"
    fi
  fi
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=$((skipped > 0 ? skipped : 1)); fi
  echo "$name: ${passed} passed, ${failed} failed"
  exit "$status"
}
