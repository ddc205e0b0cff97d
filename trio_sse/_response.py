"""Reading one HTTP response: translating its errors, checking it, iterating its body."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Final

from ._errors import ContentTypeError, NetworkError, SSEError, StatusError
from ._http import AsyncHTTPResponse, is_transient, raw_body, request_errors
from ._inflate import inflated_body

__all__ = ["as_network_errors", "body_chunks", "check_response"]

logger: Final = logging.getLogger("trio_sse")

_BODY_EXCERPT_BYTES: Final = 2048


class as_network_errors:  # lower case: used as a function, ``with as_network_errors(m, u):``
    """Translate the HTTP client's request errors into :class:`NetworkError`.

    A class, not a generator context manager: one less frame held by every open stream.
    """

    __slots__ = ("_method", "_url")

    def __init__(self, method: str, url: str) -> None:
        self._method = method
        self._url = url

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # httpx_sse.SSEError is an httpx.TransportError: ours pass through as they are
        if exc is None or isinstance(exc, SSEError) or not isinstance(exc, request_errors()):
            return
        raise NetworkError(
            f"{self._method} {self._url}: {type(exc).__name__}: {exc}",
            transient=is_transient(exc),
        ) from exc


class body_chunks:  # lower case: used as a function, ``async with body_chunks(r) as chunks``
    """The body's (content-decoded) chunks, closed promptly however the reader leaves.

    httpx implements its body iterators as async generators; one abandoned half-way would
    be left for the garbage collector, and Trio warns about that. A gzip or deflate body
    is inflated here in pieces of at most 64 KiB (:mod:`trio_sse._inflate`), not by
    httpx, which inflates each read whole: memory stays bounded whatever the ratio.
    ``__aenter__`` does not block (it is not a checkpoint); ``__aexit__`` awaits the
    iterator's ``aclose`` when it has one (the direct body path's has none: the
    response's close releases it), which httpx shields from cancellation. A class, not a
    generator context manager: one less frame held by every open stream.
    """

    __slots__ = ("_chunks",)

    def __init__(self, response: AsyncHTTPResponse) -> None:
        encoding = response.headers.get("content-encoding", "")
        chunks = inflated_body(response, encoding) if encoding else None
        self._chunks = raw_body(response) if chunks is None else chunks

    async def __aenter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def __aexit__(self, *exc_info: object) -> None:
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def check_response(response: AsyncHTTPResponse) -> None:
    """Raise unless the response is a 200 event stream, or a 204 (the clean end).

    Only a 200 starts a stream, as in a browser's EventSource: any other status (a 205,
    a 299, a redirect that is not followed) is a :class:`StatusError`, retried only if
    the policy lists it. A checkpoint when it reads an error body (its first 2 KiB).

    Raises:
        StatusError: neither 200 nor 204.
        ContentTypeError: a 200 whose ``Content-Type`` is not ``text/event-stream``.
    """
    status = response.status_code
    logger.debug("%s answered %d", response.url, status)
    if status not in (200, 204):
        raise StatusError(
            status_code=status,
            headers=response.headers,
            url=str(response.url),
            body=await _body_excerpt(response),
        )
    content_type = response.headers.get("content-type", "")
    if status == 200 and content_type.partition(";")[0].strip().lower() != "text/event-stream":
        raise ContentTypeError(
            content_type=content_type,
            status_code=status,
            headers=response.headers,
            url=str(response.url),
        )


async def _body_excerpt(response: AsyncHTTPResponse) -> str:
    """Up to the first 2 KiB of an error response's body; what arrived if reading fails."""
    parts: list[bytes] = []
    size = 0
    try:
        async with body_chunks(response) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size >= _BODY_EXCERPT_BYTES:
                    break
    except request_errors() as exc:
        logger.debug("reading the error body of %s failed: %r", response.url, exc)
    return b"".join(parts)[:_BODY_EXCERPT_BYTES].decode("utf-8", "replace")
