#!/usr/bin/env bash
# Builds every release artifact this machine can build into dist/, checks each one, and lays out
# the packages made from them. The release workflow (.github/workflows/release.yml) runs this same
# script on each of its runners; tests/dist.rs runs it here and then tests what it produced.
#
# usage: scripts/dist.sh [--out DIR] [--no-packages] [RID...]
#   RID            linux-x64 linux-arm64 linux-x64-musl win-x64 osx-universal (default: every
#                  RID this host can build; see `host_rids` below)
#   --out DIR      where to write (default: dist/)
#   --no-packages  only the native archives (the release workflow's per-runner jobs)
#
# Per RID, dist/ gets ky_access_token-VERSION-RID.tar.gz (.zip for Windows): include/ (header),
# lib/ (shared + static library; bin/ for the DLL), lib/pkgconfig, lib/cmake/ky_access_token,
# LICENSE-MIT, LICENSE-APACHE, THIRD-PARTY-LICENSES.txt (the linked crates' license files);
# stripped. Each is checked (scripts/dist.py check) and fails the
# run loudly: exports are exactly the header's functions, imports are on an allow-list of system
# libraries, Linux glibc floor <= 2.17, sizes written to dist/SIZES.txt. Then, from dist/ (never
# from target/): Python wheels, the NuGet runtimes/ tree and the Unity package (scripts/dist.py).
#
# How each RID is built:
#   linux-x64       cargo zigbuild --target x86_64-unknown-linux-gnu.2.17    (glibc 2.17 floor)
#   linux-arm64     cargo zigbuild --target aarch64-unknown-linux-gnu.2.17   (glibc 2.17 floor)
#   linux-x64-musl  cargo zigbuild --target x86_64-unknown-linux-musl, -crt-static (Alpine)
#   win-x64         x86_64-pc-windows-msvc on Windows (static CRT), x86_64-pc-windows-gnu
#                   (MinGW-w64) elsewhere
#   osx-universal   aarch64-apple-darwin + x86_64-apple-darwin, lipo (macOS only)
# Tools: cargo, python3; cargo-zigbuild + ziglang (PyPI) for Linux; gcc-mingw-w64-x86-64 for
# win-x64 on Linux; rustup's llvm-tools (llvm-strip, llvm-nm, llvm-readobj) everywhere.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

out=$root/dist packages=1 rids=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    --no-packages) packages= ;;
    -h | --help) sed -n '/^# usage:/,/^# Tools:/ s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "dist.sh: unknown option $1" >&2; exit 2 ;;
    *) rids+=("$1") ;;
  esac
  shift
done
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python

