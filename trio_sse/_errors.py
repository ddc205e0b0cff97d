"""The exceptions trio-sse raises, one small tree.

::

    httpx.TransportError
    └── httpx_sse.SSEError           code written against httpx-sse catches all of ours
        └── trio_sse.SSEError
            ├── ResponseError        the server answered, but not with an event stream
            │   ├── StatusError          a status other than 200 and 204 (carries a body excerpt)
            │   └── ContentTypeError     a 200 whose Content-Type is not text/event-stream
            ├── EventTooLargeError   an event or line beyond ``max_event_size``
            ├── NetworkError         the HTTP exchange failed (connect, send, receive, decode);
            │   │                    the httpx / httpx2 exception is ``__cause__``
            │   └── IdleTimeoutError     no byte arrived for ``idle_timeout`` seconds
            └── RetriesExhaustedError    the retry policy gave up; the last failure is
                                         ``last_error`` (and ``__cause__``)

Every exception keeps what a caller needs to decide what to do next, and survives
:func:`copy.copy` and :mod:`pickle` (the ``__cause__`` chain is not pickled, as always).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx_sse

__all__ = [
    "ContentTypeError",
    "EventTooLargeError",
    "IdleTimeoutError",
    "NetworkError",
    "ResponseError",
    "RetriesExhaustedError",
    "SSEError",
    "StatusError",
]


def _rebuild(cls: type[SSEError], args: tuple[Any, ...], state: dict[str, Any]) -> SSEError:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class SSEError(httpx_sse.SSEError):
    """Base class of every error trio-sse raises.

    A subclass of :class:`httpx_sse.SSEError` (and so of :class:`httpx.TransportError`),
    so ``except httpx_sse.SSEError`` in existing code catches trio-sse's errors too.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # The subclasses take keyword-only fields that ``args`` does not hold; rebuild
        # from the instance dict instead of calling ``__init__`` again.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ResponseError(SSEError):
    """The server answered, but not with an event stream. Raised before any event.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers, as a plain ``dict`` of lower-cased names.
        url: the URL that answered (after redirects).
    """

    def __init__(
        self, message: str, *, status_code: int, headers: Mapping[str, str], url: str
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.url = url


class StatusError(ResponseError):
    """The response status was neither 200 (a stream) nor 204 (the clean end).

    Only a 200 starts a stream, as in a browser's EventSource: a 205 or a 299 is an
    error too, and so is a redirect that is not followed (``follow_redirects=False``, a
    ``Location`` that is not an http(s) URL, or another origin while the client's default
    headers or query parameters carry credentials).

    Attributes:
        body: up to the first 2 KiB of the response body, decoded as UTF-8 with
            replacement, so the server's own explanation is at hand.
    """

    def __init__(
        self, *, status_code: int, headers: Mapping[str, str], url: str, body: str
    ) -> None:
        message = f"{url} answered {status_code}: {body[:200]!r}"
        super().__init__(message, status_code=status_code, headers=headers, url=url)
        self.body = body


class ContentTypeError(ResponseError):
    """A 200 response whose ``Content-Type`` is not ``text/event-stream``.

    Attributes:
        content_type: the header's value as sent, ``""`` when absent.
    """

    def __init__(
        self, *, content_type: str, status_code: int, headers: Mapping[str, str], url: str
    ) -> None:
        message = f"{url} answered {status_code} with Content-Type {content_type!r}, " + (
            "expected 'text/event-stream'"
        )
        super().__init__(message, status_code=status_code, headers=headers, url=url)
        self.content_type = content_type


class EventTooLargeError(SSEError):
    """One event's data, or one line, grew beyond ``max_event_size`` characters.

    The decoder raises this instead of buffering without bound; the stream cannot go on.

    Attributes:
        max_event_size: the limit that was exceeded.
        events: the events the same ``feed`` call completed before the limit was hit,
            in order; :func:`trio_sse.pump_events` delivers them before it raises.
    """

    def __init__(self, *, max_event_size: int, events: list[httpx_sse.ServerSentEvent]) -> None:
        super().__init__(f"an event or line exceeded max_event_size={max_event_size} characters")
        self.max_event_size = max_event_size
        self.events = events


class NetworkError(SSEError):
    """The HTTP exchange failed: connecting, sending, receiving or decoding the body.

    The exception from httpx (or httpx2) is chained as ``__cause__``; its message and
    class name are in this one's message.

    Attributes:
        transient: whether trying again could help (a connection refused, dropped or
            timed out), as opposed to a request that cannot work (an unsupported URL
            scheme, a body that does not decode, too many redirects); only transient
            failures are retried.
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class IdleTimeoutError(NetworkError):
    """No byte at all (not even a comment) arrived for ``idle_timeout`` seconds.

    The connection is treated as dropped: the stream's retry policy decides what follows.

    Attributes:
        idle_timeout: the limit, in seconds.
    """

    def __init__(self, *, idle_timeout: float, url: str) -> None:
        super().__init__(f"{url}: no data for {idle_timeout:g} s")
        self.idle_timeout = idle_timeout


class RetriesExhaustedError(SSEError):
    """The retry policy gave up: too many attempts in a row failed.

    Attributes:
        attempts: the attempts in a row that failed (the first one included).
        last_error: the last failure (:class:`NetworkError`, :class:`StatusError`, or
            ``None`` when the server just kept ending the stream without an event); also
            chained as ``__cause__``.
    """

    def __init__(self, *, attempts: int, last_error: SSEError | None) -> None:
        reason = "the stream ended without an event" if last_error is None else str(last_error)
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts in a row"
        super().__init__(f"gave up after {tries}; the last: {reason}")
        self.attempts = attempts
        self.last_error = last_error
