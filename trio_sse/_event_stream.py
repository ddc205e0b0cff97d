"""The receiving end a consumer holds: a Trio receive channel of events, plus the response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import trio
from httpx_sse import ServerSentEvent

from ._handoff import Handoff, HandoffChannel

__all__ = ["EventStream", "StreamState", "StreamStatistics"]


class StreamState(Handoff):
    """Shared by a pump and its stream: what the pump has done, and how the stream ended.

    Written by the pump only, except ``listening``: the stream cancels it when closed,
    which stops the pump wherever it waits (reading, sending, or waiting to retry).
    """

    __slots__ = ("attempts", "bytes_received", "events_sent", "last_error", "listening")

    def __init__(self) -> None:
        super().__init__()  # error: raised by receive after the events
        self.attempts = 0
        self.events_sent = 0
        self.bytes_received = 0
        self.last_error: Exception | None = None
        self.listening = trio.CancelScope()


@dataclass(frozen=True, slots=True)
class StreamStatistics:
    """A snapshot of one stream, from :meth:`EventStream.statistics`.

    Attributes:
        connection_attempts: connection attempts made, the first one included: each
            time the request was sent (or tried) anew, a redirect chain counting once.
        reconnects: attempts made after the stream had started (Last-Event-ID ones).
        events_delivered: events the consumer has received (with :meth:`fan_out`: the
            events a copy has taken).
        events_buffered: events handed to the stream and not received: the buffer's,
            the one the pump holds while it waits for room, and, after :meth:`close`,
            the ones the close discarded.
        bytes_received: body bytes read, over every connection (after content decoding).
        last_error: the last failure the pump saw, retried or not; ``None`` if none.
    """

    connection_attempts: int
    reconnects: int
    events_delivered: int
    events_buffered: int
    bytes_received: int
    last_error: Exception | None


class EventStream(HandoffChannel[ServerSentEvent]):
    """The events of one response, in order, as a Trio receive channel.

    ``async for event in stream`` receives until the stream ends. Closing the stream (or
    leaving ``async with stream``) tells the pump that nobody is listening any more: it
    closes the HTTP response and returns quietly. A channel distributes events, it does
    not broadcast them: for several consumers of every event, use :meth:`fan_out`.

    ``receive`` is always a cancellation point (cancelled, it takes no event, so none is
    lost), and a schedule point when it waits and at least once every 64 events. It
    raises :exc:`trio.EndOfChannel` at a clean end; the error that ended the stream
    (:class:`NetworkError`, :class:`EventTooLargeError`, :class:`StatusError`,
    :class:`RetriesExhaustedError`, ...) once every event before it has been received;
    :exc:`trio.ClosedResourceError` if the stream was closed or its pump cancelled.

    Attributes:
        status_code: the status of the latest response (it changes on a reconnect).
        headers: the latest response's headers (case-insensitive, as the client gives them).
        url: the URL that answered last, after redirects.
    """

    __slots__ = ("_first_attempt", "_state", "headers", "status_code", "url")

    def __init__(
        self,
        receive_channel: trio.MemoryReceiveChannel[ServerSentEvent],
        state: StreamState,
        *,
        status_code: int,
        headers: Mapping[str, str],
        url: str,
    ) -> None:
        super().__init__(receive_channel, state)
        self._state = state
        self._first_attempt = state.attempts  # the attempt that started the stream
        self.status_code = status_code
        self.headers = headers
        self.url = url

    def statistics(self) -> StreamStatistics:
        """What the stream has done so far: a frozen snapshot; not a checkpoint."""
        state = self._state
        # The pump counts an event as sent when it goes into the channel, or as it starts
        # to wait for room (uncounted if it never goes in); receives count deliveries.
        return StreamStatistics(
            connection_attempts=state.attempts,
            reconnects=state.attempts - self._first_attempt,
            events_delivered=state.delivered,
            events_buffered=state.events_sent - state.delivered,
            bytes_received=state.bytes_received,
            last_error=state.last_error,
        )

    def close(self) -> None:
        """Stop listening: the pump is cancelled wherever it waits (reading, sending, or
        waiting to retry), closes the response in its own task and returns quietly.

        Synchronous and idempotent; a stream already ended is not affected.
        """
        super().close()
        self._state.listening.cancel()

    def __repr__(self) -> str:
        return f"<trio_sse.EventStream {self.status_code} {self.url}>"
