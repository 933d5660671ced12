#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and reports executions and crashes.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]
#       default 10 s and every target; a long campaign: bash fuzz/run.sh 600
#
# Builds with `cargo fuzz build -s none`: no sanitizer, so the stable toolchain is enough (the C
# target puts its inputs before a PROT_NONE page and its outputs before a canary instead of ASan).
# The committed seeds in corpus/<target>/ are read-only here; what libFuzzer learns goes to
# work/<target>/, logs to work/run.*/ and crash inputs to artifacts/<target>/ (all git-ignored).
# KY_FUZZ_KNOWN_BUGS (see README.md, "Findings") is passed through to step over reported bugs.
# Prints one line per target and ends with "<N> crashes"; exits non-zero on any crash.
set -euo pipefail

seconds="${1:-10}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS_PER_TARGET [TARGET...]]" >&2; exit 2; }
cd "$(dirname "$0")"
targets=(response_parser program_id c_entry_points)
if [[ $# -gt 1 ]]; then
    targets=("${@:2}")
    for target in "${targets[@]}"; do
        [[ -f "fuzz_targets/$target.rs" ]] || { echo "unknown target $target" >&2; exit 2; }
    done
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is required: cargo install cargo-fuzz" >&2
    exit 1
fi
if [[ -n "${KY_FUZZ_KNOWN_BUGS:-}" ]]; then
    echo "NOTE: stepping over known, reported bugs: KY_FUZZ_KNOWN_BUGS=$KY_FUZZ_KNOWN_BUGS"
fi
if ! build_log=$(cargo fuzz build -s none 2>&1); then
    echo "$build_log" >&2
    exit 1
fi

crashes=0
total=0
# Runs may overlap (a test and a campaign): each keeps its own logs and counts only the crash
# files its own libFuzzer reports writing.
mkdir -p work
logs=$(mktemp -d work/run.XXXXXX)
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "artifacts/$target"
    log="$logs/$target.log"
    status=0
    # -timeout: an input that takes 20 s is a hang (the C target waits at most 10 s for a callback).
    cargo fuzz run -s none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="artifacts/$target/" >"$log" 2>&1 || status=$?
    crash_files=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
    found=$(grep -c . <<<"$crash_files" || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [[ $status -ne 0 && $found -eq 0 ]]; then
        echo "$target: the fuzzer failed (exit $status) without a crash file; see fuzz/$log" >&2
        tail -20 "$log" >&2
        exit 1
    fi
    crashes=$((crashes + found))
    total=$((total + ${execs:-0}))
    echo "$target: ${execs:-0} executions in ${seconds} s (${rate:-0} exec/s), $found crashes"
    if [[ $found -ne 0 ]]; then
        grep -a -m1 -A3 "panicked at\|ERROR: libFuzzer" "$log" >&2 || true
        sed 's|^|  crash input: fuzz/|' <<<"$crash_files" >&2
        echo "  minimise: cd fuzz && cargo fuzz tmin -s none $target <crash input>" >&2
    fi
done
echo "total: $total executions, $crashes crashes"
[[ $crashes -eq 0 ]]