host_rids() {
  case "$(uname -s)" in
    Linux) echo linux-x64 linux-arm64 linux-x64-musl win-x64 ;;
    Darwin) echo osx-universal ;;
    MINGW* | MSYS* | CYGWIN*) echo win-x64 ;;
    *) echo "dist.sh: no release targets for $(uname -s)" >&2; exit 1 ;;
  esac
}
[ ${#rids[@]} -gt 0 ] || read -r -a rids <<<"$(host_rids)"

# Git Bash on Windows: bash wants /c/… paths, the Windows Python wants C:/… ones.
unix_path() { if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else echo "$1"; fi; }
py_path() { if command -v cygpath >/dev/null 2>&1; then cygpath -m "$1"; else echo "$1"; fi; }

version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
target_dir=${CARGO_TARGET_DIR:-$root/target}
host=$(rustc -vV | sed -n 's/^host: //p')
llvm_bin=$(unix_path "$(rustc --print sysroot)")/lib/rustlib/$host/bin
[ -x "$llvm_bin/llvm-strip" ] || [ -x "$llvm_bin/llvm-strip.exe" ] ||
  { echo "dist.sh: llvm-tools missing (rustup component add llvm-tools)" >&2; exit 1; }
KY_LLVM_BIN=$(py_path "$llvm_bin")
export KY_LLVM_BIN
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"

# build TRIPLE [ZIG_SUFFIX]: one release build of the cdylib + staticlib for TRIPLE, with rustc's
# list of the static library's system libraries saved in $stage/TRIPLE.static-libs.
build() {
  local triple=$1 suffix=${2:-} cargo=(cargo) log status=0
  # cargo-zigbuild's own subcommand for `cargo rustc` with zig as the linker; it takes the glibc
  # version as a suffix of the target triple.
  case "$triple" in *linux*) cargo=(cargo-zigbuild) ;; esac
  log=$stage/$triple.build.log
  echo "== ${cargo[*]} rustc --release --target $triple$suffix (cdylib + staticlib)"
  "${cargo[@]}" rustc --release --locked -p ky-access-token --lib --target "$triple$suffix" \
    --crate-type cdylib,staticlib -- --print native-static-libs >"$log" 2>&1 || status=$?
  grep -v '^note: \|^$' "$log" || true
  [ "$status" -eq 0 ] || { echo "dist.sh: build for $triple failed" >&2; exit 1; }
  sed -n 's/.*native-static-libs: //p' "$log" | tail -n 1 >"$stage/$triple.static-libs"
  [ -s "$stage/$triple.static-libs" ] || { echo "dist.sh: rustc printed no native-static-libs" >&2; exit 1; }
}

# package RID TRIPLE: install prefix from target/TRIPLE/release, stripped, checked, archived.
package() {
  local rid=$1 triple=$2 name prefix
  name=ky_access_token-$version-$rid
  prefix=$stage/$name
  bash scripts/install.sh --prefix "$prefix" --target "$triple" \
    --from "$target_dir/$triple/release" --static-libs "$(cat "$stage/$triple.static-libs")"
  cp LICENSE-MIT LICENSE-APACHE "$prefix/"
  local notices=$triple
  [ "$triple" = universal-apple-darwin ] && notices=aarch64-apple-darwin
  "$PYTHON" scripts/dist.py finish --rid "$rid" --triple "$notices" --prefix "$(py_path "$prefix")" \
    --out "$(py_path "$out")"
}

for rid in "${rids[@]}"; do
  case "$rid" in
    linux-x64) build x86_64-unknown-linux-gnu .2.17 && package "$rid" x86_64-unknown-linux-gnu ;;
    linux-arm64) build aarch64-unknown-linux-gnu .2.17 && package "$rid" aarch64-unknown-linux-gnu ;;
    linux-x64-musl)
      # A shared library on musl needs a dynamically linked C runtime (crt-static is the default).
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static" \
        build x86_64-unknown-linux-musl && package "$rid" x86_64-unknown-linux-musl ;;
    win-x64)
      case "$(uname -s)" in
        MINGW* | MSYS* | CYGWIN*)
          # The C runtime linked in: the DLL then needs no Visual C++ redistributable.
          CARGO_TARGET_X86_64_PC_WINDOWS_MSVC_RUSTFLAGS="-C target-feature=+crt-static" \
            build x86_64-pc-windows-msvc && package "$rid" x86_64-pc-windows-msvc ;;
        *) build x86_64-pc-windows-gnu && package "$rid" x86_64-pc-windows-gnu ;;
      esac ;;
    osx-universal)
      build aarch64-apple-darwin && build x86_64-apple-darwin
      mkdir -p "$target_dir/universal-apple-darwin/release"
      for f in libky_access_token.dylib libky_access_token.a; do
        lipo -create -output "$target_dir/universal-apple-darwin/release/$f" \
          "$target_dir/aarch64-apple-darwin/release/$f" "$target_dir/x86_64-apple-darwin/release/$f"
      done
      cp "$stage/aarch64-apple-darwin.static-libs" "$stage/universal-apple-darwin.static-libs"
      package "$rid" universal-apple-darwin ;;
    *) echo "dist.sh: unknown RID $rid (one of: linux-x64 linux-arm64 linux-x64-musl win-x64 osx-universal)" >&2; exit 2 ;;
  esac
done

if [ -n "$packages" ]; then
  "$PYTHON" scripts/dist.py packages --out "$(py_path "$out")"
else
  "$PYTHON" scripts/dist.py summary --out "$(py_path "$out")"
fi
rm -rf "$stage"
echo "== dist/"
cat "$out/SIZES.txt"
