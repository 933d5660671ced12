"""The wheel carries the native library: built offline, installed into a fresh virtualenv with
no index, it makes a real call with KY_ACCESS_TOKEN_LIB unset."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import PACKAGE_DIR, SAMPLE_ID, SAMPLE_TOKEN_PREFIX


def _require_backend() -> None:
    if importlib.util.find_spec("hatchling") is None:
        reason = "the build backend hatchling is not installed (python3 -m pip install hatchling)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; required when CI=true")
        pytest.skip(reason)


def test_wheel_installs_and_works_in_a_fresh_venv(tmp_path: Path, sandbox):
    _require_backend()
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(dist), str(PACKAGE_DIR)],
        check=True, timeout=600,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    assert not wheel.name.endswith("-none-any.whl"), wheel.name  # platform-specific
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"ky_access_token/libky_access_token.so", "ky_access_token/py.typed"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", str(wheel)], check=True, timeout=300)

    env = {k: v for k, v in os.environ.items() if k not in ("KY_ACCESS_TOKEN_LIB", "PYTHONPATH")}
    code = (
        "import ky_access_token as ky; print(ky.library_path); "
        f"print(ky.get_access_token({SAMPLE_ID!r}))"
    )
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    library, token = result.stdout.splitlines()
    assert str(Path(library).resolve()).startswith(str(venv.resolve()) + os.sep), library
    assert token.startswith(SAMPLE_TOKEN_PREFIX)

    script = subprocess.run(
        [str(bindir / "ky-access-token"), SAMPLE_ID], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith(SAMPLE_TOKEN_PREFIX)
