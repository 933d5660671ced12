"""Awaitable token fetches over the library's own async functions, without blocking the loop.

One CFUNCTYPE callback lives for the whole process (a ctypes callback object freed while the
library may still call it would crash), and each call is identified by an integer passed as
userdata, keyed in a registry to the (loop, future) waiting for it. The callback runs on a library
worker thread: it reads the token or the per-thread error details right there, then hands the
outcome to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from ._native import TOKEN_CALLBACK, last_error

_Pending = Tuple[asyncio.AbstractEventLoop, "asyncio.Future[str]", Any]
_pending: Dict[int, _Pending] = {}
_pending_lock = threading.Lock()
_keys = itertools.count(1)  # 0 would arrive as None (NULL userdata)


def _settle(future: "asyncio.Future[str]", token: Optional[str], error: Optional[BaseException], _keepalive: Any) -> None:
    # Runs on the loop thread; _keepalive (the Client, if any) is released here, not on a worker.
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(token)  # type: ignore[arg-type]


def _on_token(status: int, token: Optional[int], token_len: int, userdata: Optional[int]) -> None:
    # Nothing may escape into C; every path ends by settling the future or finding none.
    try:
        with _pending_lock:
            entry = _pending.pop(userdata or 0, None)
        if entry is None:
            return
        loop, future, keepalive = entry
        value: Optional[str] = None
        error: Optional[BaseException] = None
        try:
            if status == 0 and token:
                value = ctypes.string_at(token, token_len).decode("utf-8")
            else:
                error = last_error(status)  # per-thread: only valid here, on the worker
        except BaseException as exc:  # e.g. a token that is not UTF-8
            error = exc
        try:
            loop.call_soon_threadsafe(_settle, future, value, error, keepalive)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more
    except BaseException:  # pragma: no cover - last resort, never unwind into the library
        pass


_CALLBACK = TOKEN_CALLBACK(_on_token)  # module-level: alive as long as the process


async def await_token(start: Callable[[Any, int], int], keepalive: Any = None) -> str:
    """Queues one call with ``start(callback, userdata) -> status`` and awaits its token.
    ``keepalive`` (the Client) is referenced until the callback has run."""
    loop = asyncio.get_running_loop()
    future: "asyncio.Future[str]" = loop.create_future()
    key = next(_keys)
    with _pending_lock:
        _pending[key] = (loop, future, keepalive)
    try:
        status = start(_CALLBACK, key)
        # Not queued: the callback will not run, and the details are on this thread now.
        error = last_error(status) if status != 0 else None
    except BaseException:
        with _pending_lock:
            _pending.pop(key, None)
        raise
    if error is not None:
        with _pending_lock:
            _pending.pop(key, None)
        raise error
    return await future
