"""Routing the library's log lines (one per upstream request, retry, failure...) to Python."""

from __future__ import annotations

import atexit
import threading
from enum import IntEnum
from typing import Any, Callable, Optional

from ._native import LOG_CALLBACK, check, lib


class LogLevel(IntEnum):
    """``ky_log_level``."""

    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3


_installed: Any = None  # the live CFUNCTYPE object; freeing it while installed would crash
_install_lock = threading.Lock()


def set_log_callback(fn: Optional[Callable[[LogLevel, str], None]], min_level: int = LogLevel.INFO) -> None:
    """Calls ``fn(level, line)`` for every log line at ``min_level`` and above, on whichever
    thread did the work; ``None`` removes it. Lines never contain a token. An exception raised
    by ``fn`` is reported by ctypes and otherwise ignored (it cannot cross into the library).
    E.g. ``set_log_callback(lambda lvl, line: logger.info(line))``."""
    global _installed
    if fn is not None and not callable(fn):
        raise TypeError(f"fn must be callable or None, not {type(fn).__name__}")
    if isinstance(min_level, bool) or not isinstance(min_level, int):
        raise TypeError(f"min_level must be a LogLevel, not {type(min_level).__name__}")
    callback: Any = LOG_CALLBACK()  # a NULL function pointer: removes the callback
    if fn is not None:

        def trampoline(level: int, line: Optional[bytes], _userdata: Optional[int]) -> None:
            try:
                lvl: Any = LogLevel(level)
            except ValueError:
                lvl = level
            fn(lvl, (line or b"").decode("utf-8", "replace"))

        callback = LOG_CALLBACK(trampoline)
    with _install_lock:
        check(lib.ky_set_log_callback(callback, None, int(min_level)))
        # The library guarantees the previous callback is no longer running: safe to drop it.
        _installed = callback


@atexit.register
def _remove_at_exit() -> None:
    # Library threads may still log while Python finalizes; a callback then could not get the GIL.
    if _installed:
        set_log_callback(None)
