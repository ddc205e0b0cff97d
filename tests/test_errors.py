"""The error tree: shape, what each error carries, copy and pickle."""

from __future__ import annotations

import copy
import pickle

import httpx
import httpx_sse
import pytest

import trio_sse
from trio_sse import (
    ContentTypeError,
    EventTooLargeError,
    NetworkError,
    ResponseError,
    SSEError,
    StatusError,
)

HEADERS = {"Content-Type": "text/plain", "Retry-After": "3"}

ERRORS: list[SSEError] = [
    SSEError("plain"),
    StatusError(status_code=503, headers=HEADERS, url="http://h/s", body="busy"),
    ContentTypeError(content_type="text/html", status_code=200, headers=HEADERS, url="http://h/s"),
    EventTooLargeError(max_event_size=10, events=[trio_sse.ServerSentEvent(data="a")]),
    NetworkError("GET http://h/s: ReadError: gone"),
]


def test_tree() -> None:
    assert issubclass(SSEError, httpx_sse.SSEError)
    assert issubclass(SSEError, httpx.TransportError)
    assert issubclass(StatusError, ResponseError)
    assert issubclass(ContentTypeError, ResponseError)
    for cls in (ResponseError, EventTooLargeError, NetworkError):
        assert issubclass(cls, SSEError)


def test_response_errors_carry_what_a_caller_needs() -> None:
    status, content_type = ERRORS[1], ERRORS[2]
    assert isinstance(status, StatusError)
    assert (status.status_code, status.url, status.body) == (503, "http://h/s", "busy")
    assert status.headers == {"content-type": "text/plain", "retry-after": "3"}
    assert "503" in str(status)
    assert "busy" in str(status)
    assert isinstance(content_type, ContentTypeError)
    assert content_type.content_type == "text/html"
    assert "text/html" in str(content_type)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_copy_and_pickle_keep_everything(error: SSEError) -> None:
    for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert type(clone) is type(error)
        assert str(clone) == str(error)
        assert clone.args == error.args
        fields = {k: v for k, v in vars(error).items() if k != "events"}
        assert {k: v for k, v in vars(clone).items() if k != "events"} == fields
