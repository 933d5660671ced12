"""Finds and loads the native library and declares every C signature, from one table.

Lookup order: ``KY_ACCESS_TOKEN_LIB`` (a file path; when set it is the only candidate, so a
wrong override fails loudly instead of silently loading some other copy), then this package's
own folder (where a wheel ships the library), then the system loader.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_double,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, List, Sequence, Tuple

from ._errors import KyError, LibraryNotFoundError, error_for
from ._libname import LIBRARY_FILE

ENV_VAR = "KY_ACCESS_TOKEN_LIB"
TOKEN_BUFFER_SIZE = 1024  # KY_TOKEN_BUFFER_SIZE
STATUS_SLOTS = 16  # KY_STATUS_SLOTS



class KyStats(Structure):
    """``ky_stats`` (version 1): fields are only ever appended, and the library is told our size."""

    _fields_ = [
        ("version", c_uint32),
        ("size", c_uint32),
        ("cache_hits", c_uint64),
        ("cache_misses", c_uint64),
        ("upstream_requests", c_uint64),
        ("upstream_failures", c_uint64),
        ("upstream_failures_by_status", c_uint64 * STATUS_SLOTS),
        ("coalesced_waiters", c_uint64),
        ("stale_served", c_uint64),
        ("refresh_ahead_runs", c_uint64),
        ("cached_programs", c_uint64),
    ]


# void (*)(ky_status, const char *token, size_t token_len, void *userdata). The token arrives as a
# raw pointer (read with its length, never as c_char_p) and userdata as the registry key.
TOKEN_CALLBACK = CFUNCTYPE(None, c_int32, c_void_p, c_size_t, c_void_p)
# void (*)(ky_status, const char *token, size_t token_len, const char *message, int64_t api_err,
# void *userdata): the *_async_detail functions' callback (declared for completeness; the
# binding's async path reads the details on the worker thread through TOKEN_CALLBACK).
DETAIL_CALLBACK = CFUNCTYPE(None, c_int32, c_void_p, c_size_t, c_void_p, c_int64, c_void_p)
# void (*)(ky_log_level, const char *line, void *userdata)
LOG_CALLBACK = CFUNCTYPE(None, c_int32, c_char_p, c_void_p)

_status = c_int32
_handle = c_void_p  # ky_client* / ky_config*: opaque, kept as an int
_out_handle = POINTER(c_void_p)
_buf = POINTER(c_char)  # caller-owned output buffer (a create_string_buffer)

# (name, argtypes, restype) of every exported function. Strings the library allocates
# (the _alloc results) come back as c_void_p so that they can be passed to ky_string_free;
# library-owned static strings come back as c_char_p (copied to bytes at once).
_SIGNATURES: Sequence[Tuple[str, Tuple[Any, ...], Any]] = (
    ("ky_get_access_token", (c_char_p, _buf, c_size_t), _status),
    ("ky_get_access_token_alloc", (c_char_p,), c_void_p),
    ("ky_string_free", (c_void_p,), None),
    ("ky_invalidate_access_token", (c_char_p,), _status),
    ("ky_invalidate_access_token_if", (c_char_p, c_char_p, c_size_t, POINTER(c_bool)), _status),
    ("ky_get_access_token_async", (c_char_p, TOKEN_CALLBACK, c_void_p), _status),
    ("ky_get_access_token_async_detail", (c_char_p, DETAIL_CALLBACK, c_void_p), _status),
    ("ky_get_stats", (POINTER(KyStats), c_size_t), _status),
    ("ky_last_error_message", (), c_char_p),
    ("ky_last_api_err", (), c_int64),
    ("ky_last_required_size", (), c_size_t),
    ("ky_version", (), c_char_p),
    ("ky_status_name", (c_int32,), c_char_p),
    ("ky_status_description", (c_int32,), c_char_p),
    ("ky_set_log_callback", (LOG_CALLBACK, c_void_p, c_int32), _status),
    ("ky_config_new", (_out_handle,), _status),
    ("ky_config_from_env", (_out_handle,), _status),
    ("ky_config_free", (_handle,), None),
    ("ky_config_set_base_url", (_handle, c_char_p), _status),
    ("ky_config_set_timeout_ms", (_handle, c_uint64), _status),
    ("ky_config_set_connect_timeout_ms", (_handle, c_uint64), _status),
    ("ky_config_set_max_retries", (_handle, c_uint32), _status),
    ("ky_config_set_cache_ttl_ms", (_handle, c_uint64), _status),
    ("ky_config_set_ca_file", (_handle, c_char_p), _status),
    ("ky_config_set_ca_pem", (_handle, c_char_p, c_size_t), _status),
    ("ky_config_set_proxy", (_handle, c_char_p), _status),
    ("ky_config_set_user_agent_suffix", (_handle, c_char_p), _status),
    ("ky_config_set_refresh_ahead", (_handle, c_double), _status),
    ("ky_config_set_stale_if_error_ms", (_handle, c_uint64), _status),
    ("ky_config_add_prefetch", (_handle, c_char_p), _status),
    ("ky_config_set_max_programs", (_handle, c_uint64), _status),
    ("ky_client_new", (_handle, _out_handle), _status),
    ("ky_client_free", (_handle,), None),
    ("ky_client_get_access_token", (_handle, c_char_p, _buf, c_size_t), _status),
    ("ky_client_get_access_token_alloc", (_handle, c_char_p), c_void_p),
    ("ky_client_invalidate_access_token", (_handle, c_char_p), _status),
    (
        "ky_client_invalidate_access_token_if",
        (_handle, c_char_p, c_char_p, c_size_t, POINTER(c_bool)),
        _status,
    ),
    ("ky_client_get_access_token_async", (_handle, c_char_p, TOKEN_CALLBACK, c_void_p), _status),
    (
        "ky_client_get_access_token_async_detail",
        (_handle, c_char_p, DETAIL_CALLBACK, c_void_p),
        _status,
    ),
    ("ky_client_stats", (_handle, POINTER(KyStats), c_size_t), _status),
)


def _try_load(target: str, origin: str, tried: List[str]) -> "ctypes.CDLL | None":
    try:
        return ctypes.CDLL(target)
    except OSError as exc:
        tried.append(f"{target} ({origin}): {exc}")
        return None


def _not_found(tried: List[str]) -> LibraryNotFoundError:
    lines = "\n".join(f"  - {entry}" for entry in tried)
    return LibraryNotFoundError(
        f"cannot load the ky-access-token native library ({LIBRARY_FILE}); tried:\n{lines}\n"
        f"Set {ENV_VAR} to the library's path (build it with `cargo build --release` in the "
        f"ky-access-token repository: target/release/{LIBRARY_FILE}), or install the wheel, "
        "which ships it inside the package."
    )


def _load() -> Tuple[ctypes.CDLL, str]:
    tried: List[str] = []
    override = os.environ.get(ENV_VAR, "")
    if override:
        lib = _try_load(override, f"from {ENV_VAR}", tried)
        if lib is None:
            raise _not_found(tried)
        return lib, override

    bundled = Path(__file__).resolve().with_name(LIBRARY_FILE)
    if bundled.is_file():
        lib = _try_load(str(bundled), "package folder", tried)
        if lib is not None:
            return lib, str(bundled)
    else:
        tried.append(f"{bundled} (package folder): no such file")

    found = ctypes.util.find_library("ky_access_token")
    for name, origin in ((found, "ctypes.util.find_library"), (LIBRARY_FILE, "system loader")):
        if name:
            lib = _try_load(name, origin, tried)
            if lib is not None:
                return lib, name
    if not found:
        tried.append("ctypes.util.find_library('ky_access_token'): nothing found")
    raise _not_found(tried)


def _declare(lib: ctypes.CDLL, path: str) -> None:
    for name, argtypes, restype in _SIGNATURES:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(
                f"{path} has no symbol {name}: it is not this version of libky_access_token "
                f"(set {ENV_VAR} to a matching build)"
            ) from None
        fn.argtypes = argtypes
        fn.restype = restype


lib, library_path = _load()
_declare(lib, library_path)


def last_error(status: int) -> KyError:
    """The exception for ``status``, with this thread's message and api_err. Call it on the
    thread that made the failing call, before that thread's next ``ky_`` call."""
    message = (lib.ky_last_error_message() or b"").decode("utf-8", "replace")
    if not message:
        message = (lib.ky_status_description(status) or b"").decode("utf-8", "replace")
    return error_for(status, message, lib.ky_last_api_err())


def check(status: int) -> None:
    """Raises :func:`last_error` for a failure status."""
    if status != 0:
        raise last_error(status)


def status_name(status: int) -> str:
    """The C name of a status, e.g. ``KY_ERR_TIMEOUT``."""
    return (lib.ky_status_name(int(status)) or b"KY_ERR_UNKNOWN").decode("ascii", "replace")
