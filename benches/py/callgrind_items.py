"""Splits callgrind's instruction counts for the cached-hit path into the items a hit is made of.

callgrind_annotate lists self cost per (source file, function). With line tables (the profiling
copy run.sh builds), inlined code keeps the file it came from (hashbrown, sip.rs, rwlock/futex.rs,
alloc/sync.rs...), so the split is fine-grained; without them only out-of-line functions are
named and the rest lands in "other". Two runs (1 call and 1+N calls) are subtracted so the
cold fetch that warms the cache is not counted."""

import re
import subprocess

# First match wins; (label, predicate on "file:function").
RULES = [
    ("program id: length (strnlen) + validation", r"strnlen|validate_program_id|from_utf8|str/validations\.rs|program_id\.rs"),
    ("per-thread snapshot: slot scan + id compare", r"client/hot\.rs|memcmp|slice/cmp\.rs|slice/iter"),
    ("shared cache: RwLock read + unlock", r"rwlock"),
    ("shared cache: HashMap (SipHash, probe)", r"sip\.rs|hash_one|Hasher|hashbrown|/hash/"),
    ("clock read", r"clock_gettime|src/clock\.rs|Instant|Timespec|/time\.rs"),
    ("Arc clone + drop of the token", r"alloc/src/sync\.rs|drop_slow"),
    ("atomics: cache version load + hit counter", r"src/stats\.rs|atomic\.rs"),
    ("thread-locals (__tls_get_addr, RefCell, last error)", r"__tls_get_addr|thread_local|cell\.rs|last_error"),
    ("token copy (memcpy + NUL)", r"memcpy|memmove|src/token\.rs"),
    ("panic boundary (catch_unwind)", r"panicking\.rs|panic"),
    ("FFI functions' own code (src/ffi: argument checks, write)", r"src/ffi/"),
]
OTHER = "inlined core plumbing (Result/Option, ptr, mem, OnceLock)"
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)(?:\s+\[[^\]]*\])?\s*$")


def self_costs(out_file):
    """{(file:function): Ir} from one callgrind output file (self cost, not inclusive)."""
    text = subprocess.run(  # (its stderr has harmless Perl warnings about empty ranges)
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", out_file],
        capture_output=True, text=True, check=True,
    ).stdout
    costs, started = {}, False
    for line in text.splitlines():
        if "file:function" in line:
            started = True
            continue
        match = LINE.match(line) if started else None
        if match and "PROGRAM TOTALS" not in line:
            costs[match.group(2)] = costs.get(match.group(2), 0) + int(match.group(1).replace(",", ""))
    return costs


def classify(name):
    for label, pattern in RULES:
        if re.search(pattern, name):
            return label
    return OTHER


def items_per_call(small, large, calls):
    """Ir per call by item, from the difference of two runs that made `calls` more calls."""
    a, b = self_costs(small), self_costs(large)
    items = {}
    for name in set(a) | set(b):
        delta = b.get(name, 0) - a.get(name, 0)
        if abs(delta) >= calls / 2:  # under half an instruction per call is noise
            label = classify(name)
            items[label] = items.get(label, 0) + delta / calls
    return dict(sorted(items.items(), key=lambda kv: -kv[1]))
