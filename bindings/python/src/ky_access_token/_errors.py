"""Status codes and the exception hierarchy; nothing here touches the native library."""

from __future__ import annotations

from enum import IntEnum
from typing import Dict, Type, Union


class Status(IntEnum):
    """Mirrors the C ``ky_status`` codes (a contract: never renumbered)."""

    OK = 0
    INVALID_ARGUMENT = 1
    BUFFER_TOO_SMALL = 2
    NETWORK = 3
    TIMEOUT = 4
    TLS = 5
    HTTP_STATUS = 6
    API = 7
    BAD_RESPONSE = 8
    INTERNAL = 9
    CANCELLED = 10
    BUSY = 11


class LibraryNotFoundError(ImportError):
    """The native library could not be loaded; the message lists every place tried."""


class KyError(Exception):
    """A failed call. ``status`` is a :class:`Status` (or a plain int for a code this
    package does not know yet), ``api_err`` the upstream ``err`` for :class:`APIError`
    (else 0), ``message`` the library's UTF-8 message (never contains the token)."""

    status: Union[Status, int]
    api_err: int
    message: str

    def __init__(self, status: int, message: str, api_err: int = 0) -> None:
        # Only the message goes to Exception: OSError-based subclasses (NetworkError, Timeout)
        # would read a second positional argument as errno/strerror.
        super().__init__(message)
        try:
            self.status = Status(status)
        except ValueError:
            self.status = int(status)
        self.message = message
        self.api_err = int(api_err)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        status = self.status.name if isinstance(self.status, Status) else str(self.status)
        extra = f", api_err={self.api_err}" if self.api_err else ""
        return f"{type(self).__name__}(status={status}, message={self.message!r}{extra})"


class InvalidArgument(KyError, ValueError):
    """Malformed program id or configuration value; no request was sent."""


class ClientClosed(InvalidArgument):
    """A :class:`~ky_access_token.Client` was used after ``close()``."""


class BufferTooSmall(KyError):
    """Kept for completeness: the Python API sizes its buffers itself."""


class NetworkError(KyError, ConnectionError):
    """No usable HTTP answer: connection refused/reset, DNS or proxy failure (and, as
    subclasses, a deadline or TLS failure)."""


class Timeout(NetworkError, TimeoutError):
    """The whole-call deadline passed (retries included). Also a builtin ``TimeoutError``."""


class TLSError(NetworkError):
    """Certificate not trusted or TLS handshake failed."""


class HTTPStatusError(KyError):
    """The server answered a non-2xx status (redirects are not followed)."""


class APIError(KyError):
    """The API answered ``err != 0``: see ``api_err``; the message carries the upstream ``msg``."""


class BadResponse(KyError):
    """The answer was not the documented JSON or had no usable token."""


class InternalError(KyError):
    """A bug inside the library (a caught panic); the process is unaffected."""


class Cancelled(KyError):
    """An async call was not run because its client was being closed."""


class Busy(KyError):
    """Too many async calls are queued on the client; nothing was queued."""


_CLASS_BY_STATUS: Dict[int, Type[KyError]] = {
    Status.INVALID_ARGUMENT: InvalidArgument,
    Status.BUFFER_TOO_SMALL: BufferTooSmall,
    Status.NETWORK: NetworkError,
    Status.TIMEOUT: Timeout,
    Status.TLS: TLSError,
    Status.HTTP_STATUS: HTTPStatusError,
    Status.API: APIError,
    Status.BAD_RESPONSE: BadResponse,
    Status.INTERNAL: InternalError,
    Status.CANCELLED: Cancelled,
    Status.BUSY: Busy,
}


def error_for(status: int, message: str, api_err: int = 0) -> KyError:
    """The exception for a failure status (plain :class:`KyError` for an unknown code)."""
    return _CLASS_BY_STATUS.get(status, KyError)(status, message, api_err)


def invalid_argument(message: str) -> InvalidArgument:
    """An :class:`InvalidArgument` raised on the Python side, before calling the library."""
    return InvalidArgument(Status.INVALID_ARGUMENT, message)
