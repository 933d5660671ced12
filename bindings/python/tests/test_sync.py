"""The process default client: tokens, caching, invalidation, stats, against the sandbox."""

from __future__ import annotations

import re

import ky_access_token as ky
from conftest import SAMPLE_ID, SAMPLE_TOKEN_PREFIX


def test_sample_id_returns_the_documented_token(sandbox):
    ky.invalidate(SAMPLE_ID)
    before = sandbox.count(SAMPLE_ID)
    token = ky.get_access_token(SAMPLE_ID)
    assert token.startswith(SAMPLE_TOKEN_PREFIX)
    assert sandbox.count(SAMPLE_ID) == before + 1


def test_second_call_is_served_from_cache(sandbox, fresh_id):
    total = sandbox.total()
    first = ky.get_access_token(fresh_id)
    assert first == f"sandbox_{fresh_id}_v1"
    assert sandbox.total() == total + 1
    assert ky.get_access_token(fresh_id) == first
    assert sandbox.total() == total + 1


def test_invalidate_makes_the_next_call_fetch(sandbox, fresh_id):
    ky.get_access_token(fresh_id)
    ky.invalidate(fresh_id)
    assert ky.invalidate(fresh_id) is None  # invalidating an absent entry is fine
    rotated = sandbox.rotate(fresh_id)
    assert ky.get_access_token(fresh_id) == rotated == f"sandbox_{fresh_id}_v2"
    assert sandbox.count(fresh_id) == 2


def test_invalidate_if_drops_only_the_token_it_names(sandbox, fresh_id):
    old = ky.get_access_token(fresh_id)
    assert ky.invalidate_if(fresh_id, "not-the-cached-token") is False
    assert ky.get_access_token(fresh_id) == old
    assert sandbox.count(fresh_id) == 1  # still cached

    new = sandbox.rotate(fresh_id)
    assert ky.invalidate_if(fresh_id, old) is True
    assert ky.get_access_token(fresh_id) == new != old
    assert sandbox.count(fresh_id) == 2
    # A late caller still holding the old token must not drop the fresh one (no refresh storm).
    assert ky.invalidate_if(fresh_id, old) is False
    assert ky.get_access_token(fresh_id) == new
    assert sandbox.count(fresh_id) == 2


def test_token_longer_than_the_default_buffer(sandbox):
    ky.invalidate("big-token-3000")  # other tests may have cached it
    before = sandbox.count("big-token-3000")
    token = ky.get_access_token("big-token-3000")
    assert len(token) == 3000 and token.startswith("27_")
    # The library kept it cached after BUFFER_TOO_SMALL: the retry with a bigger buffer did not refetch.
    assert sandbox.count("big-token-3000") == before + 1


def test_default_client_stats_follow_what_the_sandbox_saw(sandbox, fresh_id):
    before = ky.stats()
    seen = sandbox.total()
    ky.get_access_token(fresh_id)
    ky.get_access_token(fresh_id)
    after = ky.stats()
    assert isinstance(after, ky.Stats)
    assert after.upstream_requests - before.upstream_requests == sandbox.total() - seen == 1
    assert after.cache_misses - before.cache_misses == 1
    assert after.cache_hits - before.cache_hits == 1
    assert len(after.upstream_failures_by_status) == 16


def test_version_is_semver_and_matches_the_package():
    assert re.fullmatch(r"\d+\.\d+\.\d+", ky.version())
    assert ky.version() == ky.__version__
