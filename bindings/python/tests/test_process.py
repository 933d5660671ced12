"""The process model from Python: multiprocessing with the fork start method, and interpreter
exit with calls still outstanding. Every subprocess runs under a hard timeout."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import uuid

import pytest

import ky_access_token as ky

from conftest import source_env

EXIT_LIMIT_S = 120  # a hang detector, far above any run seen under load


def _fetch(program_id: str) -> tuple:
    return program_id, ky.get_access_token(program_id)


@pytest.mark.skipif(sys.platform == "win32", reason="fork does not exist on Windows")
def test_multiprocessing_fork_pool_gets_each_id_its_own_token(sandbox):
    # A fetch in the parent leaves a pooled keep-alive connection that the workers inherit.
    parent_id = "mp-parent-" + uuid.uuid4().hex[:8]
    assert ky.get_access_token(parent_id) == f"sandbox_{parent_id}_v1"
    ids = [f"mp-{uuid.uuid4().hex[:12]}-{i}" for i in range(40)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        results = pool.map_async(_fetch, ids).get(timeout=EXIT_LIMIT_S)
    for program_id, token in results:
        assert token == f"sandbox_{program_id}_v1", f"{program_id} got another program's token"
    counts = sandbox.counts()
    assert all(counts.get(i) == 1 for i in ids), {i: counts.get(i) for i in ids}
    assert counts.get(parent_id) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="fork does not exist on Windows")
def test_fork_child_can_await_async_calls(sandbox):
    # Live async workers at the fork (the parent just used one) must not be trusted by the child.
    script = """
import asyncio, os, sys
import ky_access_token as ky
asyncio.run(ky.aget_access_token("fork-async-parent"))
pid = os.fork()
if pid == 0:
    token = asyncio.run(asyncio.wait_for(ky.aget_access_token("fork-async-child"), 60))
    os._exit(0 if token == "sandbox_fork-async-child_v1" else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    run = subprocess.run(
        [sys.executable, "-c", script], env=source_env(), capture_output=True, text=True, timeout=EXIT_LIMIT_S
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""


EXIT_WITH_ASYNC_OUTSTANDING = """
import asyncio, sys
import ky_access_token as ky
delay = int(sys.argv[1])
async def main():
    # Left running when the loop ends: the callback arrives while the interpreter shuts down.
    asyncio.ensure_future(ky.aget_access_token(f"slow-{delay}"))
    asyncio.ensure_future(ky.Client().aget_access_token(f"slow-{delay + 7}"))
    await asyncio.sleep(delay / 1000 * 0.9)
asyncio.run(main())
"""

EXIT_WITH_THREADS_OUTSTANDING = """
import sys, threading
import ky_access_token as ky
delay = int(sys.argv[1])
ky.set_log_callback(lambda level, line: None, ky.LogLevel.DEBUG)
for i in range(3):
    threading.Thread(target=ky.get_access_token, args=(f"slow-{delay + i}",), daemon=True).start()
"""


@pytest.mark.parametrize("script", [EXIT_WITH_ASYNC_OUTSTANDING, EXIT_WITH_THREADS_OUTSTANDING], ids=["asyncio", "threads"])
def test_interpreter_exit_with_calls_outstanding_never_crashes(sandbox, script):
    # 20 runs with delays spread so the answer lands before, during and after finalization.
    for run_index in range(20):
        delay = 20 + run_index * 15
        run = subprocess.run(
            [sys.executable, "-c", script, str(delay)],
            env=source_env(),
            capture_output=True,
            text=True,
            timeout=EXIT_LIMIT_S,
        )
        assert run.returncode == 0, f"run {run_index} (delay {delay} ms): exit {run.returncode}\n{run.stderr}"
        assert "FATAL" not in run.stderr and "panicked" not in run.stderr, run.stderr
