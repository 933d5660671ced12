#!/usr/bin/env python3
"""The file work of scripts/dist.sh (which does the builds): strip, check and archive one install
prefix; then, from the archives in dist/ only, lay out the Python wheels, the NuGet runtimes/
tree and the Unity package. Python 3.8+, standard library only; the binaries are inspected with
rustup's llvm-tools (KY_LLVM_BIN, set by dist.sh).

    dist.py finish --rid RID --triple T --prefix DIR --out DIST   strip + check + archive one RID
    dist.py packages --out DIST                        wheels, nuget/, unity/ + .tgz, SIZES.txt
    dist.py summary --out DIST                         SIZES.txt and SHA256SUMS only
    dist.py unity --out DIST                           the Unity package alone (tests)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
HEADER = ROOT / "include" / "ky_access_token.h"

# Every RID dist.sh knows: archive format, library files inside the prefix, wheel tag, NuGet RID,
# Unity plugin folder.
RIDS: Dict[str, dict] = {
    "linux-x64": {
        "format": "elf", "glibc": True, "shared": "lib/libky_access_token.so.{version}",
        "static": "lib/libky_access_token.a",
        "wheel": "manylinux_2_17_x86_64.manylinux2014_x86_64", "nuget": "linux-x64",
        "unity": "Linux/x86_64",
    },
    "linux-arm64": {
        "format": "elf", "glibc": True, "shared": "lib/libky_access_token.so.{version}",
        "static": "lib/libky_access_token.a",
        "wheel": "manylinux_2_17_aarch64.manylinux2014_aarch64", "nuget": "linux-arm64",
    },
    "linux-x64-musl": {
        "format": "elf", "glibc": False, "shared": "lib/libky_access_token.so.{version}",
        "static": "lib/libky_access_token.a", "nuget": "linux-musl-x64",
    },
    "win-x64": {
        "format": "coff", "shared": "bin/ky_access_token.dll",
        "static": ["lib/libky_access_token.a", "lib/ky_access_token.lib"],
        "wheel": "win_amd64", "nuget": "win-x64", "unity": "Windows/x86_64",
    },
    "osx-universal": {
        "format": "macho", "shared": "lib/libky_access_token.{major}.dylib",
        "static": "lib/libky_access_token.a",
        "wheel": "macosx_10_12_x86_64.macosx_11_0_arm64.macosx_10_12_universal2", "nuget": "osx",
        "unity": "macOS",
    },
}

# Libraries a shipped binary may depend on: the OS's own, present on every supported system.
ALLOWED_IMPORTS = {
    # glibc's parts (one package on every distribution). No libgcc_s: zig links its own unwinder.
    "elf-glibc": {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                  "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"},
    "elf-musl": {"libc.so"},
    # Windows 10 / Server 2016 system DLLs (msvcrt.dll: the MinGW build's C runtime, part of
    # Windows; the MSVC build links its C runtime statically). Compared lower-case.
    "coff": {"kernel32.dll", "advapi32.dll", "ntdll.dll", "ws2_32.dll", "bcrypt.dll",
             "bcryptprimitives.dll", "crypt32.dll", "ncrypt.dll", "secur32.dll", "userenv.dll",
             "api-ms-win-core-synch-l1-2-0.dll", "msvcrt.dll", "ole32.dll", "oleaut32.dll"},
    "macho": {"/usr/lib/libSystem.B.dylib", "/usr/lib/libiconv.2.dylib", "/usr/lib/libresolv.9.dylib",
              "/System/Library/Frameworks/Security.framework/Versions/A/Security",
              "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
              "/System/Library/Frameworks/SystemConfiguration.framework/Versions/A/SystemConfiguration"},
}
GLIBC_FLOOR = (2, 17)


def fail(message: str) -> None:
    print(f"dist.py: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def llvm(tool: str) -> str:
    directory = os.environ.get("KY_LLVM_BIN")
    if not directory:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True,
                                 check=True).stdout.strip()
        host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], capture_output=True,
                                                         text=True, check=True).stdout, re.M)
        directory = str(Path(sysroot) / "lib" / "rustlib" / host.group(1) / "bin")
    path = Path(directory) / tool
    if not path.exists() and Path(str(path) + ".exe").exists():
        path = Path(str(path) + ".exe")
    if not path.exists():
        fail(f"{path} not found (rustup component add llvm-tools)")
    return str(path)


def run(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def version() -> str:
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def header_functions() -> set:
    """The functions include/ky_access_token.h declares (the same parse as tests/symbols.rs)."""
    text = HEADER.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    block = text.split('extern "C" {', 1)[1].split("#ifdef __cplusplus", 1)[0]
    names = set(re.findall(r"(?<![A-Za-z0-9_])(ky_[A-Za-z0-9_]+)\s*\(", block))
    if "ky_get_access_token" not in names or len(names) < 10:
        fail(f"header parse found too little: {sorted(names)}")
    return names


def library_paths(rid: str, prefix: Path) -> Dict[str, Path]:
    spec = RIDS[rid]
    v = version()
    shared = prefix / spec["shared"].format(version=v, major=v.split(".")[0])
    statics = spec["static"] if isinstance(spec["static"], list) else [spec["static"]]
    found = [prefix / s for s in statics if (prefix / s).is_file()]
    if not shared.is_file():
        fail(f"{rid}: no shared library {shared}")
    if len(found) != 1:
        fail(f"{rid}: expected one static library of {statics}, found {found}")
    return {"shared": shared, "static": found[0]}


def strip(rid: str, libs: Dict[str, Path]) -> None:
    """Symbol tables and debug info out; the dynamic exports stay (they are the API)."""
    fmt = RIDS[rid]["format"]
    tool = llvm("llvm-strip")
    if fmt == "macho":
        run(tool, "-x", str(libs["shared"]))
        if sys.platform == "darwin":  # editing a Mach-O voids its signature; arm64 needs one
            run("codesign", "--force", "--sign", "-", str(libs["shared"]))
    else:
        run(tool, "--strip-all", str(libs["shared"]))
    if libs["static"].suffix == ".a":  # MSVC's .lib is left as the linker wrote it
        run(tool, "--strip-debug", str(libs["static"]))


def exports(fmt: str, path: Path) -> set:
    if fmt == "elf":
        out = run(llvm("llvm-nm"), "-D", "--defined-only", "--format=posix", str(path))
        return {line.split()[0].split("@")[0] for line in out.splitlines() if line.strip()}
    if fmt == "coff":
        out = run(llvm("llvm-readobj"), "--coff-exports", str(path))
        return set(re.findall(r"^\s*Name: (\S+)", out, re.M))
    out = run(llvm("llvm-nm"), "-gU", "--format=posix", str(path))
    return {line.split()[0][1:] for line in out.splitlines() if line.strip() and line.startswith("_")}


def imports(fmt: str, path: Path) -> List[str]:
    if fmt == "coff":
        out = run(llvm("llvm-objdump"), "-p", str(path))
        return sorted(set(re.findall(r"DLL Name: (\S+)", out)))
    out = run(llvm("llvm-readobj"), "--needed-libs", str(path))
    block = out.split("NeededLibraries [", 1)[1].split("]", 1)[0]
    return sorted(line.strip() for line in block.splitlines() if line.strip())


def check(rid: str, libs: Dict[str, Path]) -> dict:
    """Fails loudly (naming every problem) unless the shared library exports exactly the header's
    functions, imports only allowed system libraries and (glibc) needs nothing newer than 2.17."""
    spec = RIDS[rid]
    fmt = spec["format"]
    shared = libs["shared"]
    problems = []
    exported = exports(fmt, shared)
    declared = header_functions()
    if exported != declared:
        problems.append(f"exports differ from the header: extra {sorted(exported - declared)}, "
                        f"missing {sorted(declared - exported)}")
    needed = imports(fmt, shared)
    allowed_key = fmt if fmt != "elf" else ("elf-glibc" if spec["glibc"] else "elf-musl")
    allowed = ALLOWED_IMPORTS[allowed_key]
    norm = (lambda n: n.lower()) if fmt == "coff" else (lambda n: n)
    foreign = [n for n in needed if norm(n) not in allowed]
    if foreign:
        problems.append(f"imports {foreign}, not on the allow-list of system libraries")
    report = {"exports": len(exported), "imports": needed}
    if fmt == "elf":
        info = run(llvm("llvm-readobj"), "--version-info", "--dynamic-table", str(shared))
        soname = re.search(r"SONAME\s+Library soname: \[([^\]]+)\]", info)
        expected = "libky_access_token.so." + version().split(".")[0]
        if not soname or soname.group(1) != expected:
            problems.append(f"soname is {soname.group(1) if soname else None}, not {expected}")
        if spec["glibc"]:
            versions = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", info)}
            if not versions:
                problems.append("no GLIBC symbol versions found (not a glibc build?)")
            else:
                floor = max(versions)
                report["glibc"] = ".".join(map(str, floor))
                if floor > GLIBC_FLOOR:
                    problems.append(f"needs GLIBC_{report['glibc']}, above the 2.17 floor")
        if re.search(r"GCC_[0-9]", info):
            problems.append("needs libgcc_s symbol versions (GCC_*); the zig build links its own unwinder")
    if problems:
        fail(f"{rid}: {shared.name}: " + "; ".join(problems))
    return report


def third_party_notices(triple: str) -> str:
    """The license files of every crate linked into the library for `triple` (normal
    dependencies only: build scripts and proc macros are not in the binary), from cargo's own
    sources; plus a note on Rust's standard library."""
    meta = json.loads(run("cargo", "metadata", "--format-version", "1", "--locked",
                          "--manifest-path", str(ROOT / "Cargo.toml"), "--filter-platform", triple))
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = next(p["id"] for p in meta["packages"] if p["name"] == "ky-access-token")
    seen, stack = set(), [root]
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    texts: Dict[str, str] = {}
    parts = [
        "Third-party software in ky_access_token (the crates linked into the library, with their\n"
        "license files as published; Rust's standard library is MIT OR Apache-2.0, texts in\n"
        "LICENSE-MIT and LICENSE-APACHE, copyright The Rust Project Developers).\n"]
    for pid in sorted(seen, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        package = packages[pid]
        parts.append("=" * 78 + f"\n{package['name']} {package['version']} -- {package.get('license')}\n"
                     + (f"{package['repository']}\n" if package.get("repository") else ""))
        folder = Path(package["manifest_path"]).parent
        for f in sorted(folder.iterdir()):
            if f.is_file() and re.match(r"(?i)^(licen[cs]e|copying|notice)", f.name):
                text = f.read_text(encoding="utf-8", errors="replace").rstrip()
                key = hashlib.sha256(text.encode()).hexdigest()
                if key in texts:  # the same text as another crate's (Apache-2.0 mostly)
                    parts.append(f"--- {f.name}: the same text as {texts[key]}\n")
                else:
                    texts[key] = f"{package['name']} {package['version']} {f.name}"
                    parts.append(f"--- {f.name}\n{text}\n")
    return "\n".join(parts)


def archive_entries(prefix: Path):
    """(relative path, absolute path) under prefix, sorted, directories included."""
    entries = []
    for path in sorted(prefix.rglob("*")):
        entries.append((path.relative_to(prefix.parent).as_posix(), path))
    return entries


def epoch() -> int:
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        return int(run("git", "-C", str(ROOT), "log", "-1", "--format=%ct").strip())
    except SystemExit:
        return 315532800  # 1980-01-01, zip's earliest


def write_archive(prefix: Path, dest: Path) -> None:
    """A reproducible archive of prefix (its folder name as the top directory): .tar.gz keeps the
    .so symlinks, .zip is what Windows users open."""
    mtime = epoch()
    if dest.suffix == ".zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, path in archive_entries(prefix):
                if path.is_dir():
                    continue
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        return
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, path in archive_entries(prefix):
            info = tf.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = mtime
            if info.isreg():
                with open(path, "rb") as f:
                    tf.addfile(info, f)
            else:
                tf.addfile(info)
    import gzip
    with open(dest, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime) as gz:
            gz.write(buffer.getvalue())


def archive_name(rid: str) -> str:
    ext = ".zip" if rid.startswith("win-") else ".tar.gz"
    return f"ky_access_token-{version()}-{rid}{ext}"


def cmd_finish(args: argparse.Namespace) -> None:
    rid, prefix, out = args.rid, Path(args.prefix), Path(args.out)
    if rid not in RIDS:
        fail(f"unknown RID {rid}")
    for required in ["include/ky_access_token.h", "lib/pkgconfig/ky_access_token.pc",
                     "lib/cmake/ky_access_token/ky_access_tokenConfig.cmake",
                     "lib/cmake/ky_access_token/ky_access_tokenConfigVersion.cmake",
                     "LICENSE-MIT", "LICENSE-APACHE"]:
        if not (prefix / required).is_file():
            fail(f"{rid}: {required} missing from {prefix}")
    if (prefix / "include/ky_access_token.h").read_bytes() != HEADER.read_bytes():
        fail(f"{rid}: the archived header differs from include/ky_access_token.h")
    (prefix / "THIRD-PARTY-LICENSES.txt").write_text(third_party_notices(args.triple), encoding="utf-8")
    libs = library_paths(rid, prefix)
    before = {k: p.stat().st_size for k, p in libs.items()}
    strip(rid, libs)
    report = check(rid, libs)
    dest = out / archive_name(rid)
    write_archive(prefix, dest)
    report.update({
        "rid": rid, "version": version(), "archive": dest.name,
        "archive_bytes": dest.stat().st_size,
        "shared": libs["shared"].relative_to(prefix).as_posix(),
        "shared_bytes": libs["shared"].stat().st_size, "shared_bytes_unstripped": before["shared"],
        "static": libs["static"].relative_to(prefix).as_posix(),
        "static_bytes": libs["static"].stat().st_size, "static_bytes_unstripped": before["static"],
    })
    (out / f"ky_access_token-{version()}-{rid}.json").write_text(json.dumps(report, indent=2) + "\n")
    glibc = f", glibc >= {report['glibc']}" if "glibc" in report else ""
    print(f"dist.py: {dest.name}: OK ({report['exports']} exports = header, imports "
          f"{', '.join(report['imports'])}{glibc}; shared {report['shared_bytes']} B "
          f"(unstripped {before['shared']}), static {report['static_bytes']} B)")


def manifests(out: Path) -> List[dict]:
    found = []
    for path in sorted(out.glob(f"ky_access_token-{version()}-*.json")):
        data = json.loads(path.read_text())
        if (out / data["archive"]).is_file():
            found.append(data)
    return found


def extract(out: Path, manifest: dict) -> Path:
    """The archive unpacked under dist/work/ (packages are made from archives, not target/)."""
    work = out / "work"
    name = manifest["archive"]
    top = work / name.rsplit(".tar.gz", 1)[0].rsplit(".zip", 1)[0]
    shutil.rmtree(top, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    if name.endswith(".zip"):
        with zipfile.ZipFile(out / name) as zf:
            zf.extractall(work)
    else:
        with tarfile.open(out / name) as tf:
            tf.extractall(work)
    return top


def cmd_summary(args: argparse.Namespace) -> None:
    out = Path(args.out)
    lines = [f"{'archive':<48} {'shared':>10} {'static':>11} {'archive':>10}  notes"]
    for m in manifests(out):
        notes = f"glibc {m['glibc']}" if "glibc" in m else ""
        lines.append(f"{m['archive']:<48} {m['shared_bytes']:>10} {m['static_bytes']:>11} "
                     f"{m['archive_bytes']:>10}  {notes}")
    extras = sorted(out.glob("wheels/*.whl")) + sorted(out.glob("*.tgz"))
    if extras:
        lines += ["", f"{'package':<90} {'bytes':>10}"]
    for extra in extras:
        lines.append(f"{extra.relative_to(out).as_posix():<90} {extra.stat().st_size:>10}")
    (out / "SIZES.txt").write_text("\n".join(lines) + "\n")
    sums = []
    for path in sorted(out.glob("*.tar.gz")) + sorted(out.glob("*.zip")) + sorted(out.glob("*.tgz")) \
            + sorted(out.glob("wheels/*.whl")):
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(out).as_posix()}")
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def native_library(out: Path, manifest: dict) -> Path:
    """The RID's shared library, unpacked from its archive, under the name loaders look for
    (libky_access_token.so / ky_access_token.dll / libky_access_token.dylib)."""
    spec = RIDS[manifest["rid"]]
    top = extract(out, manifest)
    name = {"elf": "libky_access_token.so", "coff": "ky_access_token.dll",
            "macho": "libky_access_token.dylib"}[spec["format"]]
    dest = out / "work" / "native" / manifest["rid"] / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(top / manifest["shared"], dest)
    return dest


def build_wheel(out: Path, rid: str, library: Path) -> Path:
    tag = RIDS[rid]["wheel"]
    wheels = out / "wheels"
    wheels.mkdir(exist_ok=True)
    for old in wheels.glob(f"*-{tag}.whl"):
        old.unlink()
    env = dict(os.environ, KY_ACCESS_TOKEN_LIB=str(library), KY_WHEEL_PLATFORM=tag)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(wheels), str(ROOT / "bindings" / "python")],
        env=env, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"wheel for {rid}: {result.stdout}{result.stderr}")
    (wheel,) = wheels.glob(f"*-{tag}.whl")
    print(f"dist.py: wheels/{wheel.name}")
    return wheel


