"""Single-flight from threads and from asyncio, and an event loop that keeps running."""

from __future__ import annotations

import asyncio
import threading
import time

import ky_access_token as ky


def test_sixteen_threads_share_one_request(sandbox):
    program_id = "slow-211"  # fresh in this sandbox, and slow enough for the threads to overlap
    before = ky.stats()
    barrier = threading.Barrier(16)
    tokens: list = []

    def worker() -> None:
        barrier.wait()
        tokens.append(ky.get_access_token(program_id))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tokens == [f"sandbox_{program_id}_v1"] * 16
    assert sandbox.count(program_id) == 1
    assert ky.stats().coalesced_waiters > before.coalesced_waiters


def test_hundred_async_calls_share_one_request(sandbox):
    program_id = "slow-212"

    async def main() -> list:
        return await asyncio.gather(*(ky.aget_access_token(program_id) for _ in range(100)))

    tokens = asyncio.run(main())
    assert tokens == [f"sandbox_{program_id}_v1"] * 100
    assert sandbox.count(program_id) == 1


def test_event_loop_keeps_running_during_a_fetch(sandbox):
    ky.invalidate("slow-300")
    before = sandbox.count("slow-300")

    async def main() -> tuple:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.ensure_future(ticker())
        started = time.monotonic()
        token = await ky.aget_access_token("slow-300")
        elapsed = time.monotonic() - started
        done.set()
        await task
        return token, ticks, elapsed

    token, ticks, elapsed = asyncio.run(main())
    assert token == "sandbox_slow-300_v1"
    assert elapsed >= 0.29
    assert ticks >= 10, ticks  # ~30 expected; a blocked loop would give 1
    assert sandbox.count("slow-300") == before + 1


def test_async_errors_carry_the_worker_thread_message(sandbox):
    async def main() -> list:
        return await asyncio.gather(
            ky.aget_access_token("fault-api-error"),
            ky.aget_access_token("fault-http-404"),
            ky.aget_access_token("big-token-3000"),
            return_exceptions=True,
        )

    api, http, big = asyncio.run(main())
    assert type(api) is ky.APIError and api.api_err == 40013 and "项目不存在" in api.message
    assert type(http) is ky.HTTPStatusError and "404" in http.message
    assert isinstance(big, str) and len(big) == 3000


def test_async_invalid_ids_raise_and_send_nothing(sandbox):
    total = sandbox.total()

    async def main() -> list:
        with ky.Client(base_url=sandbox.base_url) as client:
            calls = [ky.aget_access_token(v) for v in (None, b"x", 7)]
            calls += [ky.aget_access_token(v, client=client) for v in ("", "a b", "x" * 33, "../x")]
            return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(main())
    assert [type(r) for r in results[:3]] == [TypeError] * 3
    assert [type(r) for r in results[3:]] == [ky.InvalidArgument] * 4
    assert sandbox.total() == total


def test_client_async_with_a_client(sandbox, fresh_id):
    async def main() -> list:
        with ky.Client(base_url=sandbox.base_url) as client:
            tokens = await asyncio.gather(*(client.aget_access_token(fresh_id) for _ in range(20)))
            tokens.append(await ky.aget_access_token(fresh_id, client=client))
            return tokens

    assert asyncio.run(main()) == [f"sandbox_{fresh_id}_v1"] * 21
    assert sandbox.count(fresh_id) == 1


def test_closing_a_client_settles_every_pending_call(sandbox):
    async def main() -> list:
        client = ky.Client(base_url=sandbox.base_url)
        # More calls than the client's 4 workers: the ones still queued at close are cancelled.
        tasks = [asyncio.ensure_future(client.aget_access_token("slow-500")) for _ in range(12)]
        await asyncio.sleep(0.1)
        client.close()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)

    results = asyncio.run(main())
    tokens = [r for r in results if isinstance(r, str)]
    cancelled = [r for r in results if isinstance(r, ky.Cancelled)]
    assert len(tokens) + len(cancelled) == 12, results
    assert tokens and set(tokens) == {"sandbox_slow-500_v1"}
    assert cancelled and all(c.status is ky.Status.CANCELLED and c.message for c in cancelled)
