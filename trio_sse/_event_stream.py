"""The receiving end a consumer holds: a Trio receive channel of events, plus the response."""

from __future__ import annotations

from collections.abc import Mapping

import trio
from httpx_sse import ServerSentEvent

__all__ = ["EventStream", "StreamOutcome"]

_SCHEDULE_EVERY = 64
"""Receives that may take a buffered event without a schedule point, before one must."""


class StreamOutcome:
    """Shared by a pump and its stream: the error that ended the stream, if one did."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: BaseException | None = None


class EventStream(trio.abc.ReceiveChannel[ServerSentEvent]):
    """The events of one response, in order, as a Trio receive channel.

    ``async for event in stream`` receives until the stream ends. Closing the stream (or
    leaving ``async with stream``) tells the pump that nobody is listening any more: it
    closes the HTTP response and returns quietly. One consumer per stream: a channel
    distributes events, it does not broadcast them.

    Attributes:
        status_code: the response's status.
        headers: the response's headers (case-insensitive, as the HTTP client gives them).
        url: the URL that answered, after redirects.
    """

    __slots__ = ("_outcome", "_receive", "_unyielded", "headers", "status_code", "url")

    def __init__(
        self,
        receive_channel: trio.MemoryReceiveChannel[ServerSentEvent],
        outcome: StreamOutcome,
        *,
        status_code: int,
        headers: Mapping[str, str],
        url: str,
    ) -> None:
        self._receive = receive_channel
        self._outcome = outcome
        self._unyielded = 0  # receives since the last schedule point
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
            if self._outcome.error is None:
                raise
        raise self._outcome.error  # outside the except: no EndOfChannel chained onto it

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
            if self._outcome.error is None:
                raise
        raise self._outcome.error

    def close(self) -> None:
        """Stop listening; the pump closes the response. Synchronous, idempotent."""
        self._receive.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, and a checkpoint."""
        await self._receive.aclose()

    def __repr__(self) -> str:
        return f"<trio_sse.EventStream {self.status_code} {self.url}>"