def cmd_packages(args: argparse.Namespace) -> None:
    out = Path(args.out)
    found = manifests(out)
    if not found:
        fail(f"no archives for version {version()} in {out}")
    nuget = out / "nuget" / "runtimes"
    shutil.rmtree(nuget, ignore_errors=True)
    plugins: Dict[str, Path] = {}
    for m in found:
        rid = m["rid"]
        spec = RIDS[rid]
        library = native_library(out, m)
        if spec.get("wheel"):
            build_wheel(out, rid, library)
        dest = nuget / spec["nuget"] / "native" / library.name
        dest.parent.mkdir(parents=True)
        shutil.copyfile(library, dest)
        if spec.get("unity"):
            plugins[spec["unity"]] = dest
    print(f"dist.py: nuget/runtimes/ ({', '.join(sorted(p.name for p in nuget.iterdir()))})")
    unity_package(out, plugins)
    cmd_summary(args)


# ---------------------------------------------------------------- Unity (UPM) package

UNITY_NAME = "com.kuaiyu.ky-access-token"
# Which editor/standalone platform and CPU each plugin folder is for.
UNITY_PLUGINS = {
    "Linux/x86_64": {"editor_os": "Linux", "standalone": "Linux64", "cpu": "x86_64"},
    "Windows/x86_64": {"editor_os": "Windows", "standalone": "Win64", "cpu": "x86_64"},
    "macOS": {"editor_os": "OSX", "standalone": "OSXUniversal", "cpu": "AnyCPU"},
}
UNITY_STANDALONES = ["Linux64", "OSXUniversal", "Win", "Win64"]


