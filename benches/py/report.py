"""Turning results into words and pictures: the machine description, the .so's size by crate,
the Markdown table and the latency-vs-threads plot."""

import os
import platform
import re
import shutil
import subprocess

STD = {"core", "alloc", "std", "std_detect", "panic_unwind", "compiler_builtins", "hashbrown", "rustc_demangle",
       "gimli", "addr2line", "miniz_oxide", "object", "memchr_std"}
RUST_PATH = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)::")


def crate_of(symbol):
    """The crate a demangled symbol belongs to: the first path segment of the type or function,
    looking through `<T as Trait>`, `drop_in_place<T>` and reference/impl wrappers. Symbols with
    no Rust path are ring's C and assembly (prefixed ring_core_) or C runtime bits."""
    if "ring_core_" in symbol or symbol.startswith(("_aesni", "x25519", "fiat_", "ecp_nistz")):
        return "ring"
    s = symbol
    for wrapper in ("core::ptr::drop_in_place<", "<"):
        while s.startswith(wrapper):
            s = s[len(wrapper):].lstrip("&*").replace("dyn ", "", 1).replace("mut ", "", 1)
    match = RUST_PATH.match(s)
    if not match:
        return "ring" if re.match(r"(table_select|slide|sqrtm|x25519|ge_|fe_|sc_)", s) else "(C runtime / other)"
    crate = match.group(1)
    if crate == "_":
        return "(other)"
    return "std (core, alloc, std, hashbrown, gimli…)" if crate in STD else crate


def crate_sizes(lib):
    """[(crate, bytes)] of text and read-only data by crate, largest first, from `nm`."""
    out = subprocess.run(["nm", "-C", "-S", "--size-sort", lib], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2].lower() in ("t", "r", "d", "w", "v"):
            crate = crate_of(parts[3])
            sizes[crate] = sizes.get(crate, 0) + int(parts[1], 16)
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def command(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def library(lib, root):
    """Which library was measured: the commit, whether src/ had uncommitted changes, its hash."""
    import hashlib
    with open(lib, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    dirty = command("git", "-C", root, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock")
    return {"commit": command("git", "-C", root, "rev-parse", "--short", "HEAD"),
            "uncommitted_changes": dirty.splitlines(), "sha256_16": digest}


def machine():
    lscpu = command("lscpu")
    keep = ("Architecture", "CPU(s)", "Model name", "Thread(s) per core", "Core(s) per socket", "Socket(s)",
            "Hypervisor vendor", "Virtualization type", "L1d cache", "L2 cache", "L3 cache", "CPU MHz")
    return {
        "lscpu": [line for line in lscpu.splitlines() if line.split(":")[0].strip() in keep],
        "kernel": platform.release(),
        "clocksource": command("cat", "/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        "gcc": command("gcc", "--version").splitlines()[0] if shutil.which("gcc") else "",
        "rustc": command("rustc", "--version"),
        "libcurl": command("curl-config", "--version"),
        "python": platform.python_version(),
        "requests": command("python3", "-c", "import requests; print(requests.__version__)"),
        "mono": (command("mono", "--version").splitlines() or [""])[0],
        "valgrind": command("valgrind", "--version"),
        "loadavg": command("cat", "/proc/loadavg"),
    }


def markdown(rows):
    lines, section = [], None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            lines += ["", f"**{section}**", "", "| measure | median | min – max | n | note |", "|---|---:|---:|---:|---|"]
        d = row["digits"]
        spread = "" if row["n"] == 1 else f"{row['min']:.{d}f} – {row['max']:.{d}f}"
        lines.append(f"| {row['name']} | {row['median']:.{d}f} {row['unit']} | {spread} | {row['n']} | {row['note']} |")
    return "\n".join(lines).lstrip() + "\n"


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install matplotlib)"
    rows = {r["name"]: r for r in results["rows"]}
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, threads in (("global", [1, 2, 4]), ("client", [1, 2, 4]), ("client-per-thread", [1, 2])):
        keys = [f"{mode}, {t} thread(s): ns/call per caller" for t in threads]
        pts = [(t, rows[k]) for t, k in zip(threads, keys) if k in rows]
        if pts:
            left.errorbar([t for t, _ in pts], [r["median"] for _, r in pts],
                          yerr=[[r["median"] - r["min"] for _, r in pts], [r["max"] - r["median"] for _, r in pts]],
                          marker="o", capsize=3, label=mode)
    left.axhline(40, linestyle="--", color="grey", label="target 40 ns (1 thread)")
    left.set(xlabel="threads (2 cores)", ylabel="ns per call, per caller (median, min–max)",
             title="Cached hit latency vs threads", xticks=[1, 2, 4], yscale="log")
    left.legend(fontsize=8)
    threads = [1, 8, 64, 256]
    for what in ("p50", "p99"):
        keys = [f"{t} threads: {what} wait" for t in threads]
        pts = [(t, rows[k]) for t, k in zip(threads, keys) if k in rows]
        if pts:
            right.plot([t for t, _ in pts], [r["median"] for _, r in pts], marker="o", label=what)
    right.axhline(50, linestyle="--", color="grey", label="upstream delay 50 ms")
    right.set(xlabel="threads", ylabel="wait (ms, median over rounds)", xscale="log",
              title="Stampede on a cold id: one request, everyone waits for it", xticks=threads)
    right.set_xticklabels([str(t) for t in threads])
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return f"plot written to {os.path.relpath(path)}"
