"""The pump: one task that reads a response, decodes it and sends events on a channel.

It also reconnects: a loop of connection attempts around one decoder, so the last
event ID and the server's ``retry`` survive a dropped connection.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

import trio
from httpx_sse import ServerSentEvent

from ._decoder import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from ._errors import (
    EventTooLargeError,
    IdleTimeoutError,
    NetworkError,
    RetriesExhaustedError,
    SSEError,
    StatusError,
)
from ._event_stream import EventStream, StreamState
from ._http import (
    AsyncHTTPClient,
    AsyncHTTPResponse,
    HeadersInput,
    RequestHeaders,
    client_defaults,
    header_pairs,
    is_unsent,
    last_event_id_value,
    origin_kept,
    resolve_location,
    shared_cookies,
    sse_request_headers,
    streaming_timeout,
)
from ._redirect import DEFAULT_MAX_REDIRECTS, REDIRECT_STATUSES, Request, is_credential, redirected
from ._response import as_network_errors, body_chunks, check_response
from ._retry import RetryPolicy, retry_after, retry_seconds
from ._send_progress import SendProgress

__all__ = [
    "DEFAULT_MAX_BUFFER_BYTES",
    "DEFAULT_MAX_BUFFER_SIZE",
    "DEFAULT_RETRY_POLICY",
    "Pump",
    "new_pump",
    "pump_events",
]

logger: Final = logging.getLogger("trio_sse")

DEFAULT_MAX_BUFFER_SIZE: Final = 64
"""Events held between the pump and a consumer that has not caught up.

With the default ``max_event_size`` this bounds a slow consumer's backlog; beyond it
the pump stops reading, TCP's window fills and the server is slowed down instead.
"""

DEFAULT_MAX_BUFFER_BYTES: Final = 64 * 1024
"""Data characters (``len(event.data)``) held between the pump and a lagging consumer.

