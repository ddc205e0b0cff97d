"""The Trio side of the providers: a consumer task beside the pump, and the context manager.

Shape: the pump reads the HTTP response and sends SSE events on one channel; the
consumer, a sibling task in the same nursery, feeds them to a provider's sans-IO
interpreter and sends the neutral events on another. Both are thin loops.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol

import trio
from httpx_sse import ServerSentEvent

from .._decoder import DEFAULT_MAX_EVENT_SIZE
from .._errors import SSEError
from .._event_stream import EventStream
from .._groups import open_hidden_nursery
from .._handoff import Handoff, HandoffChannel
from .._http import AsyncHTTPClient
from .._pump import DEFAULT_MAX_BUFFER_SIZE, DEFAULT_RETRY_POLICY, pump_events
from .._retry import RetryPolicy
from ._interpreter import Interpreter
from ._request import ProviderName, provider_request
from ._vocabulary import Message, StreamEvent

__all__ = ["ProviderStream", "interpret_events", "open_provider_stream"]

_NEUTRAL_BUFFER: Final = DEFAULT_MAX_BUFFER_SIZE


class SSEEvents(Protocol):
    """Where a consumer reads SSE events: a receive channel of them with a synchronous
    ``close`` (an :class:`EventStream`, one of its ``fan_out`` copies, a memory channel)."""

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]: ...

    def close(self) -> None: ...


if TYPE_CHECKING:  # a default (PEP 696): a bare ``ProviderStream`` has an EventStream
    from typing_extensions import TypeVar

    E = TypeVar("E", bound=SSEEvents, default=EventStream)
else:
    from typing import TypeVar

    E = TypeVar("E", bound=SSEEvents)


class ProviderStream(HandoffChannel[StreamEvent], Generic[E]):
    """A provider's reply as neutral stream events, in order: a Trio receive channel.

    ``async for event in stream`` receives until the reply is complete. ``receive`` is
    always a cancellation point, a schedule point when it waits and at least every 64
    events; cancelled, it takes no event. After the last event it raises
    :exc:`trio.EndOfChannel` at a clean end (the provider's terminator arrived), or the
    error that ended the reply: a :class:`~trio_sse.providers.ProviderError` (the
    provider reported an error, the stream ended early, an event was malformed; its
    ``partial`` is the message so far) or the SSE stream's own failure
    (:class:`~trio_sse.NetworkError`, ...). Closing it stops the consumer and the pump.

    Attributes:
        events: the SSE events it reads: from :func:`open_provider_stream`, the
            :class:`~trio_sse.EventStream` underneath (``statistics()``, ``status_code``,
            ``headers``); from :func:`interpret_events`, the channel it was given.
    """

    __slots__ = ("_interpreter", "events")

    def __init__(
        self,
        receive_channel: trio.MemoryReceiveChannel[StreamEvent],
        handoff: Handoff,
        interpreter: Interpreter,
        events: E,
    ) -> None:
        super().__init__(receive_channel, handoff)
        self._interpreter = interpreter
        self.events = events

    @property
    def message(self) -> Message:
        """The message so far: complete once the stream has ended cleanly, partial after a
        failure (whatever the failure, network errors included). Not a checkpoint."""
        return self._interpreter.message

    @property
    def done(self) -> bool:
        """Whether the provider's terminator has arrived."""
        return self._interpreter.done

    def close(self) -> None:
        """Stop listening: the consumer stops, and closes the SSE stream. Synchronous."""
        super().close()
        self.events.close()


async def interpret_events(
    interpreter: Interpreter,
    events: E,
    *,
    max_buffer_size: int = _NEUTRAL_BUFFER,
    task_status: trio.TaskStatus[ProviderStream[E]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Feed ``events`` to ``interpreter``; send the neutral events on a :class:`ProviderStream`.

    A startable task, the sibling of a pump in the caller's nursery::

        events = await nursery.start(trio_sse.pump_events, client, "POST", url, ...)
        reply = await nursery.start(interpret_events, anthropic.Interpreter(), events)

    ``nursery.start`` returns at once with the stream. The task ends when ``events``
    ends (it then calls ``interpreter.finish()``), when the interpreter or ``events``
    raises an :class:`~trio_sse.SSEError` (handed to the stream, raised there after the
    events before it; ``events`` is closed, so the pump closes its response), or when the
    stream is closed (it closes ``events`` and returns quietly). Cancelled, or with
    ``events`` closed under it (its pump cancelled), it closes the stream: a reader
    elsewhere gets :exc:`trio.ClosedResourceError`, not a clean end.
    Anything else (a bug) propagates into the nursery after being handed to the stream.
    """
    send, receive = trio.open_memory_channel[StreamEvent](max_buffer_size)
    handoff = Handoff()
    task_status.started(ProviderStream(receive, handoff, interpreter, events))
    try:
        try:
            async for event in events:
                if not await _deliver(send, interpreter.feed(event)):
                    return  # nobody listens: closing ``events`` stops the pump
            interpreter.finish()
        finally:
            events.close()
    except SSEError as exc:
        handoff.error = exc
    except trio.ClosedResourceError:
        receive.close()  # ``events`` was closed under us (its pump cancelled): a cut, not an end
        return
    except trio.Cancelled:
        receive.close()
        raise
    except Exception as exc:
        handoff.error = exc
        send.close()
        raise
    except BaseException:
        receive.close()
        raise
    send.close()


async def _deliver(send: trio.MemorySendChannel[StreamEvent], out: list[StreamEvent]) -> bool:
    """Send ``out`` in order, without a schedule point while the buffer has room."""
    try:
        for event in out:
            try:
                send.send_nowait(event)
            except trio.WouldBlock:  # noqa: PERF203 (free on 3.11+; the buffer is full)
                await send.send(event)
    except trio.BrokenResourceError:
        return False
    return True


@asynccontextmanager
async def open_provider_stream(
    client: AsyncHTTPClient,
    provider: ProviderName,
    url: str,
    *,
    json: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    api_key: str | None = None,
    retry: RetryPolicy | None = DEFAULT_RETRY_POLICY,
    idle_timeout: float | None = None,
    max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    **request_kwargs: Any,
) -> AsyncGenerator[ProviderStream, None]:
    """POST a streaming request to a provider; yield its reply as a :class:`ProviderStream`.

    ::

        async with open_provider_stream(
            client, "anthropic", "https://api.anthropic.com/v1/messages",
            json={"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [...]},
            api_key=key,
        ) as reply:
            async for event in reply:
                if isinstance(event, TextDelta):
                    print(event.text, end="")
        message = reply.message

    The request is built for the provider (see :func:`provider_request`: auth header from
    ``api_key``, ``anthropic-version``, ``"stream": true``, OpenAI's ``include_usage``,
    Gemini's ``alt=sse``); ``url`` is the full endpoint (for Gemini,
    ``.../models/{model}:streamGenerateContent``). The pump and the interpreter run as
    sibling tasks in a nursery this context manager owns; leaving the block cancels both
    and closes the response.

    Retries follow ``retry`` before the reply's first byte (429, 529, 5xx, connect
    errors, with ``Retry-After``); a reply is never replayed once it has begun.
    Entering raises what :func:`trio_sse.open_event_stream` raises on entry; errors after
    that come from ``receive``, as :class:`ProviderStream` says, with the ExceptionGroup
    policy of :func:`trio_sse.open_event_stream`.
    """
    request = provider_request(provider, url, json=json, headers=headers, api_key=api_key)
    pump = partial(
        pump_events,
        client,
        "POST",
        request.url,
        headers=request.headers,
        json=request.json,
        params=request.params,
        retry=retry,
        reconnect=False,
        idle_timeout=idle_timeout,
        max_buffer_size=max_buffer_size,
        max_event_size=max_event_size,
        **request_kwargs,
    )
    async with open_hidden_nursery() as nursery:
        events: EventStream = await nursery.start(pump)
        consumer = partial(interpret_events, request.interpreter(), events)
        reply: ProviderStream = await nursery.start(consumer)
        try:
            yield reply
        finally:
            reply.close()
