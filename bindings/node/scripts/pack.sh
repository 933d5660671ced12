#!/usr/bin/env bash
# Builds the npm tarball: compiles the TypeScript (dist/), stages the package with the native
# library of every platform found under prebuilds/<platform>-<arch>/, and runs `npm pack`.
#
#   bash bindings/node/scripts/pack.sh [OUT_DIR]      # prints the tarball's path on its last line
#
# Where the native libraries come from, first match wins:
#   KY_PACK_LIB_DIR=DIR   this one directory's library, for this machine's platform (tests use target/debug)
#   <repo>/dist/          every per-platform library the release build left there (scripts/dist.sh);
#                         a path component naming a Rust target triple tells the platform
#   <repo>/target/release this machine's platform only (run `cargo build --release` first)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)

fail() { echo "pack: $*" >&2; exit 1; }

# Node's platform-arch for this machine, and the library's file name per platform.
host=$(node -p 'process.platform + "-" + process.arch')
lib_file() {
  case "$1" in
    win32-*) echo ky_access_token.dll ;;
    darwin-*) echo libky_access_token.dylib ;;
    *) echo libky_access_token.so ;;
  esac
}
# Rust target triple (anywhere in a path) -> Node platform-arch.
platform_of() {
  case "$1" in
    *x86_64-unknown-linux-gnu*) echo linux-x64 ;;
    *aarch64-unknown-linux-gnu*) echo linux-arm64 ;;
    *x86_64-pc-windows-*) echo win32-x64 ;;
    *aarch64-pc-windows-*) echo win32-arm64 ;;
    *x86_64-apple-darwin*) echo darwin-x64 ;;
    *aarch64-apple-darwin*) echo darwin-arm64 ;;
    *) echo "" ;;
  esac
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
add_lib() { # add_lib FILE PLATFORM
  local dest="$stage/prebuilds/$2"
  [ -e "$dest/$(lib_file "$2")" ] && return 0
  mkdir -p "$dest"
  cp "$1" "$dest/$(lib_file "$2")"
  echo "pack: prebuilds/$2/$(lib_file "$2") <- $1" >&2
}

if [ -n "${KY_PACK_LIB_DIR:-}" ]; then
  f="$KY_PACK_LIB_DIR/$(lib_file "$host")"
  [ -f "$f" ] || fail "KY_PACK_LIB_DIR=$KY_PACK_LIB_DIR has no $(lib_file "$host")"
  add_lib "$f" "$host"
elif [ -d "$root/dist" ] && [ -n "$(find "$root/dist" -type f \( -name 'libky_access_token.so*' -o -name 'ky_access_token.dll' -o -name 'libky_access_token.dylib' \) -print -quit)" ]; then
  while IFS= read -r f; do
    p=$(platform_of "${f#"$root/dist/"}")
    if [ -z "$p" ]; then
      echo "pack: skipping $f (no Rust target triple in its path)" >&2
      continue
    fi
    add_lib "$f" "$p"
  done < <(find "$root/dist" -type f \( -name 'libky_access_token.so' -o -name 'ky_access_token.dll' -o -name 'libky_access_token.dylib' \) | sort)
  [ -d "$stage/prebuilds" ] || fail "dist/ holds no library under a recognisable target triple"
else
  f="${CARGO_TARGET_DIR:-$root/target}/release/$(lib_file "$host")"
  [ -f "$f" ] || fail "no library to ship: $f not found (run \`cargo build --release\`, or set KY_PACK_LIB_DIR)"
  add_lib "$f" "$host"
fi

# Compile, then stage exactly what package.json's "files" ships.
(cd "$here" && npm run --silent build >&2)
cp "$here/package.json" "$here/README.md" "$stage/"
cp -R "$here/dist" "$stage/dist"
tarball=$(cd "$stage" && npm pack --ignore-scripts --silent --pack-destination "$out" | tail -n 1)
echo "$out/$tarball"
