#!/usr/bin/env bash
# The commands of the README's first screen, one region per language (the README shows the
# regions between `snippet:begin` and `snippet:end` verbatim; tests/readme.rs checks that and runs
# this file against the sandbox). Run from anywhere, with KY_BASE_URL set:
#   bash examples/hello/run.sh [build] [c] [cpp] [csharp] [python]     (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(build c cpp csharp python)
: "${KY_BASE_URL:?set KY_BASE_URL to the sandbox (cargo run -p ky-token -- sandbox prints it)}"

for step in "${steps[@]}"; do
  echo "== $step"
  case "$step" in
    build)
# snippet:begin build
cargo build --release -p ky-access-token -p ky-sandbox
mkdir -p build/hello     # where the programs below are built
# snippet:end build
      ;;
    c)
# snippet:begin c
cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude examples/hello/hello.c -o build/hello/hello \
   -Ltarget/release -lky_access_token -Wl,-rpath,"$PWD/target/release"
build/hello/hello
# snippet:end c
      ;;
    cpp)
# snippet:begin cpp
c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -Iexamples/cpp examples/hello/hello.cpp \
    -o build/hello/hello_cpp -Ltarget/release -lky_access_token -Wl,-rpath,"$PWD/target/release"
build/hello/hello_cpp
# snippet:end cpp
      ;;
    csharp)
# snippet:begin csharp
mcs -unsafe -target:library -out:build/hello/Ky.AccessToken.dll bindings/csharp/src/*.cs
mcs -r:build/hello/Ky.AccessToken.dll -out:build/hello/Hello.exe examples/hello/Hello.cs
LD_LIBRARY_PATH=target/release mono build/hello/Hello.exe
# snippet:end csharp
      ;;
    python)
# snippet:begin python
KY_ACCESS_TOKEN_LIB=target/release/libky_access_token.so PYTHONPATH=bindings/python/src \
  python3 examples/hello/hello.py
# snippet:end python
      ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
