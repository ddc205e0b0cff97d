"""The receiving end a consumer holds: a Trio receive channel of events, plus the response."""

from __future__ import annotations

from collections.abc import Mapping

import trio
from httpx_sse import ServerSentEvent

__all__ = ["EventStream", "StreamOutcome"]


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

    __slots__ = ("_outcome", "_receive", "headers", "status_code", "url")

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
        self.status_code = status_code
        self.headers = headers
        self.url = url

    async def receive(self) -> ServerSentEvent:
        """Wait for the next event.

        A checkpoint: it can be cancelled, and then no event is lost.

        Raises:
            trio.EndOfChannel: the stream ended cleanly and every event was received.
            NetworkError | EventTooLargeError: the stream failed; raised once every event
                decoded before the failure has been received, and on every call after.
            trio.ClosedResourceError: this stream was closed, or its pump cancelled.
            Exception: whatever unexpected exception crashed the pump (see
                :func:`pump_events`), after the events before it.
        """
        try:
            return await self._receive.receive()
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