Beside ``DEFAULT_MAX_BUFFER_SIZE``: a backlog of large events is bounded by its size,
not only by its count. One event is always let through, however large.
"""

DEFAULT_RETRY_POLICY: Final = RetryPolicy()
"""The policy a stream uses unless given another (``retry=None`` for none)."""


class _End(enum.Enum):
    """How one connection ended without an error."""

    FINISHED = "the body ended"
    DROPPED = "the body ended, and the stream reconnects"
    NO_CONTENT = "204 No Content"
    ABANDONED = "the consumer stopped listening"


async def pump_events(
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
    task_status: trio.TaskStatus[EventStream] = trio.TASK_STATUS_IGNORED,
    **request_kwargs: Any,
) -> None:
    """Stream one request's events into an :class:`EventStream`; for ``nursery.start``.

    The lower tier, for callers who own a nursery and want their consumers to run as
    sibling tasks of the pump::

        stream = await nursery.start(trio_sse.pump_events, client, "GET", url)

    (Keyword arguments go through :func:`functools.partial`.) The request carries
    ``Accept: text/event-stream`` and ``Cache-Control: no-cache`` unless ``headers`` sets
    them, and no read timeout unless ``timeout=`` is given: bound time with a cancel scope.
    Only a 200 starts a stream; a 204 No Content always ends it cleanly.

    Redirects (301, 302, 303, 307, 308) are followed by the pump, as a browser's
    EventSource follows them, whatever the client's own ``follow_redirects``: at most the
    client's ``max_redirects`` (20 by default) per connection, a 303 (or a 301 / 302 to a
    POST) turning the request into a GET without its body. A redirect to another origin
    drops every credential header (``Authorization``, ``Cookie``, ``x-api-key``,
    ``x-goog-api-key``, ``api-key``, any name holding ``auth``, ``key``, ``token``,
    ``secret``, ``session`` or ``password``), ``auth=`` and ``cookies=``; it is not
    followed at all (a :class:`StatusError`) if the client's default headers or query
    parameters carry one, or its cookie jar holds a cookie it would send to both
    origins (one set without a domain goes to every host): a request cannot take those
    off. Reconnects go to the URL that served the stream, as it was last requested; once
    a redirect has turned the request into a GET (a 303, or a 301 / 302 to a POST: the
    server took the request), retries start from that GET too.

    Retries: with ``reconnect`` on (the default for GET), a connection that fails
    before its response head arrives (connecting, sending, waiting for the head, a
    status in ``retry.retry_statuses``) is tried again under ``retry``, and a stream
    whose body ends or breaks is resumed, EventSource-style: a new request carrying
    ``Last-Event-ID`` (the ID's UTF-8 bytes; an ID no header can carry is not sent, and
    logged), after the server's ``retry`` delay. Otherwise (the default for POST and the
    rest: an LLM reply must not be asked for twice) a request is sent again only when
    the server asked for it (a status in ``retry.retry_statuses``) or certainly never had
    it: a failure before any of the request was written (connecting, waiting for a pooled
    connection; with httpx's transports, whose ``trace`` extension tells, an
    ``idle_timeout`` that fired while still connecting). A read error, a protocol error
    or ``idle_timeout`` while waiting for the head fail the stream: the request may be
    in the server's hands. A request whose 200 head arrived is never sent again, and
    the end of the body is the end of the stream.

    ``nursery.start`` returns once a response has been checked: errors up to then are
    raised there, unwrapped. From then on the pump sends each event on the stream and
    ends in one of five ways:

    - the stream ends (the body ends and it does not reconnect, or a reconnect gets a
      204): the consumer receives every event, then the end;
    - the stream fails (:class:`NetworkError`, :class:`EventTooLargeError`,
      :class:`StatusError`, :class:`ContentTypeError` or :class:`RetriesExhaustedError`
      when reconnecting): the pump hands the error to the stream and returns; the consumer
      receives every event decoded before the failure, then :meth:`EventStream.receive`
      raises the error. A failure is never shown as a clean end, and never cancels a
      consumer that still has events to take;
    - the consumer closes the stream: the pump closes the response (or stops waiting to
      retry) and returns quietly;
    - the pump is cancelled (its nursery, or any scope around it; also while it waits to
      retry): it closes the response in this task and the stream with it; a consumer
      outside the cancelled scope gets :exc:`trio.ClosedResourceError`, not a clean end;
    - something below it fails unexpectedly (a transport bug, not a stream failure): it
      re-raises that exception into its nursery, which cancels the consumers there; a
      consumer elsewhere receives its events, then the same exception.

    Args:
        client: an ``httpx.AsyncClient`` or ``httpx2.AsyncClient``.
        method: the HTTP method.
        url: the URL, absolute or relative to the client's ``base_url``.
        headers: extra request headers.
        retry: when and how soon to try again; ``None``: never (failures are raised as
            they are).
        reconnect: resume a body that ended or broke (``None``: for GET only). Needs
            ``retry``.
        idle_timeout: seconds without a single byte after which the connection is
            taken as dropped, and ``retry`` decides; ``None`` (the default): wait as long
            as the server likes. The clock starts with the request and restarts when the
            response head arrives and with every body chunk (comments and pings count).
            Time spent waiting for a slow consumer does not count.
        max_buffer_size: events buffered for a consumer that lags; then the pump waits,
            and the server is slowed down by TCP flow control.
        max_buffer_bytes: the same bound in data characters (the sum of
            ``len(event.data)`` over the events handed to the stream and not yet
            received; default 64 KiB): the pump waits when either bound is reached, until
            the consumer's receives bring the buffer back under it. An event larger than
            the bound still goes through, alone. Must be at least 1.
        max_event_size: the decoder's limit (see :class:`SSEDecoder`); an event or line
            beyond it ends the stream, never retried.
        request_kwargs: anything else the client's ``stream()`` takes (``json=``,
            ``params=``, ``content=``, ``timeout=``, ...). A retry sends them again:
            a ``content=`` iterator cannot be sent twice. ``follow_redirects=False``
            (taken by the pump, not passed on) makes a redirect a :class:`StatusError`.

    Raises:
        StatusError: a status neither 200 nor 204, and not retryable (from
            ``nursery.start``).
        ContentTypeError: a 200, but not ``text/event-stream`` (from ``nursery.start``).
        NetworkError: connecting failed and ``retry`` is ``None``, or more redirects than
            ``max_redirects`` (from ``nursery.start``).
        RetriesExhaustedError: the policy gave up before a response (from
            ``nursery.start``).
        ValueError: an argument out of range, before any request.
    """
    pump = new_pump(
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
    await pump.run(task_status)


def new_pump(
    client: AsyncHTTPClient,
    method: str,
    url: str,
    *,
    headers: HeadersInput,
    retry: RetryPolicy | None,
    reconnect: bool | None,
    idle_timeout: float | None,
    max_buffer_size: int,
    max_buffer_bytes: int,
    max_event_size: int,
    request_kwargs: dict[str, Any],
) -> Pump:
    """:func:`pump_events`'s arguments checked and its pump built, ready to ``run``
    (``request_kwargs`` is taken over, not copied). Synchronous: no I/O yet."""
    decoder = SSEDecoder(max_event_size=max_event_size)  # bad limits fail before any I/O
    if max_buffer_size < 0:
        raise ValueError(f"max_buffer_size must be 0 or more, got {max_buffer_size}")
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"idle_timeout must be more than 0 (or None), got {idle_timeout}")
    if reconnect and retry is None:
        raise ValueError("reconnect=True needs a retry policy, not retry=None")
    if reconnect is None:
        reconnect = retry is not None and method.upper() == "GET"
    follow_redirects = bool(request_kwargs.pop("follow_redirects", True))
    request_kwargs.setdefault("timeout", streaming_timeout(client))
    return Pump(
        client,
        Request(method, url, header_pairs(headers), request_kwargs),
        decoder=decoder,
        follow_redirects=follow_redirects,
        retry=retry,
        reconnect=reconnect,
        idle_timeout=idle_timeout,
        max_buffer_size=max_buffer_size,
        max_buffer_bytes=max_buffer_bytes,
    )


class Pump:
    """One stream's state across its connections; ``run`` is the task."""

    __slots__ = (
        "_acked",
        "_answered",
        "_client",
        "_decoder",
        "_follow_redirects",
        "_held",
        "_idle_timeout",
        "_max_bytes",
        "_max_redirects",
        "_progress",
        "_receive",
        "_reconnect",
        "_request",
        "_retry",
        "_send",
        "_sizes",
        "_state",
        "_stream",
        "_unsendable_id",
        "_watchdog",
    )

    def __init__(
        self,
        client: AsyncHTTPClient,
        request: Request,
        *,
        decoder: SSEDecoder,
        follow_redirects: bool,
        retry: RetryPolicy | None,
        reconnect: bool,
        idle_timeout: float | None,
        max_buffer_size: int,
        max_buffer_bytes: int,
    ) -> None:
        if max_buffer_bytes < 1:
            raise ValueError(f"max_buffer_bytes must be at least 1, not {max_buffer_bytes}")
        self._client = client
        self._request = request  # what the next attempt sends: the last one served from
        self._follow_redirects = follow_redirects
        max_redirects = getattr(client, "max_redirects", DEFAULT_MAX_REDIRECTS)
        self._max_redirects = (
            max_redirects if isinstance(max_redirects, int) else DEFAULT_MAX_REDIRECTS
        )
        self._decoder = decoder
        self._retry = retry
        self._reconnect = reconnect
        self._idle_timeout = idle_timeout
        self._send, self._receive = trio.open_memory_channel[ServerSentEvent](max_buffer_size)
        self._max_bytes = max_buffer_bytes
        self._held = 0  # data characters of the events sent and not known to be received
        self._sizes: list[int] = []  # their sizes, oldest first: event number _acked onwards
        self._acked = 0  # events whose size has left _held (received, as far as known)
        self._state = StreamState()
        self._stream: EventStream | None = None
        self._watchdog: trio.CancelScope | None = None  # only with an idle_timeout
        self._answered = False  # this attempt's response head was accepted (a 200 stream)
        self._progress = SendProgress()  # whether the current request may have been written
        self._unsendable_id: str | None = None  # the last ID logged as not sendable

    async def run(self, task_status: trio.TaskStatus[EventStream]) -> None:
        """Connect (and reconnect) until the stream ends; settle how it ended."""
        try:
            with self._state.listening:  # EventStream.close() cancels it
                await self._connect_until_done(task_status)
        except SSEError as exc:
            if self._stream is None:
                raise
            logger.debug("stream failed, error handed to the consumer: %r", exc)
            self._state.error = exc  # raised by the stream after the events already sent
        except trio.Cancelled:
            # Consumers in the cancelled scope have their Cancelled already; one outside it
            # must neither wait forever nor mistake the cut for the end.
            self._receive.close()
            raise
        except Exception as exc:
            # Not a stream failure but a bug (in a transport, say): it propagates through
            # the nursery, and a consumer anywhere gets the same exception after its events.
            if self._stream is not None:
                self._state.error = exc
                self._send.close()
            raise
        except BaseException:
            self._receive.close()  # KeyboardInterrupt and the like: no consumer may wait on
            raise
        # Closed only after the response is closed and the outcome settled, synchronously,
        # so no consumer acts on the end while this task could still be cancelled into silence.
        self._send.close()

    async def _connect_until_done(self, task_status: trio.TaskStatus[EventStream]) -> None:
        policy = self._retry
        state = self._state
        failures = 0  # failed attempts in a row
        while True:
            events_before = state.events_sent
            failure: NetworkError | StatusError | None = None
            try:
                end = await self._attempt(task_status)
            except (NetworkError, StatusError) as exc:
                state.last_error = exc
                if policy is None or not self._retryable(exc, policy):
                    raise
                failure = exc
            else:
                if end is not _End.DROPPED or policy is None:
                    return
            # A connection that delivered an event ends a run of failures: this is its first.
            failures = 1 if state.events_sent > events_before else failures + 1
            if policy.gives_up_after(failures):
                raise RetriesExhaustedError(attempts=failures, last_error=failure) from failure
            await self._wait(self._delay(policy, failures, failure), failure)

    def _retryable(self, failure: NetworkError | StatusError, policy: RetryPolicy) -> bool:
        if isinstance(failure, StatusError):
            return failure.status_code in policy.retry_statuses
        if not failure.transient:
            return False  # an unsupported scheme, a body that does not decode: no use
        if self._reconnect:
            return True
        # A stream that does not reconnect (a POST: an LLM's reply is generated and billed
        # once the server has the request) is sent again only if the server certainly
        # never had it: a read error or the watchdog while waiting for the head may come
        # after the request was written, and a 200 head means it was taken.
        if self._answered:
            return False
        cause = failure.__cause__
        return self._progress.unsent or (cause is not None and is_unsent(cause))

    def _delay(
        self, policy: RetryPolicy, failures: int, failure: NetworkError | StatusError | None
    ) -> float:
        if isinstance(failure, StatusError):
            asked = retry_after(failure.headers)
            if asked is not None:
                return asked
        server_retry = self._decoder.retry
        return policy.delay(
            failures, server_retry=None if server_retry is None else retry_seconds(server_retry)
        )

    async def _wait(self, delay: float, failure: SSEError | None) -> None:
        """Sleep ``delay`` before the next attempt (closing the stream cuts it short)."""
        request = self._request
        reason = f"{request.method} {request.url}: the body ended" if failure is None else failure
        logger.info("%s; retrying in %.3g s", reason, delay)
        await trio.sleep(delay)

    def _attempt(self, task_status: trio.TaskStatus[EventStream]) -> Awaitable[_End]:
        """One connection, from the request (and its redirects) to the end of its body.

        Not a coroutine: it returns the one to await (without a watchdog, the exchange
        itself), so a stream holds no frame of its own for the attempt.
        """
        self._state.attempts += 1
        self._decoder.new_stream()  # a new body: BOM allowed again, no half event carried
        self._answered = False
        idle = self._idle_timeout
        if idle is None:  # no watchdog: no cancel scope of its own for the attempt
            return self._exchange(task_status)
        return self._watched(task_status, idle)

    async def _watched(self, task_status: trio.TaskStatus[EventStream], idle: float) -> _End:
        """The exchange under the idle watchdog."""
        self._watchdog = watchdog = trio.CancelScope(deadline=trio.current_time() + idle)
        with watchdog:
            return await self._exchange(task_status)
        raise IdleTimeoutError(idle_timeout=idle, url=self._request.url)  # it fired

    def _heard(self) -> None:
        """Bytes arrived (a response head, a body chunk): the watchdog's silence restarts."""
        watchdog, idle = self._watchdog, self._idle_timeout
        if watchdog is not None and idle is not None:
            watchdog.deadline = trio.current_time() + idle

    async def _exchange(self, task_status: trio.TaskStatus[EventStream]) -> _End:
        """Send the request, follow its redirects, check the answer and forward its body."""
        request = self._request
        redirects = 0
        while True:
            logger.debug(
                "connecting: %s %s (attempt %d)", request.method, request.url, self._state.attempts
            )
            with as_network_errors(request.method, request.url):
                async with self._open(request) as response:
                    self._heard()  # the head is bytes too: a slow head is not a silent body
                    following = self._redirect(request, response)
                    if following is None:
                        await check_response(response)
                        self._answered = True
                        self._request = request  # reconnects go to the final URL
                        self._started(response, task_status)
                        if response.status_code == 204:
                            logger.debug("204 No Content from %s: the stream ends", response.url)
                            return _End.NO_CONTENT
                        return await self._forward(response)
            redirects += 1
            if redirects > self._max_redirects:
                raise NetworkError(
                    f"{self._request.method} {self._request.url}: "
                    f"more than {self._max_redirects} redirects",
                    transient=False,
                )
            if following.method != request.method:
                # A 303 (or a 301 / 302 to a POST): the server took the request and points
                # at its answer. A retry asks for that answer, never sends the POST again.
                self._request = following
            request = following

    def _open(self, request: Request) -> AbstractAsyncContextManager[AsyncHTTPResponse]:
        """The client's ``stream()`` for ``request``, with the event-stream headers and the
        ``trace`` that tells whether the request was written. (Built here, so the exchange's
        frame holds none of the arguments while the body streams.)"""
        self._progress.reset()
        arguments = dict(request.arguments)
        arguments["extensions"] = self._progress.extensions(arguments.get("extensions"))
        return self._client.stream(
            request.method,
            request.url,
            headers=self._headers(request),
            follow_redirects=False,  # followed by _exchange, without leaking credentials
            **arguments,
        )

    def _headers(self, request: Request) -> RequestHeaders:
        """The request's headers for this connection: the event-stream ones, the caller's,
        and ``Last-Event-ID`` once the server has given an ID (replacing the caller's)."""
        headers: RequestHeaders = [*sse_request_headers(request.headers)]
        last_event_id = self._decoder.last_event_id
        if not last_event_id:
            return headers
        headers = [pair for pair in headers if pair[0].lower() != "last-event-id"]
        value = last_event_id_value(last_event_id)
        if value is not None:
            headers.append(("Last-Event-ID", value))
        elif self._unsendable_id != last_event_id:
            self._unsendable_id = last_event_id
            logger.warning(
                "%s %s: not sending Last-Event-ID: the event ID %r holds characters no "
                "HTTP header may carry",
                request.method,
                request.url,
                last_event_id,
            )
        return headers

    def _redirect(self, request: Request, response: AsyncHTTPResponse) -> Request | None:
        """The request a redirect asks for, or ``None`` when ``response`` is not one to
        follow (then it is checked as an answer: a 3xx is a :class:`StatusError`)."""
        status = response.status_code
        location = response.headers.get("location")
        if not self._follow_redirects or status not in REDIRECT_STATUSES or location is None:
            return None
        here = str(response.url)
        target = resolve_location(here, location)
        if target is None:
            logger.warning(
                "%s answered %d: Location %r is not an http(s) URL", here, status, location
            )
            return None
        keep_credentials = origin_kept(here, target)
        if not keep_credentials:
            # What the client adds to every request cannot be taken off one of them.
            carried = [
                f"{kind} {name}"
                for kind, names in client_defaults(self._client).items()
                for name in sorted(names)
                if is_credential(name)
            ] + [f"cookies {name}" for name in shared_cookies(self._client, here, target)]
            if carried:
                logger.warning(
                    "%s answered %d: not following it to %s, another origin: the client's "
                    "defaults carry credentials (%s); pass them in headers= instead",
                    here,
                    status,
                    target,
                    ", ".join(carried),
                )
                return None
        logger.debug("%s answered %d: following it to %s", here, status, target)
        return redirected(request, status, target, keep_credentials=keep_credentials)

    def _started(
        self, response: AsyncHTTPResponse, task_status: trio.TaskStatus[EventStream]
    ) -> None:
        stream = self._stream
        if stream is None:
            self._stream = EventStream(
                self._receive,
                self._state,
                status_code=response.status_code,
                headers=response.headers,
                url=str(response.url),
            )
            task_status.started(self._stream)
        else:
            if response.status_code == 204:
                logger.info("%s answered 204 No Content: the stream is over", response.url)
            else:
                logger.info("reconnected: %s answered %d", response.url, response.status_code)
            stream.status_code = response.status_code
            stream.headers = response.headers
            stream.url = str(response.url)

    async def _forward(self, response: AsyncHTTPResponse) -> _End:
        """Decode the body onto the channel until it ends or the receiver goes away."""
        decoder, state = self._decoder, self._state
        async with body_chunks(response) as chunks:
            async for chunk in chunks:
                state.bytes_received += len(chunk)
                try:
                    events = decoder.feed(chunk)
                except EventTooLargeError as exc:
                    if not await self._deliver(exc.events):
                        return _End.ABANDONED  # the receiver left first: the error is nobody's
                    logger.debug("closing %s: %s", response.url, exc)
                    raise
                # Neither the piece nor the list of its events is held while this task
                # waits (for room, for the next piece): the consumer's receive frees each.
                del chunk
                delivered = await self._deliver(events)
                del events
                if not delivered:
                    logger.debug("receiver gone: closing %s", response.url)
                    return _End.ABANDONED
                self._heard()
        logger.debug("body ended: %s (%d events so far)", response.url, state.events_sent)
        return _End.DROPPED if self._reconnect else _End.FINISHED

    async def _deliver(self, events: list[ServerSentEvent]) -> bool:
        """Send ``events`` in order; ``False`` once every receiver has gone.

        An event that fits in the buffer goes in without a schedule point (``send`` would
        take one per event): the pump yields when its socket read or a full buffer blocks.
        """
        send, state, sizes = self._send, self._state, self._sizes
        self._settle()
        try:
            for event in events:
                size = len(event.data)
                if self._held + size > self._max_bytes and self._held:
                    await self._wait_for_room(size)
                try:
                    send.send_nowait(event)
                    full = False
                except trio.WouldBlock:  # the buffer is full
                    full = True
                if full:  # waited for outside the except: WouldBlock and its traceback
                    # are not held while the pump waits.
                    # Waiting for the consumer is not the server's silence: no watchdog.
                    if self._watchdog is not None:
                        self._watchdog.deadline = math.inf
                    # Counted while it waits (statistics() sees it as buffered), and
                    # uncounted if it never goes in.
                    state.events_sent += 1
                    try:
                        await send.send(event)
                    except BaseException:
                        state.events_sent -= 1
                        raise
                else:
                    state.events_sent += 1
                sizes.append(size)
                self._held += size
        except trio.BrokenResourceError:
            return False
        return True

    def _settle(self) -> None:
        """Take the events received since last time out of the bytes held."""
        received = self._state.delivered - self._acked
        if received:
            sizes = self._sizes
            self._held -= sum(sizes[:received])
            del sizes[:received]
            self._acked += received

    async def _wait_for_room(self, size: int) -> None:
        """Wait until an event of ``size`` characters fits under ``max_buffer_bytes``, or
        nothing is held (one event always goes). Cancellable; nothing is sent here."""
        state = self._state
        while True:
            self._settle()
            excess = self._held + size - self._max_bytes
            if excess <= 0 or not self._held:
                return
            freed = receives = 0
            for held in self._sizes:  # the receives that bring the buffer under the bound
                freed += held
                receives += 1
                if freed >= excess:
                    break
            # Waiting for the consumer is not the server's silence: no watchdog.
            if self._watchdog is not None:
                self._watchdog.deadline = math.inf
            room = state.room = trio.Event()
            state.wake_at = self._acked + receives
            try:
                await room.wait()
            finally:
                state.wake_at = -1
                state.room = None
