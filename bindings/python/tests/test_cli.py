"""`python -m ky_access_token`: stdout carries only the token, failures an exit code per status."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import SAMPLE_ID, SAMPLE_TOKEN_PREFIX, source_env


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ky_access_token", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=source_env(**env),
        timeout=60,
    )


def test_prints_only_the_token():
    result = run_cli(SAMPLE_ID)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(SAMPLE_TOKEN_PREFIX) and result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1 and result.stderr == ""


def test_json_output(fresh_id):
    result = run_cli("--json", fresh_id)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"program_id": fresh_id, "access_token": f"sandbox_{fresh_id}_v1"}


def test_api_error_exit_code_and_message():
    result = run_cli("fault-api-error")
    assert result.returncode == 17
    assert result.stdout == ""
    assert result.stderr.startswith("KY_ERR_API: ") and "项目不存在" in result.stderr


def test_invalid_id_exit_code(sandbox):
    total = sandbox.total()
    result = run_cli("../x")
    assert result.returncode == 11
    assert result.stderr.startswith("KY_ERR_INVALID_ARGUMENT: ")
    assert sandbox.total() == total


def test_base_url_option_network_error():
    result = run_cli("--base-url", "http://127.0.0.1:1", SAMPLE_ID)
    assert result.returncode == 13
    assert result.stderr.startswith("KY_ERR_NETWORK: ") and "127.0.0.1:1" in result.stderr


def test_timeout_option(sandbox):
    result = run_cli("--timeout", "0.3", "--base-url", sandbox.base_url, "fault-slow-headers")
    assert result.returncode == 14
    assert result.stderr.startswith("KY_ERR_TIMEOUT: ")


def test_timeout_option_alone_keeps_ky_base_url(fresh_id):
    result = run_cli("--timeout", "5", fresh_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sandbox_{fresh_id}_v1\n"


def test_usage_errors_exit_2():
    assert run_cli().returncode == 2
    assert run_cli("--timeout", "soon", SAMPLE_ID).returncode == 2
