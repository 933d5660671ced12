"""Client: configuration reaches the library, lifetime, stats against the sandbox's counts."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

import ky_access_token as ky


def test_context_manager_closes(sandbox, fresh_id):
    with ky.Client(base_url=sandbox.base_url) as client:
        assert not client.closed
        assert client.get_access_token(fresh_id) == f"sandbox_{fresh_id}_v1"
    assert client.closed
    client.close()  # idempotent


def test_use_after_close_raises(sandbox, fresh_id):
    client = ky.Client(base_url=sandbox.base_url)
    client.close()
    total = sandbox.total()
    calls = [
        lambda: client.get_access_token(fresh_id),
        lambda: client.invalidate(fresh_id),
        lambda: client.invalidate_if(fresh_id, "t"),
        client.stats,
        lambda: asyncio.run(client.aget_access_token(fresh_id)),
        lambda: asyncio.run(ky.aget_access_token(fresh_id, client=client)),
    ]
    for call in calls:
        with pytest.raises(ky.ClientClosed) as info:
            call()
        assert isinstance(info.value, ky.KyError) and isinstance(info.value, ValueError)
        assert "closed" in info.value.message
    assert sandbox.total() == total


def test_clients_have_separate_caches(sandbox, fresh_id):
    with ky.Client(base_url=sandbox.base_url) as a, ky.Client(base_url=sandbox.base_url) as b:
        a.get_access_token(fresh_id)
        a.get_access_token(fresh_id)
        b.get_access_token(fresh_id)
    assert sandbox.count(fresh_id) == 2


def test_stats_equal_what_the_sandbox_saw(sandbox, fresh_id):
    other = fresh_id + "-b"
    before = sandbox.counts()
    with ky.Client(base_url=sandbox.base_url, max_retries=0, refresh_ahead=0) as client:
        client.get_access_token(fresh_id)
        client.get_access_token(fresh_id)
        client.get_access_token(other)
        with pytest.raises(ky.HTTPStatusError):
            client.get_access_token("fault-http-404")
        stats = client.stats()
    after = sandbox.counts()
    seen = {pid: after.get(pid, 0) - before.get(pid, 0) for pid in (fresh_id, other, "fault-http-404")}
    assert seen == {fresh_id: 1, other: 1, "fault-http-404": 1}
    assert stats.upstream_requests == sum(seen.values()) == 3
    assert stats.cache_hits == 1
    assert stats.cache_misses == 3
    assert stats.upstream_failures == 1
    assert stats.upstream_failures_by_status[ky.Status.HTTP_STATUS] == 1
    assert sum(stats.upstream_failures_by_status) == 1
    assert stats.cached_programs == 2
    assert stats.coalesced_waiters == stats.stale_served == stats.refresh_ahead_runs == 0


def test_cache_ttl_zero_fetches_every_time(sandbox, fresh_id):
    with ky.Client(base_url=sandbox.base_url, cache_ttl=0) as client:
        for _ in range(3):
            client.get_access_token(fresh_id)
    assert sandbox.count(fresh_id) == 3


def test_prefetch_warms_the_cache(sandbox, fresh_id):
    with ky.Client(base_url=sandbox.base_url, prefetch=[fresh_id], refresh_ahead=0) as client:
        deadline = time.monotonic() + 5
        while sandbox.count(fresh_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sandbox.count(fresh_id) == 1  # fetched with no call from us
        # The prefetch may still be storing its token; a get then waits on it, never refetches.
        assert client.get_access_token(fresh_id) == f"sandbox_{fresh_id}_v1"
        assert sandbox.count(fresh_id) == 1


def test_from_env_uses_ky_base_url(sandbox, fresh_id):
    with ky.Client(from_env=True, timeout=timedelta(seconds=2)) as client:
        assert client.get_access_token(fresh_id) == f"sandbox_{fresh_id}_v1"
    assert sandbox.count(fresh_id) == 1


def test_client_invalidate_if(sandbox, fresh_id):
    with ky.Client(base_url=sandbox.base_url) as client:
        old = client.get_access_token(fresh_id)
        assert client.invalidate_if(fresh_id, old + "x") is False
        new = sandbox.rotate(fresh_id)
        assert client.invalidate_if(fresh_id, old) is True
        assert client.get_access_token(fresh_id) == new
        assert client.invalidate_if(fresh_id, old) is False
        client.invalidate(fresh_id)
        assert client.get_access_token(fresh_id) == new
    assert sandbox.count(fresh_id) == 3


def test_big_token_on_a_client(sandbox):
    with ky.Client(base_url=sandbox.base_url) as client:
        before = sandbox.count("big-token-3000")
        assert len(client.get_access_token("big-token-3000")) == 3000
        assert len(client.get_access_token("big-token-3000")) == 3000
    assert sandbox.count("big-token-3000") == before + 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"max_retries": 11},
        {"base_url": "http://example.com"},
        {"base_url": "not a url"},
        {"user_agent_suffix": "bad\nline"},
        {"prefetch": ["../x"]},
        {"ca_file": "/nonexistent/ca.pem"},
        {"ca_file": "/dev/zero"},
        {"max_programs": 0},
    ],
    ids=repr,
)
def test_bad_configuration_is_invalid_argument(kwargs):
    with pytest.raises(ky.InvalidArgument) as info:
        ky.Client(**kwargs)
    assert info.value.message


def test_max_programs_caps_the_cache(sandbox, fresh_id):
    with ky.Client(max_programs=2) as client:
        for i in range(5):
            assert client.get_access_token(f"{fresh_id}-{i}") == f"sandbox_{fresh_id}-{i}_v1"
        assert client.stats().cached_programs <= 2
        # The most recent ids are still cached: no new request for the last one.
        before = sandbox.count(f"{fresh_id}-4")
        client.get_access_token(f"{fresh_id}-4")
        assert sandbox.count(f"{fresh_id}-4") == before


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": "1"}, {"timeout": True}, {"max_retries": 1.5}, {"base_url": b"http://127.0.0.1"}, {"prefetch": "abc"}],
    ids=repr,
)
def test_wrong_configuration_types_are_type_errors(kwargs):
    with pytest.raises(TypeError):
        ky.Client(**kwargs)


def test_unreferenced_client_is_freed_without_close(sandbox, fresh_id):
    # __del__ frees the native client; nothing must hang or crash, and the id is then fetched once.
    for _ in range(3):
        ky.Client(base_url=sandbox.base_url).get_access_token(fresh_id)
    assert sandbox.count(fresh_id) == 3
