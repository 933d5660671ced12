#!/usr/bin/env bash
# Copies the binding's sources (../src/*.cs, the one source of truth) into this Unity package's
# Runtime/ folder. Run it before using the package from a local path or packing it.
#   bash bindings/csharp/unity/sync.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../src" && pwd)
dest=$here/Runtime

# Drop copies of files that no longer exist in src/ (and their Unity .meta files).
for f in "$dest"/*.cs; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  if [ ! -e "$src/$name" ]; then
    rm -f "$f" "$f.meta"
  fi
done
cp "$src"/*.cs "$dest"/
echo "copied $(ls "$src"/*.cs | wc -l) files from $src to $dest"
