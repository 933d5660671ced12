"""Python bindings for ky-access-token: the Tianmu (天幕) mini-game access token, fetched and
cached by the native library through its C ABI (ctypes).

    >>> import ky_access_token
    >>> token = ky_access_token.get_access_token("223fc70098ad11e9a5898928ba7882e6")
"""

from ._errors import (
    APIError,
    BadResponse,
    BufferTooSmall,
    Busy,
    Cancelled,
    ClientClosed,
    HTTPStatusError,
    InternalError,
    InvalidArgument,
    KyError,
    LibraryNotFoundError,
    NetworkError,
    Status,
    Timeout,
    TLSError,
)
from ._native import library_path
from ._client import (
    Client,
    Stats,
    aget_access_token,
    get_access_token,
    invalidate,
    invalidate_if,
    stats,
    version,
)
from ._log import LogLevel, set_log_callback

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "BadResponse",
    "BufferTooSmall",
    "Busy",
    "Cancelled",
    "Client",
    "ClientClosed",
    "HTTPStatusError",
    "InternalError",
    "InvalidArgument",
    "KyError",
    "LibraryNotFoundError",
    "LogLevel",
    "NetworkError",
    "Stats",
    "Status",
    "TLSError",
    "Timeout",
    "aget_access_token",
    "get_access_token",
    "invalidate",
    "invalidate_if",
    "library_path",
    "set_log_callback",
    "stats",
    "version",
]
