#!/usr/bin/env bash
# Builds the npm tarball: compiles the TypeScript (dist/), stages the package with the native
# library of every platform found under prebuilds/<platform>-<arch>/, and runs `npm pack`.
#
#   bash bindings/node/scripts/pack.sh [OUT_DIR]      # prints the tarball's path on its last line
#
# Where the native libraries come from, first match wins:
#   KY_PACK_LIB_DIR=DIR   this one directory's library, for this machine's platform (tests use target/debug)
#   dist/ (KY_DIST_DIR)   every release archive scripts/dist.sh left there,
#                         ky_access_token-VERSION-RID.tar.gz / .zip; RID -> prebuilds folder:
#                         linux-x64, linux-arm64, linux-x64-musl (Alpine; chosen at run time),
#                         win-x64 -> win32-x64, osx-universal -> darwin-x64 and darwin-arm64
#   target/release        this machine's platform only (run `cargo build --release` first)
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
# Release RID (scripts/dist.sh) -> Node platform-arch folders.
folders_of_rid() {
  case "$1" in
    linux-x64 | linux-arm64 | linux-x64-musl) echo "$1" ;;
    win-x64) echo win32-x64 ;;
    win-arm64) echo win32-arm64 ;;
    osx-universal) echo darwin-x64 darwin-arm64 ;;
    osx-x64) echo darwin-x64 ;;
    osx-arm64) echo darwin-arm64 ;;
    *) echo "" ;;
  esac
}
version=$(node -p "require('$here/package.json').version")
dist=${KY_DIST_DIR:-$root/dist}

stage=$(mktemp -d)
unpack=
trap 'rm -rf "$stage" ${unpack:+"$unpack"}' EXIT
add_lib() { # add_lib FILE PLATFORM (a symlink is copied as the file it points to)
  local dest="$stage/prebuilds/$2"
  [ -e "$dest/$(lib_file "$2")" ] && return 0
  mkdir -p "$dest"
  cp -L "$1" "$dest/$(lib_file "$2")"
  echo "pack: prebuilds/$2/$(lib_file "$2") <- $1" >&2
}

if [ -n "${KY_PACK_LIB_DIR:-}" ]; then
  f="$KY_PACK_LIB_DIR/$(lib_file "$host")"
  [ -f "$f" ] || fail "KY_PACK_LIB_DIR=$KY_PACK_LIB_DIR has no $(lib_file "$host")"
  add_lib "$f" "$host"
elif compgen -G "$dist/ky_access_token-$version-*.tar.gz" >/dev/null || compgen -G "$dist/ky_access_token-$version-*.zip" >/dev/null; then
  unpack=$(mktemp -d)
  for archive in "$dist/ky_access_token-$version-"*.tar.gz "$dist/ky_access_token-$version-"*.zip; do
    [ -f "$archive" ] || continue
    name=$(basename "$archive")
    name=${name%.tar.gz}
    name=${name%.zip}
    rid=${name#"ky_access_token-$version-"}
    folders=$(folders_of_rid "$rid")
    if [ -z "$folders" ]; then
      echo "pack: skipping $archive (no Node platform for RID $rid)" >&2
      continue
    fi
    case "$archive" in
      *.zip) python3 -m zipfile -e "$archive" "$unpack" ;;
      *) tar -xzf "$archive" -C "$unpack" ;;
    esac
    for folder in $folders; do
      lib=$(lib_file "$folder")
      f=$(find "$unpack/$name" -name "$lib" \( -type f -o -type l \) | head -n 1)
      [ -n "$f" ] || fail "$archive has no $lib"
      add_lib "$f" "$folder"
    done
  done
  [ -d "$stage/prebuilds" ] || fail "no usable release archive in $dist"
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
