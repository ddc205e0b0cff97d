"""Reading one HTTP response: translating its errors, checking it, iterating its body."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Final

from ._errors import ContentTypeError, NetworkError, SSEError, StatusError
from ._http import AsyncHTTPResponse, is_transient, raw_body, request_errors
from ._inflate import inflated_body

__all__ = ["as_network_errors", "body_chunks", "check_response"]

logger: Final = logging.getLogger("trio_sse")

_BODY_EXCERPT_BYTES: Final = 2048


@contextmanager
def as_network_errors(method: str, url: str) -> Generator[None, None, None]:
    """Translate the HTTP client's request errors into :class:`NetworkError`."""
    try:
        yield
    except SSEError:
        raise  # httpx_sse.SSEError is an httpx.TransportError: ours pass through as they are
    except request_errors() as exc:
        raise NetworkError(
            f"{method} {url}: {type(exc).__name__}: {exc}", transient=is_transient(exc)
        ) from exc


@asynccontextmanager
async def body_chunks(response: AsyncHTTPResponse) -> AsyncGenerator[AsyncIterator[bytes], None]:
    """The body's (content-decoded) chunks, closed promptly however the reader leaves.

    httpx implements its body iterators as async generators; one abandoned half-way would
    be left for the garbage collector, and Trio warns about that. A gzip or deflate body
    is inflated here in pieces of at most 64 KiB (:mod:`trio_sse._inflate`), not by
    httpx, which inflates each read whole: memory stays bounded whatever the ratio.
    """
    encoding = response.headers.get("content-encoding", "")
    chunks = inflated_body(response, encoding) if encoding else None
    if chunks is None:
        chunks = raw_body(response)
    try:
        yield chunks
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def check_response(response: AsyncHTTPResponse) -> None:
    """Raise unless the response is a 2xx event stream (or a 204, an empty one)."""
    status = response.status_code
    logger.debug("%s answered %d", response.url, status)
    if not 200 <= status < 300:
        raise StatusError(
            status_code=status,
            headers=response.headers,
            url=str(response.url),
            body=await _body_excerpt(response),
        )
    content_type = response.headers.get("content-type", "")
    if status != 204 and content_type.partition(";")[0].strip().lower() != "text/event-stream":
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
