"""The one seam between trio-sse and its HTTP client.

Everything trio-sse needs from a client is in the two Protocols below, so an
``httpx.AsyncClient`` and an ``httpx2.AsyncClient`` serve alike, and this is the only
module that imports httpx. httpx2 is never imported here: when a caller's client is an
httpx2 one, httpx2 is in ``sys.modules`` already, and its errors are recognised from there.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from types import ModuleType
from typing import Any, Protocol, TypeAlias, cast

import httpx

__all__ = [
    "AsyncHTTPClient",
    "AsyncHTTPResponse",
    "HeadersInput",
    "TransportBase",
    "httpx_module",
    "is_transient",
    "new_client",
    "raw_body",
    "request_errors",
    "sse_request_headers",
    "streaming_timeout",
]

HeadersInput: TypeAlias = "Mapping[str, str] | Iterable[tuple[str, str]] | None"
"""Request headers as a caller may give them: a mapping, pairs, or nothing."""


class _Timeout(Protocol):
    @property
    def connect(self) -> float | None: ...
    @property
    def write(self) -> float | None: ...
    @property
    def pool(self) -> float | None: ...


class AsyncHTTPResponse(Protocol):
    """The part of ``httpx.Response`` / ``httpx2.Response`` that trio-sse uses."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def url(self) -> object: ...
    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]: ...


class AsyncHTTPClient(Protocol):
    """The part of ``httpx.AsyncClient`` / ``httpx2.AsyncClient`` that trio-sse uses."""

    @property
    def timeout(self) -> _Timeout: ...
    def stream(
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> AbstractAsyncContextManager[AsyncHTTPResponse]: ...


def raw_body(response: AsyncHTTPResponse) -> AsyncIterator[bytes]:
    """The body's chunks, read straight from the transport when nothing needs decoding.

    ``aiter_bytes`` runs each chunk through two more async generators of httpx's
    (``aiter_raw`` and itself) and a content decoder: about a microsecond a chunk, a
    tenth of the whole cost of a chunk on a token stream. A body without a
    ``Content-Encoding`` comes out of them unchanged, so it is read from
    ``response.stream`` itself, marked consumed as ``aiter_raw`` would mark it; errors are
    httpx's either way (the transport's stream raises them). A compressed body, or a
    response that is not a plain httpx / httpx2 one, goes through ``aiter_bytes``.
    """
    stream = getattr(response, "stream", None)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if (
        encoding in ("identity", "")
        and isinstance(stream, AsyncIterable)
        and getattr(response, "is_stream_consumed", True) is False
        and getattr(response, "is_closed", True) is False
    ):
        response.is_stream_consumed = True  # type: ignore[attr-defined]  # checked above
        return cast("AsyncIterable[bytes]", stream).__aiter__()
    return response.aiter_bytes()


def httpx_module() -> ModuleType:
    """httpx itself, for :mod:`trio_sse.testing`, which builds httpx objects."""
    return httpx


TransportBase: TypeAlias = httpx.AsyncBaseTransport
"""httpx's transport base class, for :mod:`trio_sse.testing`'s transport to extend."""


def request_errors() -> tuple[type[Exception], ...]:
    """The exception classes that mean the HTTP exchange itself failed.

    ``httpx.RequestError`` (transport errors, body decoding errors, too many redirects),
    and httpx2's when httpx2 is loaded. Evaluated in an ``except`` clause, so only when an
    exception is already being handled.
    """
    httpx2 = sys.modules.get("httpx2")
    if httpx2 is None:
        return (httpx.RequestError,)
    return (httpx.RequestError, httpx2.RequestError)


def is_transient(error: Exception) -> bool:
    """Whether a request error of httpx's (or httpx2's) might not happen on a new try.

    Connecting, reading, writing, timeouts and a server breaking the protocol mid-body
    are; an unsupported scheme, a bad URL, our own protocol error, a body that does not
    decode and too many redirects are not.
    """
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"})


def new_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient``, for the command line, which must make a client of its own."""
    return httpx.AsyncClient(**kwargs)


def streaming_timeout(client: AsyncHTTPClient) -> tuple[float | None, ...]:
    """The client's own timeouts, but no read timeout.

    An event stream may rightly stay silent for minutes; httpx's default 5 s read timeout
    would kill it. Callers bound time with Trio cancel scopes instead. The tuple form
    (connect, read, write, pool) is understood by httpx and httpx2 alike.
    """
    timeout = client.timeout
    return (timeout.connect, None, timeout.write, timeout.pool)


_SSE_HEADERS = (("Accept", "text/event-stream"), ("Cache-Control", "no-store"))
_IDENTITY = ("Accept-Encoding", "identity")
"""No compression by default: events are small and sent as they happen, so a compressed
stream saves little, and a compressed body can be a bomb (a server that compresses
anyway is inflated in bounded pieces all the same)."""


def sse_request_headers(headers: HeadersInput) -> list[tuple[str, str]]:
    """The caller's headers plus ``Accept``, ``Cache-Control`` and ``Accept-Encoding``.

    A header the caller set wins (some servers want ``Accept: application/json,
    text/event-stream``; ``Accept-Encoding: gzip`` asks for compression again); the
    caller's object is never modified.
    """
    given: list[tuple[str, str]]
    if headers is None:
        given = []
    elif isinstance(headers, Mapping):
        given = list(cast("Mapping[str, str]", headers).items())
    else:
        given = list(headers)
    names = {name.lower() for name, _ in given}
    defaults = (*_SSE_HEADERS, _IDENTITY)
    return [*(pair for pair in defaults if pair[0].lower() not in names), *given]
