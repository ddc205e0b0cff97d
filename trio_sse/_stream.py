"""``open_event_stream``: the top tier, a context manager that owns its pump's nursery."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from types import TracebackType
from typing import Any

import trio

from ._decoder import DEFAULT_MAX_EVENT_SIZE
from ._event_stream import EventStream
from ._groups import open_hidden_nursery
from ._http import AsyncHTTPClient, HeadersInput
from ._pump import (
    DEFAULT_MAX_BUFFER_BYTES,
    DEFAULT_MAX_BUFFER_SIZE,
    DEFAULT_RETRY_POLICY,
    Pump,
    new_pump,
)
from ._retry import RetryPolicy

__all__ = ["open_event_stream"]


def open_event_stream(
    client: AsyncHTTPClient,
    method: str,
    url: str,
    *,
    headers: HeadersInput = None,
    retry: RetryPolicy | None = DEFAULT_RETRY_POLICY,
    reconnect: bool | None = None,
    idle_timeout: float | None = None,
    max_buffer_size: int = DEFAULT_MAX_BUFFER_SIZE,
    max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    **request_kwargs: Any,
) -> AbstractAsyncContextManager[EventStream]:
    """Send a request and receive its events, with the pump running in a nursery of its own.

    ::

        async with trio_sse.open_event_stream(client, "GET", url) as events:
            async for event in events:
                print(event.event, event.data)

    Entering blocks until the response has been checked (a checkpoint, cancellable);
    errors found there (:class:`StatusError`, :class:`ContentTypeError`,
    :class:`RetriesExhaustedError`, ...) are raised from ``async with``, before the block
    runs; retries before the first response happen there too. Leaving
    the block for any reason (the stream's end, ``break``, an exception, cancellation)
    cancels the pump, which closes the HTTP response in its own task; no task outlives the
    block. Arguments are those of :func:`pump_events`: the buffer between
    the pump and the block holds at most ``max_buffer_size`` events and
    ``max_buffer_bytes`` data characters (64 and 64 KiB by default), then the pump waits.

    A failure of the stream (the connection broke, an event too large) is raised where the
    events are read: by ``receive`` (and so by ``async for``), once every event decoded
    before it has been received. A block that stops reading has stopped listening: it
    does not hear of a failure in the part it never read.

    Exceptions (the ExceptionGroup policy): what comes out is never wrapped in an
    ExceptionGroup when there is one thing to report. An exception from the block comes
    out as itself (a group it raises, as that group); a bug in the pump (not a stream
    failure: a transport raising something unexpected) cancels the block and comes out as
    itself; cancellation from outside propagates as Trio's; KeyboardInterrupt wins. Only
    if the block and the pump fail at the same moment does a ``BaseExceptionGroup``
    holding both come out.
    """
    return _EventStreamBlock(
        partial(
            new_pump,
            client,
            method,
            url,
            headers=headers,
            retry=retry,
            reconnect=reconnect,
            idle_timeout=idle_timeout,
            max_buffer_size=max_buffer_size,
            max_buffer_bytes=max_buffer_bytes,
            max_event_size=max_event_size,
            request_kwargs=request_kwargs,
        )
    )


class _EventStreamBlock:
    """What :func:`open_event_stream` returns: the pump in a hidden nursery.

    Entering builds the pump (bad arguments fail there, before any I/O), starts it with
    ``start_soon`` and waits until it reports its checked response: the block is the
    pump's ``task_status``. That is ``nursery.start``'s contract (an error before the
    stream comes out of ``async with``, unwrapped) without the nursery ``nursery.start``
    makes for the time a task starts, which every stream of a burst connecting at once
    would hold. Leaving closes the stream and cancels the pump. A class, not a generator
    context manager: every open stream holds it for its whole life.
    """

    __slots__ = ("_build", "_nursery", "_stream", "_waiter")

    def __init__(self, build: Callable[[], Pump]) -> None:
        self._build: Callable[[], Pump] | None = build
        self._nursery = open_hidden_nursery()
        self._stream: EventStream | None = None
        self._waiter: trio.lowlevel.Task | None = None

    async def __aenter__(self) -> EventStream:
        build, self._build = self._build, None  # its arguments not held once started
        if build is None:
            raise RuntimeError("open_event_stream(...) can be entered once")
        pump = build()
        nursery = await self._nursery.__aenter__()
        try:
            nursery.start_soon(self._run, pump)
            self._waiter = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)  # until started()
        except BaseException as exc:
            # The pump's error (it cancelled this wait) comes out of the nursery unwrapped.
            await self._nursery.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        assert self._stream is not None
        return self._stream

    async def _run(self, pump: Pump) -> None:
        await pump.run(self)
        if self._stream is None:  # as nursery.start would not let it pass
            raise RuntimeError("trio-sse's pump ended without a stream: please report this bug")

    def started(self, value: EventStream | None = None) -> None:
        """The pump's checked stream: ``__aenter__`` returns it. Synchronous."""
        if value is None or self._stream is not None:
            raise RuntimeError("started() takes one stream, once")
        self._stream = value
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            trio.lowlevel.reschedule(waiter)

    def _abort(self, raise_cancel: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
        self._waiter = None  # cancelled while the pump connects: nothing to wake
        return trio.lowlevel.Abort.SUCCEEDED

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        assert self._stream is not None, "__aexit__ before __aenter__ returned"
        self._stream.close()
        return await self._nursery.__aexit__(exc_type, exc, traceback)
