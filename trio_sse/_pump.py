"""The pump: one task that reads a response, decodes it and sends events on a channel."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final

import trio
from httpx_sse import ServerSentEvent

from ._decoder import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from ._errors import (
    ContentTypeError,
    EventTooLargeError,
    NetworkError,
    SSEError,
    StatusError,
)
from ._event_stream import EventStream, StreamOutcome
from ._http import (
    AsyncHTTPClient,
    AsyncHTTPResponse,
    HeadersInput,
    request_errors,
    sse_request_headers,
    streaming_timeout,
)

__all__ = ["DEFAULT_MAX_BUFFER_SIZE", "pump_events"]

logger: Final = logging.getLogger("trio_sse")

DEFAULT_MAX_BUFFER_SIZE: Final = 64
"""Events held between the pump and a consumer that has not caught up.

With the default ``max_event_size`` this bounds a slow consumer's backlog; beyond it
the pump stops reading, TCP's window fills and the server is slowed down instead.
"""

_BODY_EXCERPT_BYTES: Final = 2048


async def pump_events(
    client: AsyncHTTPClient,
    method: str,
    url: str,
    *,
    headers: HeadersInput = None,
    max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    task_status: trio.TaskStatus[EventStream] = trio.TASK_STATUS_IGNORED,
    **request_kwargs: Any,
) -> None:
    """Stream one request's events into an :class:`EventStream`; for ``nursery.start``.

    The lower tier, for callers who own a nursery and want their consumers to run as
    sibling tasks of the pump::

        stream = await nursery.start(trio_sse.pump_events, client, "GET", url)

    (Keyword arguments go through :func:`functools.partial`.) The request carries
    ``Accept: text/event-stream`` and ``Cache-Control: no-store`` unless ``headers`` sets
    them, and no read timeout unless ``timeout=`` is given: bound time with a cancel scope.

    ``nursery.start`` returns once the response has been checked: errors up to then are
    raised there, unwrapped. From then on the pump sends each event on the stream and
    ends in one of five ways:

    - the body ends: the pump returns; the consumer receives every event, then the end;
    - the stream fails (:class:`NetworkError`, :class:`EventTooLargeError`): the pump
      hands the error to the stream and returns; the consumer receives every event decoded
      before the failure, then :meth:`EventStream.receive` raises the error. A failure is
      never shown as a clean end, and never cancels a consumer that still has events to
      take;
    - the consumer closes the stream: the pump closes the response and returns quietly;
    - the pump is cancelled (its nursery, or any scope around it): it closes the response
      in this task and the stream with it; a consumer outside the cancelled scope gets
      :exc:`trio.ClosedResourceError` rather than a clean end;
    - something below it fails unexpectedly (a transport bug, not a stream failure): it
      re-raises that exception into its nursery, which cancels the consumers there; a
      consumer elsewhere receives its events, then the same exception.

    Args:
        client: an ``httpx.AsyncClient`` or ``httpx2.AsyncClient``.
        method: the HTTP method.
        url: the URL, absolute or relative to the client's ``base_url``.
        headers: extra request headers.
        max_buffer_size: events buffered for a consumer that lags; then the pump waits,
            and the server is slowed down by TCP flow control.
        max_event_size: the decoder's limit (see :class:`SSEDecoder`).
        request_kwargs: anything else the client's ``stream()`` takes (``json=``,
            ``params=``, ``content=``, ``timeout=``, ...).

    Raises:
        StatusError: the status was not 2xx (from ``nursery.start``).
        ContentTypeError: a 2xx, but not ``text/event-stream`` (from ``nursery.start``).
        NetworkError: connecting failed (from ``nursery.start``).
        ValueError: a limit out of range, before any request.
    """
    decoder = SSEDecoder(max_event_size=max_event_size)  # bad limits fail before any I/O
    if max_buffer_size < 0:
        raise ValueError(f"max_buffer_size must be 0 or more, got {max_buffer_size}")
    request_kwargs.setdefault("timeout", streaming_timeout(client))
    send, receive = trio.open_memory_channel[ServerSentEvent](max_buffer_size)
    outcome = StreamOutcome()
    started = False
    logger.debug("connecting: %s %s", method, url)
    try:
        with _as_network_errors(method, url):
            async with client.stream(
                method, url, headers=sse_request_headers(headers), **request_kwargs
            ) as response:
                await _check_response(response)
                stream = EventStream(
                    receive,
                    outcome,
                    status_code=response.status_code,
                    headers=response.headers,
                    url=str(response.url),
                )
                task_status.started(stream)
                started = True
                if response.status_code == 204:
                    logger.debug("204 No Content from %s: the stream is empty", response.url)
                else:
                    await _forward(response, decoder, send)
    except SSEError as exc:
        if not started:
            raise
        logger.debug("stream failed, error handed to the consumer: %r", exc)
        outcome.error = exc  # raised by the stream after the events already sent
    except trio.Cancelled:
        # Consumers in the cancelled scope have their Cancelled already; one outside it
        # must neither wait forever nor mistake the cut for the end.
        receive.close()
        raise
    except Exception as exc:
        # Not a stream failure but a bug (in a transport, say): it propagates through
        # the nursery, and a consumer anywhere gets the same exception after its events.
        if started:
            outcome.error = exc
            send.close()
        raise
    except BaseException:
        receive.close()  # KeyboardInterrupt and the like: no consumer may wait on
        raise
    # Closed only after the response is closed and the outcome settled, synchronously, so
    # no consumer acts on the end while this task could still be cancelled into silence.
    send.close()


@contextmanager
def _as_network_errors(method: str, url: str) -> Generator[None, None, None]:
    """Translate the HTTP client's request errors into :class:`NetworkError`."""
    try:
        yield
    except SSEError:
        raise  # httpx_sse.SSEError is an httpx.TransportError: ours pass through as they are
    except request_errors() as exc:
        raise NetworkError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc


