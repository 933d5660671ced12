"""Where the package looks for the native library, and what it says when it finds none."""

from __future__ import annotations

import subprocess
import sys

import ky_access_token as ky
from conftest import source_env

PROBE = """
import sys
try:
    import ky_access_token
except ImportError as exc:
    print(type(exc).__name__)
    print(exc)
    sys.exit(3)
print("loaded", ky_access_token.library_path)
"""


def probe(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=source_env(**env), timeout=60
    )


def test_override_that_does_not_load_is_an_import_error_naming_it():
    result = probe(KY_ACCESS_TOKEN_LIB="/nonexistent/libx.so")
    assert result.returncode == 3, result.stdout + result.stderr
    name, _, message = result.stdout.partition("\n")
    assert name == "LibraryNotFoundError"
    assert "/nonexistent/libx.so" in message and "KY_ACCESS_TOKEN_LIB" in message


def test_without_override_every_place_tried_is_named():
    # From source the package folder holds no library, and it is not installed system-wide here.
    result = probe(KY_ACCESS_TOKEN_LIB="", LD_LIBRARY_PATH="")
    assert result.returncode == 3, result.stdout + result.stderr
    message = result.stdout
    assert "package folder" in message and "src/ky_access_token/libky_access_token" in message
    assert "find_library" in message and "system loader" in message and "KY_ACCESS_TOKEN_LIB" in message


def test_override_is_the_library_in_use():
    import os

    assert ky.library_path == os.environ["KY_ACCESS_TOKEN_LIB"]
    result = probe()
    assert result.returncode == 0 and result.stdout.strip() == f"loaded {ky.library_path}"


def test_library_not_found_is_an_import_error():
    assert issubclass(ky.LibraryNotFoundError, ImportError)