def unity_guid(relative: str) -> str:
    """Stable across builds and machines: derived from the asset's path in the package."""
    return hashlib.md5(f"{UNITY_NAME}/{relative}".encode()).hexdigest()


def plugin_meta(guid: str, folder: str) -> str:
    p = UNITY_PLUGINS[folder]
    lines = [
        "fileFormatVersion: 2", f"guid: {guid}", "PluginImporter:", "  externalObjects: {}",
        "  serializedVersion: 2", "  iconMap: {}", "  executionOrder: {}", "  defineConstraints: []",
        "  isPreloaded: 0", "  isOverridable: 1", "  isExplicitlyReferenced: 0",
        "  validateReferences: 1", "  platformData:",
        "  - first:", "      : Any", "    second:", "      enabled: 0", "      settings:",
        "        Exclude Editor: 0",
    ]
    for s in UNITY_STANDALONES:
        lines.append(f"        Exclude {s}: {0 if s == p['standalone'] else 1}")
    lines += ["  - first:", "      Any: ", "    second:", "      enabled: 0", "      settings: {}",
              "  - first:", "      Editor: Editor", "    second:", "      enabled: 1",
              "      settings:", f"        CPU: {p['cpu']}", "        DefaultValueInitialized: true",
              f"        OS: {p['editor_os']}"]
    for s in UNITY_STANDALONES:
        on = s == p["standalone"]
        lines += ["  - first:", f"      Standalone: {s}", "    second:",
                  f"      enabled: {1 if on else 0}", "      settings:",
                  f"        CPU: {p['cpu'] if on else 'None'}"]
    lines += ["  userData: ", "  assetBundleName: ", "  assetBundleVariant: "]
    return "\n".join(lines) + "\n"


