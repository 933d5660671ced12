"""set_log_callback delivers the library's lines to Python."""

from __future__ import annotations

import pytest

import ky_access_token as ky


def test_log_lines_reach_python_and_never_hold_the_token(sandbox, fresh_id):
    lines: list = []
    ky.set_log_callback(lambda level, line: lines.append((level, line)), ky.LogLevel.DEBUG)
    try:
        with ky.Client(base_url=sandbox.base_url) as client:
            token = client.get_access_token(fresh_id)
            with pytest.raises(ky.APIError):
                client.get_access_token("fault-api-error")
    finally:
        ky.set_log_callback(None)
    mine = [(lvl, line) for lvl, line in lines if fresh_id in line]
    assert mine and all(isinstance(lvl, ky.LogLevel) for lvl, _ in mine)
    assert any(lvl is ky.LogLevel.ERROR and "fault-api-error" in line for lvl, line in lines)
    assert all(token not in line for _, line in lines)

    count = len(lines)
    with ky.Client(base_url=sandbox.base_url) as client:
        client.get_access_token(fresh_id + "-after")
    assert len(lines) == count  # removed: nothing more arrives


def test_min_level_filters_and_bad_level_is_rejected(sandbox, fresh_id):
    lines: list = []
    ky.set_log_callback(lambda level, line: lines.append(level), ky.LogLevel.ERROR)
    try:
        with ky.Client(base_url=sandbox.base_url) as client:
            client.get_access_token(fresh_id)  # an INFO line, filtered out
    finally:
        ky.set_log_callback(None)
    assert lines == []
    with pytest.raises(ky.InvalidArgument):
        ky.set_log_callback(print, 7)
    with pytest.raises(TypeError):
        ky.set_log_callback("not callable", ky.LogLevel.INFO)  # type: ignore[arg-type]
