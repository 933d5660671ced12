#!/usr/bin/env bash
# Soak benchmark (not a test): a mixed load through the C ABI (benches/soak/soak.c) against a
# flapping sandbox for SECONDS (default 180), sampling the load process's RSS (VmRSS), open fds
# and threads every second. Reports start / after warm-up / end / max and whether each stayed
# flat: the end within a small margin of the value after warm-up (the first 20% of the run, at
# most 60 s: caches, connection pools and worker threads fill up first).
#
#   bash benches/soak/run.sh [SECONDS]     samples: target/soak/samples.csv
#
# Talks only to 127.0.0.1 (the bundled sandbox). Exit status 1 when a figure is not flat.
set -euo pipefail

seconds="${1:-180}"
[[ "$seconds" =~ ^[1-9][0-9]*$ && "$seconds" -ge 30 ]] || {
    echo "usage: $0 [SECONDS >= 30]" >&2
    exit 2
}
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/target/soak"
mkdir -p "$out"
cd "$root"

echo "== building (release)"
cargo build --release --quiet -p ky-access-token -p ky-sandbox
cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -pthread -Iinclude benches/soak/soak.c \
    -o "$out/soak" -Ltarget/release -lky_access_token -Wl,-rpath,"$root/target/release"

# The sandbox exits when its stdin closes: hold it open on fd 3 for as long as this script runs.
rm -f "$out/sandbox.in"
mkfifo "$out/sandbox.in"
target/release/ky-sandbox --quiet --exit-on-stdin-eof <"$out/sandbox.in" >"$out/sandbox.out" &
sandbox_pid=$!
exec 3>"$out/sandbox.in"
flapper_pid=""
cleanup() {
    [[ -n "$flapper_pid" ]] && kill "$flapper_pid" 2>/dev/null || true
    exec 3>&-
    wait "$sandbox_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
    grep -q '^KY_BASE_URL=' "$out/sandbox.out" 2>/dev/null && break
    sleep 0.1
done
base=$(sed -n 's/^KY_BASE_URL=//p' "$out/sandbox.out")
[[ "$base" == http://127.0.0.1:* ]] || { echo "sandbox did not start" >&2; exit 1; }

# Flapping: a 503 outage of 1-2 s now and then, token rotations, a little latency.
flap() {
    local i=0
    while true; do
        i=$((i + 1))
        curl -s -o /dev/null -X POST "$base/_sandbox/rotate/soak-$((i % 8))"
        if ((i % 7 == 0)); then
            curl -s -o /dev/null -X PUT "$base/_sandbox/outage/503"
            sleep $((1 + i % 2))
            curl -s -o /dev/null -X PUT "$base/_sandbox/outage/0"
        fi
        curl -s -o /dev/null -X PUT "$base/_sandbox/delay/$(((i % 3) * 5))"
        sleep 1
    done
}
flap &
flapper_pid=$!

echo "== soak: $seconds s against $base"
env -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy \
    KY_BASE_URL="$base" KY_CACHE_TTL_MS=100 KY_TIMEOUT_MS=2000 KY_MAX_RETRIES=1 \
    "$out/soak" "$seconds" "$base" &
soak_pid=$!
echo "t_s,rss_kb,fds,threads" >"$out/samples.csv"
start=$(date +%s)
while kill -0 "$soak_pid" 2>/dev/null; do
    status="/proc/$soak_pid/status"
    rss=$(awk '/^VmRSS:/ { print $2 }' "$status" 2>/dev/null || true)
    threads=$(awk '/^Threads:/ { print $2 }' "$status" 2>/dev/null || true)
    fds=$(find "/proc/$soak_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l || true)
    [[ -n "$rss" && -n "$threads" ]] && echo "$(($(date +%s) - start)),$rss,$fds,$threads" >>"$out/samples.csv"
    sleep 1
done
wait "$soak_pid"

warmup=$((seconds / 5 < 60 ? seconds / 5 : 60))
echo "== samples: $(($(wc -l <"$out/samples.csv") - 1)) (every 1 s), warm-up $warmup s"
# Margins: RSS may move by allocator noise (5% or 2 MiB, whichever is larger); fds and threads
# by the pooled connections and on-demand workers that may be open at any instant (4).
awk -F, -v warmup="$warmup" '
    NR == 1 { next }
    NR == 2 { for (c = 2; c <= 4; c++) first[c] = $c }
    $1 <= warmup || !(2 in warm) { for (c = 2; c <= 4; c++) warm[c] = $c }
    { for (c = 2; c <= 4; c++) { last[c] = $c; if ($c > max[c]) max[c] = $c } }
    END {
        name[2] = "RSS (KiB)"; name[3] = "open fds"; name[4] = "threads"
        bad = 0
        for (c = 2; c <= 4; c++) {
            margin = c == 2 ? (warm[c] * 0.05 > 2048 ? warm[c] * 0.05 : 2048) : 4
            flat = last[c] <= warm[c] + margin
            if (!flat) bad = 1
            printf "%-10s start %7d  after warm-up %7d  end %7d  max %7d  -> %s (margin +%d)\n",
                name[c], first[c], warm[c], last[c], max[c], flat ? "flat" : "GROWING", margin
        }
        exit bad
    }' "$out/samples.csv"
