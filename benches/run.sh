#!/usr/bin/env bash
# Every benchmark in one run, against sandboxes on 127.0.0.1 only; prints one table.
#
#   bash benches/run.sh            full run (~5 min): release build, many repeats; docs/benchmarks.md's table
#   bash benches/run.sh --quick    each driver briefly (~30 s), to check they build and run (tests/bench_smoke.rs)
#
# Options: --lib-dir DIR  use DIR/libky_access_token.so and DIR/ky-sandbox as they are (no cargo)
#          --release      with --quick: build the release library instead of the debug one
# Results: target/bench/results.{json,md} (+ latency-vs-threads.png in a full run).
# Needs gcc and python3 (a failure when missing); the full run also needs libcurl4-openssl-dev,
# Python requests, Mono (mcs, mono), valgrind and matplotlib. --quick skips a missing peer with a note.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

quick=
lib_dir=
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; [ "$profile" = release-forced ] || profile=debug ;;
    --release) profile=release-forced ;;
    --lib-dir) lib_dir=${2:?--lib-dir needs a directory}; shift ;;
    *) echo "usage: bash benches/run.sh [--quick] [--release] [--lib-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ "$profile" = release-forced ] && profile=release

fail() { echo "bench: $*" >&2; exit 1; }
for tool in gcc python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (apt-get install gcc python3)"
done

target=${CARGO_TARGET_DIR:-$root/target}
out="$target/bench"
bin="$out/bin"
mkdir -p "$bin"

if [ -z "$lib_dir" ]; then
  if [ "$profile" = release ]; then
    echo "== cargo build --release -p ky-access-token -p ky-sandbox"
    cargo build --release --quiet -p ky-access-token -p ky-sandbox
    lib_dir="$target/release"
  else
    echo "== cargo build -p ky-access-token -p ky-sandbox (debug: --quick checks the drivers, not the speed)"
    cargo build --quiet -p ky-access-token -p ky-sandbox
    lib_dir="$target/debug"
  fi
fi
lib_dir=$(cd "$lib_dir" && pwd)
[ -f "$lib_dir/libky_access_token.so" ] || fail "$lib_dir/libky_access_token.so not found"
[ -x "$lib_dir/ky-sandbox" ] || fail "$lib_dir/ky-sandbox not found"
# Run against a private copy: target/ is shared with other builds, and a library replaced in the
# middle of a run would mix two versions in one table.
mkdir -p "$out/lib"
cp "$lib_dir/libky_access_token.so" "$lib_dir/ky-sandbox" "$out/lib/"
lib_dir="$out/lib"

echo "== compiling the drivers (gcc -O2 -Wall -Wextra -Werror -pedantic) into $bin"
cflags=(-std=c11 -O2 -Wall -Wextra -Werror -pedantic -pthread -Iinclude)
link=(-L"$lib_dir" -lky_access_token -Wl,-rpath,"$lib_dir")
for driver in hit stampede ky_fetch refresh_ahead; do
  gcc "${cflags[@]}" "benches/c/$driver.c" -o "$bin/$driver" "${link[@]}"
done
gcc "${cflags[@]}" benches/c/primitives.c -o "$bin/primitives"
gcc "${cflags[@]}" benches/c/footprint.c -o "$bin/footprint" -ldl
gcc "${cflags[@]}" -shared -fPIC benches/c/count_connect.c -o "$bin/count_connect.so" -ldl
rm -f "$bin/curl_fetch" "$bin/Hit.exe"
# A peer whose toolchain is missing is not built; run.py then skips it (--quick) or fails (full run).
if echo '#include <curl/curl.h>' | gcc -E -x c - >/dev/null 2>&1; then
  gcc "${cflags[@]}" benches/c/curl_fetch.c -o "$bin/curl_fetch" -lcurl
else
  echo "   libcurl headers not found (apt-get install libcurl4-openssl-dev): the libcurl peer is not built"
fi
if command -v mcs >/dev/null 2>&1; then
  mcs -nologo -optimize+ -out:"$bin/Hit.exe" benches/cs/Hit.cs
else
  echo "   mcs not found (apt-get install mono-mcs mono-runtime): the C# peer is not built"
fi

profile_lib=()
if [ -z "$quick" ] && command -v valgrind >/dev/null 2>&1; then
  # Same release settings plus line tables, in its own target dir (Cargo.toml untouched), so
  # callgrind can attribute inlined code (hashing, RwLock, Arc) to its source.
  echo "== cargo build --release with line tables into $target/bench-profile (for callgrind)"
  CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_STRIP=none \
    CARGO_TARGET_DIR="$target/bench-profile" cargo build --release --quiet -p ky-access-token
  profile_lib=(--profile-lib "$target/bench-profile/release")
fi

args=(--bin "$bin" --lib "$lib_dir" --out "$out" ${profile_lib[@]+"${profile_lib[@]}"})
[ -n "$quick" ] && args+=(--quick)
echo "== python3 benches/py/run.py ${args[*]}"
exec python3 benches/py/run.py "${args[@]}"
