"""The one seam between trio-sse and its HTTP client.

Everything trio-sse needs from a client is in the two Protocols below, so an
``httpx.AsyncClient`` and an ``httpx2.AsyncClient`` serve alike, and this is the only
module that imports httpx (besides :mod:`trio_sse._h11_body`, the direct body path behind
:func:`raw_body`, which only this module loads). httpx2 is never imported here: when a
caller's client is an httpx2 one, httpx2 is in ``sys.modules`` already, and its errors are
recognised from there.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from http.cookiejar import Cookie, CookieJar
from types import ModuleType
from typing import Any, Final, Protocol, TypeAlias, cast

import httpx

__all__ = [
    "AsyncHTTPClient",
    "AsyncHTTPResponse",
    "HeadersInput",
    "RequestHeaders",
    "TransportBase",
    "client_defaults",
    "header_pairs",
    "httpx_module",
    "is_transient",
    "is_unsent",
    "last_event_id_value",
    "new_client",
    "origin_kept",
    "raw_body",
    "request_errors",
    "resolve_location",
    "shared_cookies",
    "sse_request_headers",
    "streaming_timeout",
]

HeadersInput: TypeAlias = (
    Mapping[str, str | bytes]
    | Mapping[bytes, str | bytes]
    | Iterable[tuple[str | bytes, str | bytes]]
    | None
)
"""Request headers as a caller may give them: a mapping, pairs, or nothing; names and
values as ``str`` or ``bytes``, as httpx takes them."""

RequestHeaders: TypeAlias = "list[tuple[str, str | bytes]]"
"""Request headers as trio-sse sends them: a value is ``bytes`` where it is not ASCII
(httpx encodes a ``str`` value as ASCII, and raises for anything else)."""


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


def _no_direct_body(response: object) -> None:
    """Every body is read from ``response.stream``."""


def _direct_body_reader() -> Callable[[object], AsyncIterator[bytes] | None]:
    """:func:`trio_sse._h11_body.h11_body`, unless httpx or httpcore moved a private module."""
    try:
        from ._h11_body import h11_body  # here: its absence must not break the import
    except ImportError:  # pragma: no cover (the tested versions have every module it uses)
        return _no_direct_body
    return h11_body


_direct_body: Final = _direct_body_reader()


def raw_body(response: AsyncHTTPResponse) -> AsyncIterator[bytes]:
    """The body's chunks, read straight from the transport when nothing needs decoding.

    ``aiter_bytes`` runs each chunk through two more async generators of httpx's
    (``aiter_raw`` and itself) and a content decoder: about a microsecond a chunk, a
    tenth of the whole cost of a chunk on a token stream. A body without a
    ``Content-Encoding`` comes out of them unchanged, so it is read from
    ``response.stream`` itself, marked consumed as ``aiter_raw`` would mark it; errors are
    httpx's either way (the transport's stream raises them). A compressed body, or a
    response that is not a plain httpx / httpx2 one, goes through ``aiter_bytes``.

    Over httpx's own HTTP/1.1 connection, shorter still: the direct body path of
    :mod:`trio_sse._h11_body` reads the connection's h11 parser and socket itself, one
    piece per socket read, where its gate allows (and ``response.stream`` otherwise).
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
        direct = _direct_body(response)
        if direct is not None:
            return direct
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


