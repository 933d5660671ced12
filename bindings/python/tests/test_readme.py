"""The code blocks of bindings/python/README.md: each is a region of this file (tests/readme.rs
checks the README block equals it), run here against the sandbox like every other test."""

import asyncio

import ky_access_token as ky

SAMPLE = "223fc70098ad11e9a5898928ba7882e6"


def test_readme_default_client(sandbox) -> None:
    before = sandbox.count(SAMPLE)
    # snippet:begin default-client
    import ky_access_token as ky

    token = ky.get_access_token("223fc70098ad11e9a5898928ba7882e6")   # str; cached, single-flight
    # ... call WeChat with it; if WeChat answers errcode 40001 or 42001:
    ky.invalidate_if("223fc70098ad11e9a5898928ba7882e6", token)       # True if it dropped it
    # snippet:end default-client
    assert token.startswith("27_t3e8")
    assert ky.get_access_token(SAMPLE) == token  # the sandbox serves the same sample token again
    assert sandbox.count(SAMPLE) > before  # invalidate_if dropped it: a new request


def test_readme_asyncio(sandbox, fresh_id) -> None:
    program_id = fresh_id

    async def main() -> list:
        with ky.Client(from_env=True) as client:
            # snippet:begin asyncio
            token = await ky.aget_access_token(program_id)                # default client
            token = await ky.aget_access_token(program_id, client=client) # or client.aget_access_token(id)
            # snippet:end asyncio
            return [token, await client.aget_access_token(program_id)]

    assert asyncio.run(main()) == [f"sandbox_{fresh_id}_v1"] * 2
    assert sandbox.count(fresh_id) == 2  # the default client and the client: one request each


def test_readme_own_client(sandbox) -> None:
    before = sandbox.count(SAMPLE)
    # snippet:begin own-client
    with ky.Client(from_env=True, timeout=2.5, max_retries=1,  # from_env: KY_BASE_URL, the sandbox
                   cache_ttl=60, prefetch=["223fc70098ad11e9a5898928ba7882e6"]) as client:
        token = client.get_access_token("223fc70098ad11e9a5898928ba7882e6")
        stats = client.stats()
    # snippet:end own-client
    assert token.startswith("27_t3e8")
    assert stats.upstream_requests == 1  # the prefetch and the get share one request
    assert sandbox.count(SAMPLE) == before + 1
