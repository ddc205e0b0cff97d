"""The Trio side of the providers: a consumer task beside the pump, and the context manager.

Shape: the pump reads the HTTP response and sends SSE events on one channel; the
consumer, a sibling task in the same nursery, feeds them to a provider's sans-IO
interpreter and sends the neutral events on another. Both are thin loops.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol

import trio
from httpx_sse import ServerSentEvent

from .._decoder import DEFAULT_MAX_EVENT_SIZE
from .._errors import RetriesExhaustedError, SSEError, StatusError
from .._event_stream import EventStream
from .._groups import open_hidden_nursery
from .._handoff import Handoff, HandoffChannel
from .._http import AsyncHTTPClient
from .._pump import (
    DEFAULT_MAX_BUFFER_BYTES,
    DEFAULT_MAX_BUFFER_SIZE,
    DEFAULT_RETRY_POLICY,
    pump_events,
)
from .._retry import RetryPolicy
from ._errors import (
    InterruptedStreamError,
    ProviderError,
    ProviderStatusError,
    StalledStreamError,
)
from ._interpreter import Interpreter
from ._request import ProviderName, QueryInput, provider_request
from ._vocabulary import Message, StreamEvent, UsageUpdate

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
    error that ended the reply, always a :class:`~trio_sse.providers.ProviderError`
    whose ``partial`` is the message so far: the provider reported an error
    (:class:`APIStreamError`), the stream ended early (:class:`IncompleteStreamError`),
    an event was malformed (:class:`MalformedEventError`), the SSE stream underneath
    failed (:class:`InterruptedStreamError`, the :class:`~trio_sse.NetworkError` or
    other failure as its ``error``), or no progress came in time
    (:class:`StalledStreamError`). Closing it stops the consumer and the pump.

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
    progress_timeout: float | None = None,
    max_buffer_size: int = _NEUTRAL_BUFFER,
    task_status: trio.TaskStatus[ProviderStream[E]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Feed ``events`` to ``interpreter``; send the neutral events on a :class:`ProviderStream`.

    A startable task, the sibling of a pump in the caller's nursery::

        events = await nursery.start(trio_sse.pump_events, client, "POST", url, ...)
        reply = await nursery.start(interpret_events, anthropic.Interpreter(), events)

    ``nursery.start`` returns at once with the stream. The task ends when ``events``
    ends (it then calls ``interpreter.finish()``), when the interpreter or ``events``
    raises an :class:`~trio_sse.SSEError`, when no progress was made for
    ``progress_timeout`` seconds, or when the stream is closed (it closes ``events`` and
    returns quietly). A failure is handed to the stream and raised there after the
    events before it, always as a :class:`~trio_sse.providers.ProviderError` carrying
    the partial message: the interpreter's own errors as they are, a failure of
    ``events`` as :class:`~trio_sse.providers.InterruptedStreamError`, a stall as
    :class:`~trio_sse.providers.StalledStreamError`; ``events`` is then closed, so the
    pump closes its response. Cancelled, or with ``events`` closed under it (its pump
    cancelled), it closes the stream: a reader elsewhere gets
    :exc:`trio.ClosedResourceError`, not a clean end. Anything else (a bug) propagates
    into the nursery after being handed to the stream.

    Args:
        interpreter: the provider format's interpreter, fresh.
        events: the SSE events of one reply.
        progress_timeout: seconds without progress (a neutral event other than
            :class:`~trio_sse.providers.UsageUpdate`; pings are not progress) after which
            the reply is taken as stalled; ``None`` (the default): no limit. Counted from
            the start; time waiting for a slow consumer does not count.
        max_buffer_size: neutral events held for a consumer that lags.
    """
    _check_progress_timeout(progress_timeout)
    send, receive = trio.open_memory_channel[StreamEvent](max_buffer_size)
    handoff = Handoff()
    task_status.started(ProviderStream(receive, handoff, interpreter, events))
    try:
        try:
            await _interpret(interpreter, events, send, progress_timeout)
        finally:
            events.close()
    except ProviderError as exc:
        handoff.error = exc
    except SSEError as exc:  # the event stream's own failure: the partial message attached
        handoff.error = InterruptedStreamError(
            provider=_provider(interpreter), partial=interpreter.message, error=exc
        )
        handoff.error.__cause__ = exc
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


