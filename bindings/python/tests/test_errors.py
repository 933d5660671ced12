"""Every failure family maps to its exception, with the library's message intact."""

from __future__ import annotations

import threading
import time

import pytest

import ky_access_token as ky
from ky_access_token._errors import error_for


def test_api_error_keeps_err_and_chinese_message(sandbox):
    before = sandbox.count("fault-api-error")
    with pytest.raises(ky.APIError) as info:
        ky.get_access_token("fault-api-error")
    err = info.value
    assert err.status is ky.Status.API and err.api_err == 40013
    assert "项目不存在" in err.message and "项目不存在" in str(err)
    assert isinstance(err, ky.KyError)
    # Errors are never cached: the next call asks again.
    with pytest.raises(ky.APIError):
        ky.get_access_token("fault-api-error")
    assert sandbox.count("fault-api-error") == before + 2


def test_api_error_code_from_the_id():
    with pytest.raises(ky.APIError) as info:
        ky.get_access_token("fault-api-error-40001")
    assert info.value.api_err == 40001


def test_http_404_is_http_status_error():
    with pytest.raises(ky.HTTPStatusError) as info:
        ky.get_access_token("fault-http-404")
    assert info.value.status is ky.Status.HTTP_STATUS
    assert "404" in info.value.message
    assert info.value.api_err == 0


@pytest.mark.parametrize("program_id", ["fault-malformed", "fault-no-token", "fault-not-json"])
def test_unusable_answers_are_bad_response(program_id):
    with pytest.raises(ky.BadResponse) as info:
        ky.get_access_token(program_id)
    assert info.value.status is ky.Status.BAD_RESPONSE and info.value.message


def test_deadline_is_timeout_and_builtin_timeout_error(sandbox):
    with ky.Client(base_url=sandbox.base_url, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(ky.Timeout) as info:
            client.get_access_token("fault-slow-headers")
        elapsed = time.monotonic() - started
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ky.NetworkError)
    assert info.value.status is ky.Status.TIMEOUT
    assert 0.25 <= elapsed < 3, elapsed


def test_connection_refused_is_network_error():
    with ky.Client(base_url="http://127.0.0.1:1", max_retries=0) as client:
        with pytest.raises(ky.NetworkError) as info:
            client.get_access_token("anything")
    assert isinstance(info.value, ConnectionError)
    assert not isinstance(info.value, ky.Timeout)
    assert info.value.status is ky.Status.NETWORK and "127.0.0.1:1" in info.value.message


def test_max_retries_is_applied_to_5xx(sandbox):
    for retries in (0, 2):
        before = sandbox.count("fault-http-500")
        with ky.Client(base_url=sandbox.base_url, max_retries=retries) as client:
            with pytest.raises(ky.HTTPStatusError):
                client.get_access_token("fault-http-500")
        assert sandbox.count("fault-http-500") == before + 1 + retries


def test_error_details_are_per_thread():
    # Different failures on different threads at once: each reads its own message.
    results: list = []

    def call(program_id: str) -> None:
        try:
            ky.get_access_token(program_id)
        except ky.KyError as exc:
            results.append((program_id, exc))

    ids = ["fault-api-error", "fault-http-404", "fault-malformed"] * 4
    threads = [threading.Thread(target=call, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == len(ids)
    for program_id, exc in results:
        if program_id == "fault-api-error":
            assert type(exc) is ky.APIError and "项目不存在" in exc.message and exc.api_err == 40013
        elif program_id == "fault-http-404":
            assert type(exc) is ky.HTTPStatusError and "404" in exc.message and exc.api_err == 0
        else:
            assert type(exc) is ky.BadResponse and exc.api_err == 0


BAD_TYPES = [None, 123, b"223fc70098ad11e9a5898928ba7882e6", 1.5, ["x"]]
BAD_IDS = ["", "a b", "x" * 33, "../x", "a/b", "a?b", "a%2e", "é", "a\x00b", "\udc80"]


@pytest.mark.parametrize("value", BAD_TYPES, ids=repr)
def test_non_str_ids_are_type_errors_and_send_nothing(sandbox, value):
    total = sandbox.total()
    with ky.Client(base_url=sandbox.base_url) as client:
        for call in (ky.get_access_token, ky.invalidate, client.get_access_token, client.invalidate):
            with pytest.raises(TypeError):
                call(value)
        with pytest.raises(TypeError):
            ky.invalidate_if(value, "token")
    assert sandbox.total() == total


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_invalid_ids_are_invalid_argument_and_send_nothing(sandbox, value):
    total = sandbox.total()
    with ky.Client(base_url=sandbox.base_url) as client:
        for call in (ky.get_access_token, ky.invalidate, client.get_access_token, client.invalidate):
            with pytest.raises(ky.InvalidArgument) as info:
                call(value)
            assert isinstance(info.value, ValueError)
            assert info.value.status is ky.Status.INVALID_ARGUMENT and info.value.message
        with pytest.raises(ky.InvalidArgument):
            client.invalidate_if(value, "token")
    assert sandbox.total() == total


def test_library_message_names_the_bad_character():
    with pytest.raises(ky.InvalidArgument) as info:
        ky.get_access_token("a b")
    assert "' '" in info.value.message


def test_every_status_maps_to_one_class():
    expected = {
        1: (ky.InvalidArgument, ValueError),
        2: (ky.BufferTooSmall, ky.KyError),
        3: (ky.NetworkError, ConnectionError),
        4: (ky.Timeout, TimeoutError),
        5: (ky.TLSError, ky.NetworkError),
        6: (ky.HTTPStatusError, ky.KyError),
        7: (ky.APIError, ky.KyError),
        8: (ky.BadResponse, ky.KyError),
        9: (ky.InternalError, ky.KyError),
        10: (ky.Cancelled, ky.KyError),
        11: (ky.Busy, ky.KyError),
    }
    for status, (cls, family) in expected.items():
        err = error_for(status, "消息", 5)
        assert type(err) is cls and isinstance(err, family)
        assert err.status == status and err.status.name == ky.Status(status).name
        assert err.message == "消息" and err.api_err == 5
    unknown = error_for(42, "new code")
    assert type(unknown) is ky.KyError and unknown.status == 42
