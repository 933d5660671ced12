# shellcheck shell=bash
# bindings/lib-env.sh: what every bindings/*/run-tests.sh needs before its tests run: the
# toolchain check and the native library plus the sandbox (built with cargo, or taken from
# KY_LIB_DIR). Sourced, not run:
#
#   set -euo pipefail
#   root=...                                   # the repository root
#   fail() { echo "NAME: FAILED: $*" >&2; exit 1; }
#   source "$root/bindings/lib-env.sh"
#   ky_require_tools NAME "HINT" TOOL...       # e.g. ky_require_tools node "" node npm
#   ky_lib_env [--keep-sandbox-bin]
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
  : "${root:?lib-env.sh: set root (the repository root) before ky_lib_env}"
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
