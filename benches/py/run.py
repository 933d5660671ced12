"""Runs every benchmark driver against local sandboxes (127.0.0.1 only), repeats each, and prints
one table of medians with min-max. Called by benches/run.sh, which builds the library and the
drivers first; see docs/benchmarks.md for what each figure means.

    python3 run.py --bin DIR --lib DIR --out DIR [--quick] [--profile-lib DIR]

Exits 1 if a driver failed, a peer that the full run needs is missing, or a stampede round made
more than one upstream request (checked by the driver and against the sandbox's own counts).
Missed performance targets are reported, not failures: benchmarks are not tests."""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox import Sandbox  # noqa: E402
import report  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE_ID = "223fc70098ad11e9a5898928ba7882e6"


class Failed(Exception):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.rows = []  # the table: dicts with section, name, value, unit, spread, note
        self.raw = []  # every JSON line every driver printed
        self.failures = []
        self.notes = []

    # -- running drivers --------------------------------------------------------------------
    def run(self, cmd, env=None, timeout=300):
        full_env = dict(os.environ, **(env or {}))
        try:
            done = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failed(f"{' '.join(cmd[:3])}: no result within {timeout} s")
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        self.raw.extend(lines)
        if done.returncode != 0:
            raise Failed(f"{os.path.basename(cmd[0])} {' '.join(cmd[1:3])} exited {done.returncode}: "
                         f"{done.stderr.strip()[-500:]}")
        return lines

    def driver(self, name):
        return os.path.join(self.args.bin, name)

    def section(self, title, body):
        print(f"== {title}", flush=True)
        started = time.monotonic()
        try:
            body()
        except Failed as failure:
            self.failures.append(f"{title}: {failure}")
            print(f"   FAILED: {failure}", flush=True)
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)

    def missing_peer(self, what, why):
        """A peer the full run needs; --quick may skip it (with a note), the full run may not."""
        message = f"{what} skipped: {why}"
        if self.quick:
            self.notes.append(message)
            print(f"   note: {message}", flush=True)
        else:
            raise Failed(f"{what} is needed for the full run: {why}")

    def add(self, section, name, values, unit, note="", digits=1, lower_is_better=True):
        med = statistics.median(values)
        row = {"section": section, "name": name, "median": med, "min": min(values), "max": max(values),
               "n": len(values), "unit": unit, "note": note, "digits": digits}
        self.rows.append(row)
        print(f"   {name}: {med:.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f}, "
              f"n={len(values)}) {note}", flush=True)
        return med

    # -- 1, 2: cached hits ----------------------------------------------------------------------
    def hits(self, http):
        """Every configuration once per repeat, interleaved, so each repeat's 1- and 2-thread runs
        see the same background load, with the no-library `spin` control before and after. On a
        shared machine another process often holds the second core: scaling is then read only
        from the repeats where the control itself scaled (both spin ratios >= 1.8)."""
        env = {"KY_BASE_URL": http.base_url}
        ms, reps = (100, 2) if self.quick else (400, 15)
        modes = [("global", [1, 2, 4]), ("client", [1, 2, 4]), ("client-per-thread", [1, 2])]
        got = {(m, t): [] for m, ts in modes for t in ts}
        ratios = {m: [] for m, _ in modes + [("spin", 0)]}
        free = {m: [] for m, _ in modes}
        for _ in range(reps):
            spin_before = self.spin_ratio(env, ms)
            this = {}
            for mode, threads in modes:
                for t in threads:
                    (line,) = self.run([self.driver("hit"), mode, str(t), str(ms), "1"], env)
                    got[(mode, t)].append(line)
                    this[(mode, t)] = line["mcalls_per_s"]
            spin_after = self.spin_ratio(env, ms)
            ratios["spin"] += [spin_before, spin_after]
            for mode, _ in modes:
                ratio = this[(mode, 2)] / this[(mode, 1)]
                ratios[mode].append(ratio)
                if min(spin_before, spin_after) >= 1.8:
                    free[mode].append(ratio)
        sec = "1-2 cached hit"
        for (mode, t), lines in got.items():
            self.add(sec, f"{mode}, {t} thread(s): ns/call per caller", [x["ns_per_call"] for x in lines], "ns",
                     "target <= 40 ns" if t == 1 and mode != "client-per-thread" else "")
            self.add(sec, f"{mode}, {t} thread(s): CPU ns/call per thread", [x["cpu_ns_per_call"] for x in lines],
                     "ns", "CPU time: load-insensitive, grows with contention")
            self.add(sec, f"{mode}, {t} thread(s): total throughput", [x["mcalls_per_s"] for x in lines],
                     "M calls/s", digits=2)
        self.add(sec, "spin (no library): 2-thread / 1-thread throughput", ratios["spin"], "x",
                 "did the shared machine give us 2 cores?", digits=2)
        for mode, _ in modes:
            self.add(sec, f"{mode}: 2-thread / 1-thread throughput, all repeats", ratios[mode], "x", digits=2)
            if free[mode]:
                self.add(sec, f"{mode}: 2-thread / 1-thread throughput, repeats with 2 free cores", free[mode], "x",
                         "target >= 1.8", digits=2)
            else:
                self.notes.append(f"{mode}: no repeat had 2 free cores (spin control < 1.8x): scaling not measured")

    def spin_ratio(self, env, ms):
        (one,) = self.run([self.driver("hit"), "spin", "1", str(ms), "1"], env)
        (two,) = self.run([self.driver("hit"), "spin", "2", str(ms), "1"], env)
        return two["mcalls_per_s"] / one["mcalls_per_s"]

    def primitives(self):
        iters = 1_000_000 if self.quick else 20_000_000
        reps = 1 if self.quick else 3
        by_op = {}
        for _ in range(reps):
            for line in self.run([self.driver("primitives"), str(iters)]):
                by_op.setdefault((line["op"], line["threads"]), []).append(line["ns_per_op"])
        for (op, threads), values in by_op.items():
            self.add("reference costs (C)", f"{op}, {threads} thread(s)", values, "ns/op", digits=2)

    def callgrind(self, http):
        if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
            if os.environ.get("CI") == "true":
                raise Failed("valgrind (callgrind) is missing")
            self.notes.append("callgrind skipped: valgrind is not installed")
            return
        lib = self.args.profile_lib or self.args.lib
        calls = 2_000 if self.quick else 100_000
        env = {"KY_BASE_URL": http.base_url, "LD_LIBRARY_PATH": lib}
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("global", "client"):
                outs = []
                for n in (1, 1 + calls):
                    out = os.path.join(tmp, f"{mode}-{n}.out")
                    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           f"--toggle-collect={'ky_get_access_token' if mode == 'global' else 'ky_client_get_access_token'}",
                           self.driver("hit"), mode, "1", "0", "1", str(n)]
                    self.run(cmd, env, timeout=600)
                    outs.append(out)
                import callgrind_items
                items = callgrind_items.items_per_call(outs[0], outs[1], calls)
                total = sum(items.values())
                self.raw.append({"bench": "callgrind", "mode": mode, "lib": lib, "ir_per_call": total, "items": items})
                self.add("callgrind (Ir per call)", f"{mode}: instructions per cached hit", [total], "Ir", digits=0)
                for label, ir in items.items():
                    self.add("callgrind (Ir per call)", f"{mode}: {label}", [ir], "Ir", digits=0)

    # -- 3: stampede ------------------------------------------------------------------------------
    def stampede(self, http):
        rounds = 1 if self.quick else 15
        http.control("PUT", "/_sandbox/delay/50")
        try:
            prefix = f"st{os.getpid() % 100000}"
            for threads in (1, 8, 64, 256):
                lines = self.run([self.driver("stampede"), str(threads), str(rounds), prefix],
                                 {"KY_BASE_URL": http.base_url})
                counts = http.stats()["programs"]
                for line in lines:
                    seen = counts.get(line["id"], 0)
                    if seen != 1:
                        raise Failed(f"{threads} threads, round {line['round']}: the sandbox saw {seen} requests for "
                                     f"{line['id']} (want exactly 1)")
                self.add("3 stampede (50 ms upstream)", f"{threads} threads: upstream requests per round",
                         [line["upstream_requests"] for line in lines], "", "must be 1", digits=0)
                self.add("3 stampede (50 ms upstream)", f"{threads} threads: p50 wait",
                         [line["p50_us"] / 1e3 for line in lines], "ms", digits=2)
                self.add("3 stampede (50 ms upstream)", f"{threads} threads: p99 wait",
                         [line["p99_us"] / 1e3 for line in lines], "ms", digits=2)
        finally:
            http.control("PUT", "/_sandbox/delay/0")

    # -- 4: cold fetch over loopback TLS ----------------------------------------------------------
    def fetch_peer(self, tls, section, label, cmd):
        """Runs one fetch driver with the connect() counter preloaded; adds its p50 and mean."""
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "connects")
            env = {"LD_PRELOAD": os.path.join(self.args.bin, "count_connect.so"), "KY_BENCH_PORT": str(tls.port),
                   "KY_BENCH_CONNECT_LOG": log}
            lines = self.run(cmd + [tls.base_url, tls.ca_file], env, timeout=600)
            with open(log) as f:
                opened = sum(int(line.split()[1]) for line in f if line.startswith("connects "))
        total = sum(line["n"] + line.get("warmup", 1 if i == 0 else 0) for i, line in enumerate(lines))
        self.add(section, f"{label}: p50 per fetch", [line["p50_us"] for line in lines], "us",
                 f"{opened} TCP connections for {total} fetches")
        self.add(section, f"{label}: mean per fetch", [line["mean_us"] for line in lines], "us")
        return statistics.median(line["p50_us"] for line in lines)

    def cold_fetch(self, tls):
        sec = "4 fetch over loopback TLS"
        n, reps = (20, 1) if self.quick else (200, 7)
        medians = {}
        medians["ky-new"] = self.fetch_peer(tls, sec, "ky, new client per fetch (new connection)",
                                            [self.driver("ky_fetch"), "new-client", str(max(n // 4, 5)), str(reps)])
        lines = [x for x in self.raw if x.get("peer") == "ky" and x.get("mode") == "new-client"]
        self.add(sec, "ky, ky_client_new (config check, CA file, root store)",
                 [x["client_new_p50_us"] for x in lines], "us")
        medians["ky-pooled"] = self.fetch_peer(tls, sec, "ky, one client, TTL 0 (ureq pool keeps the connection)",
                                               [self.driver("ky_fetch"), "pooled", str(n), str(reps)])
        curl = self.driver("curl_fetch")
        if os.path.exists(curl):
            medians["curl-fresh"] = self.fetch_peer(tls, sec, "libcurl, new connection per fetch",
                                                    [curl, "fresh", str(n), str(reps)])
            medians["curl-reuse"] = self.fetch_peer(tls, sec, "libcurl, reused connection",
                                                    [curl, "reuse", str(n), str(reps)])
            for mine, theirs, what in (("ky-new", "curl-fresh", "new connection"),
                                       ("ky-pooled", "curl-reuse", "reused connection")):
                ratio = medians[mine] / medians[theirs]
                self.rows.append({"section": sec, "name": f"ky / libcurl, {what} (p50)", "median": ratio,
                                  "min": ratio, "max": ratio, "n": 1, "unit": "x", "note": "target <= 1.1",
                                  "digits": 2})
                print(f"   ky / libcurl, {what}: {ratio:.2f}x (target <= 1.1)", flush=True)
        else:
            self.missing_peer("libcurl", "benches/c/curl_fetch.c was not built (libcurl4-openssl-dev missing)")
        self.syscalls(tls, sec, n)
        py = [sys.executable, os.path.join(HERE, "py_fetch.py")]
        pn = max(n // 2, 5)
        has_requests = subprocess.run([sys.executable, "-c", "import requests"], capture_output=True).returncode == 0
        if has_requests:
            self.fetch_peer(tls, sec, "Python requests, new Session per fetch", py + ["requests-fresh", str(pn // 2), str(reps)])
            self.fetch_peer(tls, sec, "Python requests, one Session", py + ["requests-session", str(pn), str(reps)])
        else:
            self.missing_peer("Python requests", "`import requests` failed (pip install requests)")
        self.fetch_peer(tls, sec, "Python urllib (new connection per fetch)", py + ["urllib", str(pn), str(reps)])

    def syscalls(self, tls, sec, n):
        """Syscalls per fetch (strace -f -c): where a fetch's time goes outside user space, e.g.
        a thread started per request, or files read per request (name resolution)."""
        if not shutil.which("strace"):
            self.notes.append("syscall counts skipped: strace is not installed")
            return
        runs = [("ky, one client", [self.driver("ky_fetch"), "pooled", str(n), "1"], n + 1),
                ("ky, new client per fetch", [self.driver("ky_fetch"), "new-client", str(max(n // 4, 5)), "1"],
                 max(n // 4, 5))]
        if os.path.exists(self.driver("curl_fetch")):
            runs += [("libcurl, reused connection", [self.driver("curl_fetch"), "reuse", str(n), "1"], n + 1),
                     ("libcurl, new connection", [self.driver("curl_fetch"), "fresh", str(n), "1"], n + 1)]
        with tempfile.TemporaryDirectory() as tmp:
            for label, cmd, fetches in runs:
                out = os.path.join(tmp, "strace.txt")
                self.run(["strace", "-f", "-c", "-o", out] + cmd + [tls.base_url, tls.ca_file], timeout=600)
                calls = {}
                with open(out) as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) in (5, 6) and parts[3].isdigit() and parts[-1] != "total":
                            calls[parts[-1]] = int(parts[3])
                per = {k: v / fetches for k, v in calls.items()}
                top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])[:6])
                threads = per.get("clone3", 0) + per.get("clone", 0)
                files = per.get("openat", 0)
                self.add(sec, f"{label}: syscalls per fetch (strace -f -c, whole process)", [sum(per.values())], "",
                         f"threads started {threads:.2f}, files opened {files:.2f}; top: {top}", digits=1)

    # -- 5: refresh-ahead -------------------------------------------------------------------------
    def refresh_ahead(self, http):
        duration, reps = (1200, 1) if self.quick else (5000, 3)
        http.control("PUT", "/_sandbox/delay/50")
        try:
            for fraction in ("0.8", "0"):
                lines = []
                for r in range(reps):
                    lines += self.run([self.driver("refresh_ahead"), fraction, "500", str(duration),
                                       f"ra{fraction.replace('.', '')}-{os.getpid() % 100000}-{r}"],
                                      {"KY_BASE_URL": http.base_url})
                sec = "5 refresh-ahead (TTL 500 ms, 50 ms upstream)"
                label = f"refresh-ahead {fraction}" if fraction != "0" else "refresh-ahead off"
                for key, what in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"), ("max_us", "max")):
                    self.add(sec, f"{label}: caller {what}", [line[key] for line in lines], "us", digits=2)
                self.add(sec, f"{label}: calls slower than 1 ms per run", [line["calls_over_1ms"] for line in lines],
                         "", f"of ~{lines[0]['calls']} calls", digits=0)
        finally:
            http.control("PUT", "/_sandbox/delay/0")

    # -- 6: footprint -----------------------------------------------------------------------------
    def footprint(self, http, tls):
        lib = os.path.join(self.args.lib, "libky_access_token.so")
        sec = "6 footprint"
        with tempfile.TemporaryDirectory() as tmp:
            stripped = os.path.join(tmp, "lib.so")
            shutil.copy(lib, stripped)
            subprocess.run(["strip", stripped], check=True)
            self.add(sec, "stripped .so size", [os.path.getsize(stripped) / 1e6], "MB", "target <= 2.2 MB", digits=2)
        self.add(sec, ".so size as built (symbols kept)", [os.path.getsize(lib) / 1e6], "MB", digits=2)
        for crate, size in report.crate_sizes(lib)[:12]:
            self.add(sec, f"text+data by crate: {crate}", [size / 1e3], "kB", "nm --size-sort, after LTO", digits=0)
        programs, reps = (100, 1) if self.quick else (1000, 5)
        for name, server in (("http", http), ("https", tls)):
            env = {"KY_BASE_URL": server.base_url}
            if server.ca_file:
                env["KY_CA_FILE"] = server.ca_file
            lines = []
            for _ in range(reps):
                lines += self.run([self.driver("footprint"), lib, str(programs)], env)
            self.add(sec, f"{name}: dlopen + first call (default client from env, one fetch)",
                     [x["load_and_first_call_us"] / 1e3 for x in lines], "ms", digits=2)
            self.add(sec, f"{name}: RSS added by dlopen", [x["rss_dlopen_kib"] for x in lines], "KiB", digits=0)
            self.add(sec, f"{name}: RSS added by the first call", [x["rss_first_call_kib"] for x in lines], "KiB", digits=0)
            self.add(sec, f"{name}: RSS added by {programs} more programs cached",
                     [x["rss_programs_kib"] for x in lines], "KiB", digits=0)

    # -- 7: bindings ------------------------------------------------------------------------------
    def bindings(self, http):
        ms, reps = (100, 1) if self.quick else (1000, 5)
        sec = "7 bindings (cached hit, 1 thread)"
        env = {"KY_BASE_URL": http.base_url, "KY_ACCESS_TOKEN_LIB": os.path.join(self.args.lib, "libky_access_token.so"),
               "PYTHONPATH": os.path.join(ROOT, "bindings", "python", "src")}
        lines = self.run([sys.executable, os.path.join(HERE, "py_hit.py"), str(ms), str(reps)], env)
        self.add(sec, "Python ctypes: get_access_token(id)", [x["ns_per_call"] for x in lines], "ns")
        exe = os.path.join(self.args.bin, "Hit.exe")
        if os.path.exists(exe) and shutil.which("mono"):
            env = {"KY_BASE_URL": http.base_url, "LD_LIBRARY_PATH": self.args.lib}
            lines = self.run(["mono", exe, str(ms), str(reps)], env)
            self.add(sec, "C# (Mono) DllImport ky_get_access_token", [x["ns_per_call"] for x in lines], "ns")
        else:
            self.missing_peer("C#/Mono", "mcs/mono not installed, so benches/cs/Hit.cs was not built")
        c = [r for r in self.rows if r["name"] == "global, 1 thread(s): ns/call per caller"]
        if c:
            self.add(sec, "C ky_get_access_token (from section 1)", [c[0]["median"]], "ns")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="compiled drivers")
    parser.add_argument("--lib", required=True, help="libky_access_token.so and ky-sandbox")
    parser.add_argument("--out", required=True, help="where results.json / results.md / the plot go")
    parser.add_argument("--profile-lib", help="a copy of the library with line tables, for callgrind")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    bench = Bench(args)
    sandbox_bin = os.path.join(args.lib, "ky-sandbox")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tls_dir, Sandbox(sandbox_bin) as http, Sandbox(sandbox_bin, tls_dir) as tls:
        bench.section("1-2 cached hit: 1, 2, 4 threads", lambda: bench.hits(http))
        bench.section("reference costs of the hit's parts (C)", bench.primitives)
        bench.section("callgrind: instructions per cached hit", lambda: bench.callgrind(http))
        bench.section("3 stampede: 1, 8, 64, 256 threads on a cold id", lambda: bench.stampede(http))
        bench.section("4 fetch over loopback TLS vs libcurl and Python", lambda: bench.cold_fetch(tls))
        bench.section("5 refresh-ahead across the TTL boundary", lambda: bench.refresh_ahead(http))
        bench.section("6 footprint", lambda: bench.footprint(http, tls))
        bench.section("7 bindings", lambda: bench.bindings(http))
    machine = report.machine()
    measured = report.library(os.path.join(args.lib, "libky_access_token.so"), ROOT)
    print(f"bench: library {measured}")
    results = {"quick": args.quick, "seconds": round(time.monotonic() - started, 1), "machine": machine,
               "library": measured,
               "rows": bench.rows, "raw": bench.raw, "failures": bench.failures, "notes": bench.notes,
               "python": platform.python_version()}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    table = report.markdown(bench.rows)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table)
    print("\n" + table)
    if not args.quick:
        print(report.plot(results, os.path.join(args.out, "latency-vs-threads.png")))
    for note in bench.notes:
        print(f"note: {note}")
    print(f"bench: {len(bench.rows)} figures in {results['seconds']} s; results in {args.out}/results.json")
    if bench.failures:
        for failure in bench.failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        print(f"bench: {len(bench.failures)} driver(s) failed", file=sys.stderr)
        return 1
    print("bench: all drivers ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