def is_unsent(error: BaseException) -> bool:
    """Whether a request error of httpx's (or httpx2's) certainly came before any byte of
    the request was written: connecting (refused, timed out) or waiting for a pooled
    connection. A read error, a write error or a protocol error may come after the server
    took the request."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"ConnectError", "ConnectTimeout", "PoolTimeout"})


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


_SSE_HEADERS = (("Accept", "text/event-stream"), ("Cache-Control", "no-cache"))
_IDENTITY = ("Accept-Encoding", "identity")
"""No compression by default: events are small and sent as they happen, so a compressed
stream saves little, and a compressed body can be a bomb (a server that compresses
anyway is inflated in bounded pieces all the same)."""


def sse_request_headers(headers: HeadersInput) -> RequestHeaders:
    """The caller's headers plus ``Accept``, ``Cache-Control: no-cache`` (what a browser's
    EventSource sends) and ``Accept-Encoding: identity`` for an event stream.

    A header the caller set wins (some servers want ``Accept: application/json,
    text/event-stream``; ``Accept-Encoding: gzip`` asks for compression again); the
    caller's object is never modified.
    """
    given = header_pairs(headers)
    names = {name.lower() for name, _ in given}
    defaults = (*_SSE_HEADERS, _IDENTITY)
    return [*(pair for pair in defaults if pair[0].lower() not in names), *given]


def header_pairs(headers: HeadersInput) -> tuple[tuple[str, str | bytes], ...]:
    """Headers as a caller may give them, as ``(name, value)`` pairs in order.

    A name given as ``bytes`` is decoded (Latin-1, which takes any byte: a name outside
    ASCII is refused by httpx when it is sent), so names compare as ``str`` everywhere;
    values are kept as given.
    """
    if headers is None:
        return ()
    pairs: Iterable[tuple[str | bytes, str | bytes]] = (
        cast("Mapping[str | bytes, str | bytes]", headers).items()
        if isinstance(headers, Mapping)
        else headers
    )
    return tuple(
        (name.decode("latin-1") if isinstance(name, bytes) else name, value)
        for name, value in pairs
    )


_FIELD_VALUE_BYTES = frozenset(b" \t" + bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100)))
"""What RFC 9110 allows in a field value: visible ASCII, obs-text, and SP / HTAB inside."""


def last_event_id_value(last_event_id: str) -> bytes | None:
    """The ``Last-Event-ID`` header value for an event ID; ``None`` if it cannot be sent.

    The ID's UTF-8 bytes, as the WHATWG rules send it (httpx would encode a ``str`` as
    ASCII and raise for anything else). Leading and trailing spaces and tabs are removed:
    a header cannot carry them (h11 refuses them, and a server's parser strips them
    anyway, as fetch normalizes a header value). An ID that still holds a byte no HTTP
    field value may hold (a control character: h11 refuses vertical tab and form feed,
    and a strict server answers 400 to the rest), or that is only whitespace, gives
    ``None``: the caller sends no ``Last-Event-ID`` rather than a request that fails.
    """
    try:
        value = last_event_id.encode("utf-8").strip(b" \t")
    except UnicodeEncodeError:  # a lone surrogate (the decoder never makes one)
        return None
    if not value or not _FIELD_VALUE_BYTES.issuperset(value):
        return None
    return value


def resolve_location(url: str, location: str) -> str | None:
    """A redirect's ``Location`` resolved against the URL that answered, parsed as httpx
    parses URLs (the same parser the client sends with, so origins are compared on what
    is really sent); ``None`` if it is not a valid ``http`` or ``https`` URL."""
    try:
        target = httpx.URL(url).join(location.strip())
    except (httpx.InvalidURL, ValueError):
        return None
    if target.scheme not in ("http", "https") or not target.host:
        return None
    return str(target)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme))


def origin_kept(url: str, target: str) -> bool:
    """Whether a redirect from ``url`` to ``target`` stays on one origin (scheme, host,
    port), or only upgrades ``http`` to ``https`` on the same host and default ports (as
    httpx rules for ``Authorization``): credentials may go along only then."""
    before, after = _origin(httpx.URL(url)), _origin(httpx.URL(target))
    if before == after:
        return True
    (scheme, host, port), (new_scheme, new_host, new_port) = before, after
    return (scheme, port, new_scheme, new_port) == ("http", 80, "https", 443) and host == new_host


def client_defaults(client: AsyncHTTPClient) -> dict[str, list[str]]:
    """The names of the headers and query parameters the client adds to every request
    (``AsyncClient(headers=..., params=...)``): ``{"headers": [...], "params": [...]}``.

    A request cannot take them off: ``headers=`` and ``params=`` are merged into them.
    """
    names: dict[str, list[str]] = {}
    for kind in ("headers", "params"):
        defaults = getattr(client, kind, None)
        names[kind] = (
            list(cast("Mapping[str, str]", defaults)) if isinstance(defaults, Mapping) else []
        )
    return names


def _sent_to(cookie: Cookie, url: str) -> bool:
    jar = CookieJar()  # the standard policy, httpx's: domain, path, secure, expiry
    jar.set_cookie(cookie)
    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    return request.has_header("Cookie")


def shared_cookies(client: AsyncHTTPClient, url: str, target: str) -> list[str]:
    """The names of the cookies in the client's jar that it would send both to ``url``
    and to ``target``: the first origin's cookies that a redirect would carry along.

    A cookie set without a domain (``AsyncClient(cookies={...})``) goes to every host; a
    cookie whose domain covers both hosts goes to both. One scoped to ``target`` alone
    (a server's own, a load balancer's session) is not the first origin's to leak.
    """
    jar = getattr(getattr(client, "cookies", None), "jar", None)
    if not isinstance(jar, CookieJar):
        return []
    return sorted({c.name for c in jar if _sent_to(c, url) and _sent_to(c, target)})
