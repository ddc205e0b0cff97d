"""The receiving end a consumer holds: a Trio receive channel of events, plus the response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import trio
from httpx_sse import ServerSentEvent

__all__ = ["EventStream", "StreamState", "StreamStatistics"]

_SCHEDULE_EVERY = 64
"""Receives that may take a buffered event without a schedule point, before one must."""


class StreamState:
    """Shared by a pump and its stream: what the pump has done, and how the stream ended.

    Written by the pump only, except ``backoff``, which the stream cancels to wake a pump
    waiting to retry when nobody is listening any more.
    """

    __slots__ = ("attempts", "backoff", "bytes_received", "error", "events_sent", "last_error")

    def __init__(self) -> None:
        self.error: BaseException | None = None  # raised by receive after the events
        self.attempts = 0
        self.events_sent = 0
        self.bytes_received = 0
        self.last_error: Exception | None = None
        self.backoff: trio.CancelScope | None = None


@dataclass(frozen=True, slots=True)
class StreamStatistics:
    """A snapshot of one stream, from :meth:`EventStream.statistics`.

    Attributes:
        connection_attempts: requests sent, the first one included.
        reconnects: connections made after the stream had started (Last-Event-ID ones).
        events_delivered: events the consumer has received.
        events_buffered: events decoded and waiting for the consumer.
        bytes_received: body bytes read, over every connection (after content decoding).
        last_error: the last failure the pump saw, retried or not; ``None`` if none.
    """

    connection_attempts: int
    reconnects: int
    events_delivered: int
    events_buffered: int
    bytes_received: int
    last_error: Exception | None


class EventStream(trio.abc.ReceiveChannel[ServerSentEvent]):
    """The events of one response, in order, as a Trio receive channel.

    ``async for event in stream`` receives until the stream ends. Closing the stream (or
    leaving ``async with stream``) tells the pump that nobody is listening any more: it
    closes the HTTP response and returns quietly. One consumer per stream: a channel
    distributes events, it does not broadcast them.

    Attributes:
        status_code: the status of the latest response (it changes on a reconnect).
        headers: the latest response's headers (case-insensitive, as the client gives them).
        url: the URL that answered last, after redirects.
    """

    __slots__ = (
        "_first_attempt",
        "_receive",
        "_state",
        "_unyielded",
        "headers",
        "status_code",
        "url",
    )

    def __init__(
        self,
        receive_channel: trio.MemoryReceiveChannel[ServerSentEvent],
        state: StreamState,
        *,
        status_code: int,
        headers: Mapping[str, str],
        url: str,
    ) -> None:
        self._receive = receive_channel
        self._state = state
        self._unyielded = 0  # receives since the last schedule point
        self._first_attempt = state.attempts  # the attempt that started the stream
        self.status_code = status_code
        self.headers = headers
        self.url = url

    async def receive(self) -> ServerSentEvent:
        """Wait for the next event.

        Always a cancellation point: cancelled, it raises before taking an event, so none
        is lost. A schedule point when it has to wait, and otherwise once every 64 events:
        a consumer of a fast stream still lets other tasks run, without paying a trip
        through Trio's scheduler (several microseconds) for each event.

        Raises:
            trio.EndOfChannel: the stream ended cleanly and every event was received.
            NetworkError | EventTooLargeError: the stream failed; raised once every event
                decoded before the failure has been received, and on every call after.
            trio.ClosedResourceError: this stream was closed, or its pump cancelled.
            Exception: whatever unexpected exception crashed the pump (see
                :func:`pump_events`), after the events before it.
        """
        self._unyielded += 1
        if self._unyielded < _SCHEDULE_EVERY:  # a cancellation point, scheduling nothing
            await trio.lowlevel.checkpoint_if_cancelled()
        else:
            self._unyielded = 0
            await trio.lowlevel.checkpoint()
        try:
            try:
                return self._receive.receive_nowait()
            except trio.WouldBlock:
                pass
            return await self._receive.receive()  # outside that except: nothing chained
        except trio.EndOfChannel:
            if self._state.error is None:
                raise
        raise self._state.error  # outside the except: no EndOfChannel chained onto it

    def receive_nowait(self) -> ServerSentEvent:
        """Take the next event if one is buffered, without blocking; not a checkpoint.

        Raises:
            trio.WouldBlock: no event is buffered yet.
            trio.EndOfChannel | NetworkError | EventTooLargeError | trio.ClosedResourceError:
                as :meth:`receive`.
        """
        try:
            return self._receive.receive_nowait()
        except trio.EndOfChannel:
            if self._state.error is None:
                raise
        raise self._state.error

    def statistics(self) -> StreamStatistics:
        """What the stream has done so far: a frozen snapshot; not a checkpoint."""
        state = self._state
        buffered = self._receive.statistics().current_buffer_used
        return StreamStatistics(
            connection_attempts=state.attempts,
            reconnects=state.attempts - self._first_attempt,
            events_delivered=state.events_sent - buffered,
            events_buffered=buffered,
            bytes_received=state.bytes_received,
            last_error=state.last_error,
        )

    def close(self) -> None:
        """Stop listening; the pump closes the response (or stops waiting to retry).

        Synchronous and idempotent.
        """
        self._receive.close()
        if self._state.backoff is not None:
            self._state.backoff.cancel()

    async def aclose(self) -> None:
        """Like :meth:`close`, and a checkpoint."""
        self.close()
        await trio.lowlevel.checkpoint()

    def __repr__(self) -> str:
        return f"<trio_sse.EventStream {self.status_code} {self.url}>"