async def _forward(
    response: AsyncHTTPResponse,
    decoder: SSEDecoder,
    send: trio.MemorySendChannel[ServerSentEvent],
) -> None:
    """Decode the body onto ``send`` until it ends or the receiver goes away."""
    received = delivered = 0
    async with _body_chunks(response) as chunks:
        async for chunk in chunks:
            received += len(chunk)
            try:
                events = decoder.feed(chunk)
            except EventTooLargeError as exc:
                if not await _deliver(send, exc.events):
                    return  # the receiver left first: the error is nobody's now
                logger.debug("closing %s: %s", response.url, exc)
                raise
            if not await _deliver(send, events):
                logger.debug("receiver gone: closing %s", response.url)
                return
            delivered += len(events)
    logger.debug("stream ended: %s (%d bytes, %d events)", response.url, received, delivered)


async def _deliver(
    send: trio.MemorySendChannel[ServerSentEvent], events: list[ServerSentEvent]
) -> bool:
    """Send ``events`` in order; ``False`` once every receiver has gone.

    An event that fits in the buffer goes in without a schedule point (``send`` would
    take one per event): the pump yields when its socket read or a full buffer blocks.
    """
    try:
        for event in events:
            try:
                send.send_nowait(event)
            except trio.WouldBlock:  # noqa: PERF203 (free on 3.11+; the buffer is full)
                await send.send(event)
    except trio.BrokenResourceError:
        return False
    return True


@asynccontextmanager
async def _body_chunks(response: AsyncHTTPResponse) -> AsyncGenerator[AsyncIterator[bytes], None]:
    """The body's (content-decoded) chunks, closed promptly however the reader leaves.

    httpx implements ``aiter_bytes`` as an async generator; one abandoned half-way would be
    left for the garbage collector, and Trio warns about that.
    """
    chunks = response.aiter_bytes()
    try:
        yield chunks
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


async def _check_response(response: AsyncHTTPResponse) -> None:
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
        async with _body_chunks(response) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size >= _BODY_EXCERPT_BYTES:
                    break
    except request_errors() as exc:
        logger.debug("reading the error body of %s failed: %r", response.url, exc)
    return b"".join(parts)[:_BODY_EXCERPT_BYTES].decode("utf-8", "replace")
