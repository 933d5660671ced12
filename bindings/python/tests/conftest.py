"""Starts one ky-sandbox for the session and points the process default client at it.

The default client reads KY_* once, at its first call, so the environment is set here — before
any test runs (autouse session fixture). Tests only ever talk to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # bindings/python
SOURCE_DIR = PACKAGE_DIR / "src"
REPO_ROOT = PACKAGE_DIR.parents[1]
SAMPLE_ID = "223fc70098ad11e9a5898928ba7882e6"
SAMPLE_TOKEN_PREFIX = "27_t3e8"

# Run from a plain `pytest` too: the package from source, the library cargo built.
if str(SOURCE_DIR) not in sys.path:
    sys.path.insert(0, str(SOURCE_DIR))
os.environ.setdefault("KY_ACCESS_TOKEN_LIB", str(REPO_ROOT / "target" / "debug" / "libky_access_token.so"))

# Variables the default client would read: the tests decide them, not the caller's shell.
for _name in (
    "KY_TIMEOUT_MS", "KY_MAX_RETRIES", "KY_CACHE_TTL_MS", "KY_CA_FILE", "KY_CONNECT_TIMEOUT_MS",
    "KY_REFRESH_AHEAD", "KY_STALE_IF_ERROR_MS", "KY_USER_AGENT_SUFFIX",
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
    "NO_PROXY", "no_proxy",
):  # fmt: skip
    os.environ.pop(_name, None)

# urllib must not send sandbox control requests through a proxy either.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Sandbox:
    """The running ky-sandbox and its control endpoints."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _request(self, method: str, path: str, body: Optional[bytes] = None) -> bytes:
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        with _DIRECT.open(request, timeout=10) as response:
            return response.read()

    def stats(self) -> dict:
        return json.loads(self._request("GET", "/_sandbox/stats"))

    def total(self) -> int:
        return int(self.stats()["total"])

    def count(self, program_id: str) -> int:
        return int(self.stats()["programs"].get(program_id, 0))

    def counts(self) -> Dict[str, int]:
        return dict(self.stats()["programs"])

    def rotate(self, program_id: str) -> str:
        return json.loads(self._request("POST", f"/_sandbox/rotate/{program_id}"))["token"]


def _sandbox_binary() -> Path:
    override = os.environ.get("KY_SANDBOX_BIN")
    path = Path(override) if override else REPO_ROOT / "target" / "debug" / "ky-sandbox"
    if not path.is_file():
        pytest.exit(f"ky-sandbox not found at {path}: run `cargo build -p ky-sandbox` (or set KY_SANDBOX_BIN)", 3)
    return path


@pytest.fixture(scope="session", autouse=True)
def sandbox() -> Iterator[Sandbox]:
    # stdin stays an open pipe: the sandbox exits when we close it (or when this process dies).
    proc = subprocess.Popen(
        [str(_sandbox_binary()), "--quiet", "--exit-on-stdin-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    first_line: list = []
    reader = threading.Thread(target=lambda: first_line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(30)
    line = first_line[0].strip() if first_line else ""
    if not line.startswith("KY_BASE_URL="):
        proc.kill()
        pytest.exit(f"ky-sandbox did not announce its URL (got {line!r})", 3)
    base_url = line.split("=", 1)[1]
    assert base_url.startswith("http://127.0.0.1:"), base_url
    os.environ["KY_BASE_URL"] = base_url
    # A generous deadline for the default client; timeout tests use Client(timeout=...).
    os.environ["KY_TIMEOUT_MS"] = "10000"
    # No background refresh-ahead: request counts in the tests must be exact.
    os.environ["KY_REFRESH_AHEAD"] = "0"
    try:
        yield Sandbox(base_url)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def fresh_id() -> str:
    """A program id the sandbox has never seen (gets token sandbox_<id>_v1)."""
    return "py-" + uuid.uuid4().hex[:20]


def source_env(**overrides: str) -> Dict[str, str]:
    """Environment for a subprocess running the package from source."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_DIR), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(overrides)
    return env