def simple_meta(guid: str, importer: str, folder: bool = False) -> str:
    lines = ["fileFormatVersion: 2", f"guid: {guid}"]
    if folder:
        lines.append("folderAsset: yes")
    lines.append(f"{importer}:")
    lines.append("  externalObjects: {}")
    if importer == "MonoImporter":
        lines += ["  serializedVersion: 2", "  defaultReferences: []", "  executionOrder: 0",
                  "  icon: {instanceID: 0}"]
    lines += ["  userData: ", "  assetBundleName: ", "  assetBundleVariant: "]
    return "\n".join(lines) + "\n"


def write_metas(package: Path) -> None:
    for path in sorted(package.rglob("*")):
        # Unity skips names starting with "." (and needs no .meta for them).
        if path.suffix == ".meta" or any(part.startswith(".") for part in path.relative_to(package).parts):
            continue
        relative = path.relative_to(package).as_posix()
        if path.is_dir():
            text = simple_meta(unity_guid(relative), "DefaultImporter", folder=True)
        elif relative.startswith("Runtime/Plugins/") and path.suffix in (".so", ".dll", ".dylib"):
            folder = relative[len("Runtime/Plugins/"):].rsplit("/", 1)[0]
            text = plugin_meta(unity_guid(relative), folder)
        elif path.suffix == ".cs":
            text = simple_meta(unity_guid(relative), "MonoImporter")
        elif path.suffix == ".asmdef":
            text = simple_meta(unity_guid(relative), "AssemblyDefinitionImporter")
        elif path.name == "package.json":
            text = simple_meta(unity_guid(relative), "PackageManifestImporter")
        elif path.suffix in (".md", ".txt", ".json") or path.name.startswith("LICENSE"):
            text = simple_meta(unity_guid(relative), "TextScriptImporter")
        else:
            text = simple_meta(unity_guid(relative), "DefaultImporter")
        Path(str(path) + ".meta").write_text(text)


