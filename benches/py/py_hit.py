"""Cached hit through the Python binding (ctypes): ns per ky_access_token.get_access_token(id)
with a warm cache. KY_ACCESS_TOKEN_LIB names the library, KY_BASE_URL the sandbox, and
bindings/python/src must be on PYTHONPATH.

    python3 py_hit.py DURATION_MS REPEATS

One JSON line per repeat."""

import json
import sys
import time

import ky_access_token

ID = "223fc70098ad11e9a5898928ba7882e6"


def main():
    duration_ns, repeats = int(sys.argv[1]) * 1_000_000, int(sys.argv[2])
    get = ky_access_token.get_access_token
    if not get(ID):
        raise SystemExit("no token")
    for r in range(repeats):
        calls = 0
        t0 = time.perf_counter_ns()
        while True:
            for _ in range(1000):
                get(ID)
            calls += 1000
            elapsed = time.perf_counter_ns() - t0
            if elapsed >= duration_ns:
                break
        print(json.dumps({"bench": "binding", "binding": "python-ctypes", "repeat": r, "calls": calls,
                          "ns_per_call": round(elapsed / calls, 1)}), flush=True)


if __name__ == "__main__":
    main()
