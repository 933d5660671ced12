"""Hatchling build hook: puts the native library inside the wheel and tags the wheel for this
platform (ctypes needs no Python ABI, so the tag is py3-none-<platform>, never py3-none-any).

$KY_WHEEL_PLATFORM sets the platform tag instead (scripts/dist.py builds every platform's wheel
from the release archives on one machine, e.g. manylinux_2_17_x86_64.manylinux2014_x86_64 or
win_amd64); the library's file name inside the wheel follows that tag.

The library is taken from, in order: $KY_ACCESS_TOKEN_LIB (a file path), the repository's
$CARGO_TARGET_DIR or target/ (release, then debug). If none exists and cargo is on PATH, it runs
`cargo build --release -p ky-access-token` first (`--offline` when KY_OFFLINE=1), so
`pip install bindings/python` works from a fresh checkout.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# The file name the package's loader looks for (one definition: src/ky_access_token/_libname.py),
# or, for a wheel tagged $KY_WHEEL_PLATFORM, the name on that platform.
_LIBNAME = runpy.run_path(
    str(Path(__file__).resolve().parent / "src" / "ky_access_token" / "_libname.py")
)
WHEEL_PLATFORM = os.environ.get("KY_WHEEL_PLATFORM", "")
LIBRARY_FILE: str = (
    _LIBNAME["library_file"](WHEEL_PLATFORM) if WHEEL_PLATFORM else _LIBNAME["LIBRARY_FILE"]
)


def _platform_tag() -> str:
    from packaging.tags import sys_tags

    # The same choice hatchling makes for infer_tag (manylinux/musllinux would need auditwheel).
    tag = next(t for t in sys_tags() if "manylinux" not in t.platform and "musllinux" not in t.platform)
    return tag.platform


class NativeLibraryHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"

    def _repo_root(self) -> Path:
        return Path(self.root).resolve().parents[1]

    def _target_dirs(self) -> List[Path]:
        target = os.environ.get("CARGO_TARGET_DIR") or str(self._repo_root() / "target")
        return [Path(target) / "release", Path(target) / "debug"]

    def _find_library(self) -> Path:
        override = os.environ.get("KY_ACCESS_TOKEN_LIB", "")
        if override:
            path = Path(override)
            if not path.is_file():
                raise FileNotFoundError(f"KY_ACCESS_TOKEN_LIB={override} is not a file")
            return path
        candidates = [d / LIBRARY_FILE for d in self._target_dirs()]
        for path in candidates:
            if path.is_file():
                return path
        root = self._repo_root()
        if (root / "Cargo.toml").is_file() and shutil.which("cargo"):
            command = ["cargo", "build", "--release", "-p", "ky-access-token"]
            if os.environ.get("KY_OFFLINE") == "1":
                command.append("--offline")
            self.app.display_info(f"no {LIBRARY_FILE} found; running {' '.join(command)}")
            subprocess.run(command, cwd=root, check=True)
            if candidates[0].is_file():
                return candidates[0]
        tried = ", ".join(str(p) for p in candidates)
        raise FileNotFoundError(
            f"{LIBRARY_FILE} not found (tried KY_ACCESS_TOKEN_LIB, {tried}); build it with "
            "`cargo build --release` in the repository or set KY_ACCESS_TOKEN_LIB to its path"
        )

    def initialize(self, version: str, build_data: Dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # editable installs find the library through KY_ACCESS_TOKEN_LIB
        library = self._find_library()
        self.app.display_info(f"bundling {library} as ky_access_token/{LIBRARY_FILE}")
        build_data["force_include"][str(library)] = f"ky_access_token/{LIBRARY_FILE}"
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{WHEEL_PLATFORM or _platform_tag()}"
