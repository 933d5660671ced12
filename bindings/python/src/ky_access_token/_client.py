"""The synchronous API: process-default-client functions, Stats, and the Client class."""

from __future__ import annotations

import ctypes
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple, Union

from . import _args
from ._async import await_token
from ._errors import ClientClosed, Status
from ._native import TOKEN_BUFFER_SIZE, KyStats, check, last_error, lib

PathArg = Union[str, "os.PathLike[str]"]


def _fetch(call: Callable[[Any, int], int]) -> str:
    """Runs ``call(buf, len) -> status`` and returns the token. A token longer than the usual
    buffer stays cached by the library, so the second call with the size it asked for does not
    refetch; a loop, because the token may rotate to a longer one in between."""
    size = TOKEN_BUFFER_SIZE
    for _ in range(4):
        buf = ctypes.create_string_buffer(size)
        status = call(buf, size)
        if status == Status.BUFFER_TOO_SMALL:
            size = max(int(lib.ky_last_required_size()), size + 1)
            continue
        if status != 0:
            raise last_error(status)
        try:
            return buf.value.decode("utf-8")
        finally:
            ctypes.memset(buf, 0, size)  # do not leave the secret in freed memory
    raise last_error(Status.BUFFER_TOO_SMALL)


@dataclass(frozen=True)
class Stats:
    """Counters of a client since it was created (``ky_stats``); read one by one, so they may
    be a call apart."""

    cache_hits: int
    cache_misses: int
    upstream_requests: int
    upstream_failures: int
    upstream_failures_by_status: Tuple[int, ...]  # indexed by Status code
    coalesced_waiters: int
    stale_served: int
    refresh_ahead_runs: int
    cached_programs: int

    @classmethod
    def _read(cls, fill: Callable[[Any, int], int]) -> "Stats":
        raw = KyStats()
        check(fill(ctypes.byref(raw), ctypes.sizeof(raw)))
        return cls(
            cache_hits=raw.cache_hits,
            cache_misses=raw.cache_misses,
            upstream_requests=raw.upstream_requests,
            upstream_failures=raw.upstream_failures,
            upstream_failures_by_status=tuple(raw.upstream_failures_by_status),
            coalesced_waiters=raw.coalesced_waiters,
            stale_served=raw.stale_served,
            refresh_ahead_runs=raw.refresh_ahead_runs,
            cached_programs=raw.cached_programs,
        )


# --- the process default client, configured from the KY_* environment at its first use ---


def get_access_token(program_id: str) -> str:
    """The access token for ``program_id`` (cached; one upstream request however many threads
    ask). Blocks for at most ``KY_TIMEOUT_MS``. Raises a :class:`KyError` subclass."""
    pid = _args.program_id(program_id)
    return _fetch(lambda buf, size: lib.ky_get_access_token(pid, buf, size))


def invalidate(program_id: str) -> None:
    """Drops the cached token (call it when WeChat answers 40001/42001). No I/O."""
    check(lib.ky_invalidate_access_token(_args.program_id(program_id)))


def invalidate_if(program_id: str, token: str) -> bool:
    """Drops the cached token only if it is still ``token``; True if it was dropped. No I/O."""
    pid = _args.program_id(program_id)
    tok = _args.text(token, "token")
    dropped = ctypes.c_bool(False)
    check(lib.ky_invalidate_access_token_if(pid, tok, len(tok), ctypes.byref(dropped)))
    return dropped.value


def stats() -> Stats:
    """Counters of the process default client."""
    return Stats._read(lib.ky_get_stats)


def version() -> str:
    """The native library's version, e.g. ``"0.1.0"``."""
    return (lib.ky_version() or b"").decode("ascii")


async def aget_access_token(program_id: str, *, client: Optional["Client"] = None) -> str:
    """:func:`get_access_token` without blocking the event loop (on ``client`` if given)."""
    if client is not None:
        return await client.aget_access_token(program_id)
    pid = _args.program_id(program_id)
    return await await_token(lambda cb, key: lib.ky_get_access_token_async(pid, cb, key))


# --- clients with their own configuration ---


