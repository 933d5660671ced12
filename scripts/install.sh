#!/usr/bin/env bash
# Installs the C library into a prefix the way C/C++ build systems expect it (what `cargo cinstall`
# from cargo-c would do; cargo-c itself is not needed):
#
#   PREFIX/include/ky_access_token.h
#   PREFIX/lib/libky_access_token.so.0.1.0            soname libky_access_token.so.0
#   PREFIX/lib/libky_access_token.so.0 -> .so.0.1.0   what programs load at run time
#   PREFIX/lib/libky_access_token.so   -> .so.0       what `-lky_access_token` finds at link time
#   PREFIX/lib/libky_access_token.a                   static library
#   PREFIX/lib/pkgconfig/ky_access_token.pc
#   PREFIX/lib/cmake/ky_access_token/ky_access_tokenConfig.cmake (+ ConfigVersion.cmake)
#
# usage: scripts/install.sh --prefix DIR [--release|--debug] [--no-build]
#                           [--target TRIPLE] [--from DIR] [--static-libs "FLAGS"]
#   --release (default) / --debug   which cargo profile to build and install
#   --no-build                      install what target/<profile> already holds
#   --target TRIPLE                 a cross build: target/TRIPLE/<profile> (the release workflow)
#   --from DIR                      install the libraries found in DIR (implies --no-build)
#   --static-libs "FLAGS"           the static library's system libraries, as printed by
#                                   `cargo rustc --release --lib --crate-type staticlib --
#                                   --print native-static-libs` for that target
# Environment: CARGO_TARGET_DIR (default ./target), KY_OFFLINE=1 (cargo build --offline).
#
# The soname is set with patchelf on the library cargo built, not by relinking: passing
# `-C link-arg=-Wl,-soname,…` through RUSTFLAGS or `cargo rustc` changes cargo's fingerprint, so
# the next plain `cargo build --release` (the quickstart, the tests) would rebuild the crate, and
# the two would keep rebuilding each other. patchelf edits only the copy in PREFIX.
# macOS: the dylib is installed as libky_access_token.0.dylib with install name
# @rpath/libky_access_token.0.dylib (install_name_tool), then ad-hoc re-signed. Windows (MSVC):
# bin/ky_access_token.dll, lib/ky_access_token.dll.lib (import library), lib/ky_access_token.lib
# (static); MinGW: bin/ky_access_token.dll, lib/libky_access_token.dll.a, lib/libky_access_token.a.
# The Linux layout is tested by tests/install.rs, the release archives (scripts/dist.sh) by
# tests/dist.rs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# usage [STATUS]: the usage text from the comment above; on stderr unless asked for with --help.
usage() {
  local text
  text=$(sed -n '/^# usage:/,/^# Environment/ s/^# \{0,1\}//p' "${BASH_SOURCE[0]}")
  if [ "${1:-2}" = 0 ]; then echo "$text"; else echo "$text" >&2; fi
  exit "${1:-2}"
}
fail() { echo "install.sh: $*" >&2; exit 1; }

prefix='' profile=release build=1 target='' from='' static_libs=''
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift ;;
    --release) profile=release ;;
    --debug) profile=debug ;;
    --no-build) build= ;;
    --target) [ $# -ge 2 ] || usage; target=$2; shift ;;
    --from) [ $# -ge 2 ] || usage; from=$2; build=; shift ;;
    --static-libs) [ $# -ge 2 ] || usage; static_libs=$2; shift ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
[ -n "$prefix" ] || { echo "install.sh: --prefix is required" >&2; usage; }
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

# The package version is the first `version = "…"` of Cargo.toml (the [package] table).
version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
[[ "$version" =~ ^([0-9]+)\.[0-9]+\.[0-9]+ ]] || fail "no version in $root/Cargo.toml"
major=${BASH_REMATCH[1]}

if [ -n "$build" ]; then
  args=(build -p ky-access-token)
  [ "$profile" = release ] && args+=(--release)
  [ -n "$target" ] && args+=(--target "$target")
  [ "${KY_OFFLINE:-}" = 1 ] && args+=(--offline)
  echo "== cargo ${args[*]}"
  (cd "$root" && cargo "${args[@]}")
fi
if [ -z "$from" ]; then
  from=${CARGO_TARGET_DIR:-$root/target}
  [ -n "$target" ] && from=$from/$target
  from=$from/$profile
fi
[ -d "$from" ] || fail "$from does not exist (build first, or drop --no-build)"

# What the target's system libraries are for the static library. These defaults are rustc's
# `--print native-static-libs` output for this crate; pass --static-libs for other targets.
os=${target:-$(uname -s)}
case "$os" in
  *linux* | Linux) default_static="-lc -lm -lrt -lpthread -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc" ;;
  *apple* | Darwin) default_static="-framework Security -framework CoreFoundation -liconv -lSystem -lc -lm" ;;
  *windows* | MINGW* | MSYS* | CYGWIN*) default_static="kernel32.lib advapi32.lib ntdll.lib userenv.lib ws2_32.lib crypt32.lib bcrypt.lib" ;;
  *) default_static= ;;