def unity_package(out: Path, plugins: Dict[str, Path]) -> Path:
    """dist/unity/com.kuaiyu.ky-access-token/ and its `npm pack` tarball."""
    source = ROOT / "bindings" / "csharp" / "unity"
    package = out / "unity" / UNITY_NAME
    shutil.rmtree(out / "unity", ignore_errors=True)
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("sync.sh", ".*", "*.meta", "*.cs"))
    # npm pack would otherwise read a .gitignore (none is copied, but one may be added later).
    (package / ".npmignore").write_text("*.tgz\n")
    for cs in sorted((ROOT / "bindings" / "csharp" / "src").glob("*.cs")):
        shutil.copyfile(cs, package / "Runtime" / cs.name)
    shutil.copyfile(ROOT / "LICENSE-MIT", package / "LICENSE-MIT.txt")
    shutil.copyfile(ROOT / "LICENSE-APACHE", package / "LICENSE-APACHE.txt")
    for folder, library in sorted(plugins.items()):
        if folder not in UNITY_PLUGINS:
            fail(f"no Unity platform settings for Plugins/{folder}")
        dest = package / "Runtime" / "Plugins" / folder / library.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(library, dest)
    manifest = json.loads((package / "package.json").read_text(encoding="utf-8"))
    if manifest["version"] != version():
        fail(f"unity/package.json version {manifest['version']} != Cargo.toml {version()}")
    write_metas(package)
    tarball = out / f"{UNITY_NAME}-{version()}.tgz"
    if tarball.exists():
        tarball.unlink()
    npm = shutil.which("npm")
    if npm is None:
        fail("npm is needed for the Unity package (npm pack)")
    result = subprocess.run([npm, "pack", "--silent", "--pack-destination", str(out.resolve())],
                            cwd=package, capture_output=True, text=True)
    if result.returncode != 0 or not tarball.is_file():
        fail(f"npm pack: {result.stdout}{result.stderr}")
    print(f"dist.py: {tarball.name} ({', '.join(sorted(plugins))})")
    return tarball


def cmd_unity(args: argparse.Namespace) -> None:
    out = Path(args.out)
    plugins = {}
    for m in manifests(out):
        if RIDS[m["rid"]].get("unity"):
            plugins[RIDS[m["rid"]]["unity"]] = native_library(out, m)
    unity_package(out, plugins)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    finish = sub.add_parser("finish")
    finish.add_argument("--rid", required=True)
    finish.add_argument("--prefix", required=True)
    finish.add_argument("--out", required=True)
    finish.add_argument("--triple", required=True, help="Rust target (for the third-party notices)")
    for name in ("packages", "summary", "unity"):
        sub.add_parser(name).add_argument("--out", required=True)
    args = parser.parse_args(argv)
    {"finish": cmd_finish, "packages": cmd_packages, "summary": cmd_summary, "unity": cmd_unity}[args.command](args)


if __name__ == "__main__":
    main()