class Client:
    """A client with its own configuration, cache and worker pool (``ky_client``).

    Durations are in seconds (int, float or ``timedelta``); ``None`` keeps the library default
    (or, with ``from_env=True``, the ``KY_*`` environment value). Close it with :meth:`close` or
    a ``with`` block; using it afterwards raises :class:`ClientClosed`.
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[_args.Seconds] = None,
        connect_timeout: Optional[_args.Seconds] = None,
        max_retries: Optional[int] = None,
        cache_ttl: Optional[_args.Seconds] = None,
        ca_file: Optional[PathArg] = None,
        ca_pem: Optional[Union[str, bytes]] = None,
        proxy: Optional[str] = None,
        user_agent_suffix: Optional[str] = None,
        refresh_ahead: Optional[float] = None,
        stale_if_error: Optional[_args.Seconds] = None,
        prefetch: Iterable[str] = (),
        max_programs: Optional[int] = None,
        from_env: bool = False,
    ) -> None:
        self._handle: Optional[int] = None  # set last: __del__ may see a half-built object
        self._cond = threading.Condition()
        self._users = 0
        if isinstance(prefetch, (str, bytes)):
            raise TypeError("prefetch must be an iterable of program ids, not a single string")
        # Convert every argument before allocating anything native.
        setters: List[Tuple[Callable[..., int], Any]] = []
        # The options that are one value for one ky_config_set_* call: (name, value, converter,
        # setter); the converter gets the name for its error message. Unset (None) keeps the
        # default. ca_pem (which passes its length too) and prefetch (one call per id) follow.
        for name, value, convert, setter in (
            ("base_url", base_url, _args.text, lib.ky_config_set_base_url),
            ("timeout", timeout, _args.milliseconds, lib.ky_config_set_timeout_ms),
            ("connect_timeout", connect_timeout, _args.milliseconds, lib.ky_config_set_connect_timeout_ms),
            ("max_retries", max_retries, _args.count, lib.ky_config_set_max_retries),
            ("cache_ttl", cache_ttl, _args.milliseconds, lib.ky_config_set_cache_ttl_ms),
            ("ca_file", ca_file, _args.path, lib.ky_config_set_ca_file),
            ("proxy", proxy, _args.text, lib.ky_config_set_proxy),
            ("user_agent_suffix", user_agent_suffix, _args.text, lib.ky_config_set_user_agent_suffix),
            ("refresh_ahead", refresh_ahead, _args.fraction, lib.ky_config_set_refresh_ahead),
            ("stale_if_error", stale_if_error, _args.milliseconds, lib.ky_config_set_stale_if_error_ms),
            ("max_programs", max_programs, _args.count, lib.ky_config_set_max_programs),
        ):
            if value is not None:
                setters.append((setter, convert(value, name)))
        if ca_pem is not None:
            data = _args.pem(ca_pem)
            setters.append((lambda cfg, d: lib.ky_config_set_ca_pem(cfg, d, len(d)), data))
        for pid in prefetch:
            setters.append((lib.ky_config_add_prefetch, _args.program_id(pid)))

        config = ctypes.c_void_p()
        check(lib.ky_config_from_env(ctypes.byref(config)) if from_env else lib.ky_config_new(ctypes.byref(config)))
        try:
            for setter, value in setters:
                check(setter(config, value))
            handle = ctypes.c_void_p()
            check(lib.ky_client_new(config, ctypes.byref(handle)))
        finally:
            lib.ky_config_free(config)  # the client keeps its own copy
        self._handle = handle.value

    @contextmanager
    def _borrow(self) -> Iterator[int]:
        """The live handle for one call; close() waits until no call holds it (ky_client_free
        must be the last call on a client)."""
        with self._cond:
            if self._handle is None:
                raise ClientClosed(Status.INVALID_ARGUMENT, "this Client is closed")
            self._users += 1
            handle = self._handle
        try:
            yield handle
        finally:
            with self._cond:
                self._users -= 1
                if self._users == 0:
                    self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Frees the client: waits for calls running on other threads, cancels queued async
        calls (they raise :class:`Cancelled`). Idempotent."""
        with self._cond:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            self._cond.wait_for(lambda: self._users == 0)
        lib.ky_client_free(handle)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:  # interpreter shutdown: module globals may already be gone
            pass

    def __repr__(self) -> str:
        return f"<ky_access_token.Client {'closed' if self.closed else 'open'}>"

    def get_access_token(self, program_id: str) -> str:
        """As :func:`ky_access_token.get_access_token`, on this client."""
        pid = _args.program_id(program_id)
        with self._borrow() as handle:
            return _fetch(lambda buf, size: lib.ky_client_get_access_token(handle, pid, buf, size))

    async def aget_access_token(self, program_id: str) -> str:
        """:meth:`get_access_token` without blocking the event loop."""
        pid = _args.program_id(program_id)

        def start(callback: Any, key: int) -> int:
            with self._borrow() as handle:
                return int(lib.ky_client_get_access_token_async(handle, pid, callback, key))

        return await await_token(start, keepalive=self)

    def invalidate(self, program_id: str) -> None:
        pid = _args.program_id(program_id)
        with self._borrow() as handle:
            check(lib.ky_client_invalidate_access_token(handle, pid))

    def invalidate_if(self, program_id: str, token: str) -> bool:
        pid = _args.program_id(program_id)
        tok = _args.text(token, "token")
        dropped = ctypes.c_bool(False)
        with self._borrow() as handle:
            check(lib.ky_client_invalidate_access_token_if(handle, pid, tok, len(tok), ctypes.byref(dropped)))
        return dropped.value

    def stats(self) -> Stats:
        with self._borrow() as handle:
            return Stats._read(lambda out, size: lib.ky_client_stats(handle, out, size))