esac
if [ -z "$static_libs" ]; then
  static_libs=$default_static
  case "$os" in
    *linux* | Linux) ;; # measured and tested (tests/install.rs links a static program with it)
    *) echo "install.sh: note: the static library's system libraries for $os are a best guess;" \
      "check them with --print native-static-libs and pass --static-libs" >&2 ;;
  esac
fi

# The same list as CMake link items: -lfoo -> foo, foo.lib -> foo, "-framework X" kept whole,
# MSVC's /defaultlib:… dropped (the compiler driver adds the C runtime itself).
cmake_libs=()
read -r -a words <<<"$static_libs"
for ((i = 0; i < ${#words[@]}; i++)); do
  w=${words[i]}
  case "$w" in
    -framework) cmake_libs+=("-framework ${words[i + 1]}"); i=$((i + 1)) ;;
    -l*) cmake_libs+=("${w#-l}") ;;
    /defaultlib:* | /DEFAULTLIB:*) ;;
    *.lib) cmake_libs+=("${w%.lib}") ;;
    *) cmake_libs+=("$w") ;;
  esac
done
cmake_link=$(IFS=';'; echo "${cmake_libs[*]-}")

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/ky_access_token"
install -m 644 "$root/include/ky_access_token.h" "$prefix/include/ky_access_token.h"

set_soname() {
  command -v patchelf >/dev/null 2>&1 ||
    fail "patchelf is needed to set the soname (Debian/Ubuntu: apt-get install patchelf)"
  patchelf --set-soname "$1" "$2"
}

# Shared library. Paths in the CMake config are relative to PREFIX, so the tree can be moved.
shared='' soname='' implib='' static=''
if [ -f "$from/libky_access_token.so" ]; then
  shared=lib/libky_access_token.so.$version
  soname=libky_access_token.so.$major
  install -m 755 "$from/libky_access_token.so" "$prefix/$shared"
  set_soname "$soname" "$prefix/$shared"
  ln -sfn "libky_access_token.so.$version" "$prefix/lib/$soname"
  ln -sfn "$soname" "$prefix/lib/libky_access_token.so"
elif [ -f "$from/libky_access_token.dylib" ]; then
  shared=lib/libky_access_token.$major.dylib
  soname=@rpath/libky_access_token.$major.dylib
  install -m 755 "$from/libky_access_token.dylib" "$prefix/$shared"
  install_name_tool -id "$soname" "$prefix/$shared"
  # Editing a Mach-O invalidates its signature; arm64 macOS refuses to load unsigned code.
  codesign --force --sign - "$prefix/$shared"
  ln -sfn "libky_access_token.$major.dylib" "$prefix/lib/libky_access_token.dylib"
elif [ -f "$from/ky_access_token.dll" ]; then
  mkdir -p "$prefix/bin"
  shared=bin/ky_access_token.dll
  install -m 755 "$from/ky_access_token.dll" "$prefix/$shared"
  # The import library programs link: MSVC's .dll.lib or MinGW's .dll.a (-lky_access_token).
  if [ -f "$from/ky_access_token.dll.lib" ]; then
    implib=lib/ky_access_token.dll.lib
    install -m 644 "$from/ky_access_token.dll.lib" "$prefix/$implib"
  elif [ -f "$from/libky_access_token.dll.a" ]; then
    implib=lib/libky_access_token.dll.a
    install -m 644 "$from/libky_access_token.dll.a" "$prefix/$implib"
  fi
fi
if [ -f "$from/libky_access_token.a" ]; then
  static=lib/libky_access_token.a
  install -m 644 "$from/libky_access_token.a" "$prefix/$static"
elif [ -f "$from/ky_access_token.lib" ]; then
  static=lib/ky_access_token.lib
  install -m 644 "$from/ky_access_token.lib" "$prefix/$static"
fi
[ -n "$shared$static" ] || fail "no libky_access_token in $from"

subst() {
  sed -e "s|@VERSION@|$version|g" -e "s|@MAJOR@|$major|g" \
    -e "s|@SHARED@|$shared|g" -e "s|@SONAME@|$soname|g" -e "s|@IMPLIB@|$implib|g" \
    -e "s|@STATIC@|$static|g" -e "s|@STATIC_LIBS@|$static_libs|g" \
    -e "s|@STATIC_LIBS_CMAKE@|$cmake_link|g" "$1" >"$2"
}
subst "$root/packaging/ky_access_token.pc.in" "$prefix/lib/pkgconfig/ky_access_token.pc"
subst "$root/packaging/ky_access_tokenConfig.cmake.in" \
  "$prefix/lib/cmake/ky_access_token/ky_access_tokenConfig.cmake"
subst "$root/packaging/ky_access_tokenConfigVersion.cmake.in" \
  "$prefix/lib/cmake/ky_access_token/ky_access_tokenConfigVersion.cmake"

echo "installed ky_access_token $version ($profile, from $from) into $prefix"
