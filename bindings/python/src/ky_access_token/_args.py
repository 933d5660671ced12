"""Turns Python arguments into C arguments. Types are checked here (TypeError); the content of
a program id is left to the library, which rejects it before any I/O — except what C strings
cannot carry (an embedded NUL would silently cut the id short)."""

from __future__ import annotations

import math
import os
from datetime import timedelta
from typing import Union

from ._errors import invalid_argument

Seconds = Union[float, int, timedelta]


def text(value: object, what: str) -> bytes:
    """A ``str`` as NUL-free UTF-8 bytes for a ``const char *`` parameter."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be str, not {type(value).__name__} (decode it first)")
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if "\x00" in value:
        raise invalid_argument(f"invalid {what}: contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_argument(f"invalid {what}: not valid Unicode (lone surrogate)") from None


def program_id(value: object) -> bytes:
    return text(value, "program id")


def path(value: object, what: str) -> bytes:
    """A filesystem path (str or os.PathLike) as bytes, NUL-free."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be str or os.PathLike, not {type(value).__name__}")
    raw = os.fsencode(value)
    if b"\x00" in raw:
        raise invalid_argument(f"invalid {what}: contains a NUL character")
    return raw


def milliseconds(value: object, what: str) -> int:
    """Seconds (int, float or timedelta) as whole milliseconds for a ``uint64_t`` parameter;
    the library checks the range (e.g. a timeout of 0)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be seconds as int, float or timedelta, not {type(value).__name__}")
    else:
        seconds = float(value)
    if math.isnan(seconds) or seconds < 0 or math.isinf(seconds):
        raise invalid_argument(f"invalid {what}: {value!r} seconds (must be finite and >= 0)")
    return int(round(seconds * 1000))


def count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be int, not {type(value).__name__}")
    if not 0 <= value <= 0xFFFFFFFF:
        raise invalid_argument(f"invalid {what}: {value}")
    return value


def fraction(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    return float(value)


def pem(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"ca_pem must be str or bytes, not {type(value).__name__}")