async def _interpret(
    interpreter: Interpreter,
    events: SSEEvents,
    send: trio.MemorySendChannel[StreamEvent],
    progress_timeout: float | None,
) -> None:
    """The loop: every event through the interpreter, its neutral events onto ``send``.

    It stops at the provider's terminator, without waiting for the body's end: the reply
    is complete, and what the connection does next (linger, break, go quiet) is no
    failure of it. The caller then closes ``events``, which closes the response.
    """
    if progress_timeout is None:
        async for event in events:
            if not await _deliver(send, interpreter.feed(event), None):
                return  # nobody listens: closing ``events`` stops the pump
            if interpreter.done:
                return
        interpreter.finish()
        return
    with trio.CancelScope(deadline=trio.current_time() + progress_timeout) as stall:
        async for event in events:
            out = interpreter.feed(event)
            if any(type(item) is not UsageUpdate for item in out):
                stall.deadline = trio.current_time() + progress_timeout
            if not await _deliver(send, out, (stall, progress_timeout)) or interpreter.done:
                return
        interpreter.finish()
        return
    raise StalledStreamError(  # the deadline fired
        provider=_provider(interpreter),
        partial=interpreter.message,
        progress_timeout=progress_timeout,
    )


def _check_progress_timeout(progress_timeout: float | None) -> None:
    if progress_timeout is not None and not progress_timeout > 0:
        raise ValueError(f"progress_timeout must be more than 0 (or None), got {progress_timeout}")


def _provider(interpreter: Interpreter) -> str:
    """The provider's name for an error: the interpreter's messages say it."""
    return interpreter.message.provider or type(interpreter).__module__


async def _deliver(
    send: trio.MemorySendChannel[StreamEvent],
    out: list[StreamEvent],
    stall: tuple[trio.CancelScope, float] | None,
) -> bool:
    """Send ``out`` in order, without a schedule point while the buffer has room.

    Waiting for a consumer that lags is not the provider's stall: the progress deadline
    is lifted while a send waits, and restarts when it is done.
    """
    try:
        for event in out:
            try:
                send.send_nowait(event)
            except trio.WouldBlock:  # noqa: PERF203 (free on 3.11+; the buffer is full)
                if stall is None:
                    await send.send(event)
                    continue
                scope, timeout = stall
                scope.deadline = math.inf
                await send.send(event)
                scope.deadline = trio.current_time() + timeout
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
    params: QueryInput = None,
    retry: RetryPolicy | None = DEFAULT_RETRY_POLICY,
    idle_timeout: float | None = None,
    progress_timeout: float | None = None,
    max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
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

    The request is built for the provider (auth header from ``api_key``,
    ``anthropic-version``, ``"stream": true``, OpenAI's ``include_usage``, Gemini's
    ``alt=sse``); ``url`` is the full endpoint (for Gemini,
    ``.../models/{model}:streamGenerateContent``), and its query is kept (Azure's
    ``?api-version=``); ``params`` are appended to it. The pump and the interpreter run
    as sibling tasks in a nursery this context manager owns; leaving the block cancels
    both and closes the response.

    Retries follow ``retry`` (429, 529, 5xx, connect errors, with ``Retry-After``) as
    :func:`trio_sse.pump_events` says for a POST: a request the server may have taken
    is never sent again, and a reply is never replayed once it has begun. The reply
    ends at the provider's terminator, whatever the connection does after it.
    Entering raises what :func:`trio_sse.open_event_stream` raises on entry, but a
    status other than 200 (and 204) as :class:`ProviderStatusError` (a
    :class:`~trio_sse.StatusError` with the provider's error type and message; also as a
    :class:`~trio_sse.RetriesExhaustedError`'s ``last_error``). Every failure after that
    comes from ``receive`` as a :class:`ProviderError` carrying the partial message, as
    :class:`ProviderStream` says, with the ExceptionGroup policy of
    :func:`trio_sse.open_event_stream`.

    Args:
        progress_timeout: seconds without progress (text, thinking, a tool call; not a
            ``ping``, not usage) before the reply fails with
            :class:`StalledStreamError`; ``None``: no limit. Unlike ``idle_timeout``
            (silence on the wire), it sees through the pings a stuck model's server
            keeps sending.
        Everything else is as :func:`trio_sse.pump_events` takes it.
    """
    _check_progress_timeout(progress_timeout)  # before any request
    request = provider_request(
        provider, url, json=json, headers=headers, api_key=api_key, params=params
    )
    pump = partial(
        pump_events,
        client,
        "POST",
        request.url,
        headers=request.headers,
        json=request.json,
        retry=retry,
        reconnect=False,
        idle_timeout=idle_timeout,
        max_buffer_size=max_buffer_size,
        max_buffer_bytes=max_buffer_bytes,
        max_event_size=max_event_size,
        **request_kwargs,
    )
    async with open_hidden_nursery() as nursery:
        try:
            events: EventStream = await nursery.start(pump)
        except StatusError as exc:
            raise ProviderStatusError.from_status_error(provider, exc) from exc
        except RetriesExhaustedError as exc:
            if not isinstance(exc.last_error, StatusError):
                raise
            last = ProviderStatusError.from_status_error(provider, exc.last_error)
            raise RetriesExhaustedError(attempts=exc.attempts, last_error=last) from last
        consumer = partial(
            interpret_events, request.interpreter(), events, progress_timeout=progress_timeout
        )
        reply: ProviderStream = await nursery.start(consumer)
        try:
            yield reply
        finally:
            reply.close()
