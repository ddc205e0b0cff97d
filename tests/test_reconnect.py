"""Retries and reconnection, driven by a scripted transport under the autojump clock."""

from __future__ import annotations

import logging
import random
from functools import partial
from itertools import pairwise
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from trio_sse import (
    ContentTypeError,
    EventStream,
    EventTooLargeError,
    IdleTimeoutError,
    NetworkError,
    RetriesExhaustedError,
    RetryPolicy,
    StatusError,
    open_event_stream,
    pump_events,
)

from .scripted import Drop, Pause, Script, scripted_client, sse

EXACT = RetryPolicy(base=1, factor=2, cap=30, jitter=0)
"""No jitter: the schedule is 1, 2, 4, ... seconds."""


def unavailable(**headers: str) -> Script:
    return Script([b"busy"], status=503, headers={"content-type": "text/plain", **headers})


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 9) for a, b in pairwise(times)]


async def collect(client: Any, method: str = "GET", url: str = "/s", **kwargs: Any) -> list[str]:
    async with open_event_stream(client, method, url, **kwargs) as events:
        return [event.data async for event in events]


async def test_backoff_schedule_is_exponential_and_capped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(*[unavailable()] * 6, Script([sse("ok")]), Script(status=204))
    policy = RetryPolicy(base=1, factor=2, cap=10, jitter=0, max_attempts=None)
    assert await collect(client, retry=policy) == ["ok"]
    assert gaps(seen.times) == [1, 2, 4, 8, 10, 10, 1]  # the run ends with the event


async def test_seeded_full_jitter_schedule(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(*[unavailable()] * 4, Script([sse("ok")]), Script(status=204))
    policy = RetryPolicy(base=1, factor=2, cap=30, random=random.Random(3).random)
    draws = random.Random(3)
    expected = [round(2**n * (1 - draws.random()), 9) for n in range(4)]
    expected.append(round(1 - draws.random(), 9))  # a new run, after a connection with an event
    assert await collect(client, retry=policy) == ["ok"]
    assert gaps(seen.times) == expected


async def test_the_servers_retry_field_replaces_the_base(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([sse([("retry", "250"), ("id", "1"), ("data", "a")]), Drop()]),
        unavailable(),
        Script([sse("b")]),
        Script(status=204),
    )
    assert await collect(client, retry=EXACT) == ["a", "b"]
    assert gaps(seen.times) == [0.25, 0.5, 0.25]


async def test_retry_after_is_honoured_exactly(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(
        Script([b"slow down"], status=429, headers={"retry-after": "7"}),
        unavailable(**{"retry-after-ms": "1500"}),
        Script([sse("ok")]),
    )
    assert await collect(client, "POST", retry=EXACT) == ["ok"]
    assert gaps(seen.times) == [7, 1.5]


async def test_anthropic_529_and_gateway_errors_are_retried_for_a_post(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([b"{}"], status=529), Script(status=502), Script([sse("ok")])
    )
    assert await collect(client, "POST", retry=EXACT, json={"q": 1}) == ["ok"]
    assert [r.content for r in seen.requests] == [b'{"q":1}'] * 3


async def test_policy_exhausted_before_start_says_how_many_and_why(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(*[unavailable()] * 5)
    with pytest.raises(RetriesExhaustedError, match="3 attempts") as info:
        await collect(client, retry=RetryPolicy(max_attempts=3, jitter=0))
    assert info.value.attempts == 3
    assert isinstance(info.value.last_error, StatusError)
    assert info.value.last_error.status_code == 503
    assert info.value.__cause__ is info.value.last_error
    assert len(seen.requests) == 3


async def test_connect_errors_are_retried_then_exhausted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://test")
    start = trio.current_time()
    with pytest.raises(RetriesExhaustedError) as info:
        await collect(client, "POST", retry=RetryPolicy(max_attempts=4, jitter=0))
    assert attempts == 4
    assert trio.current_time() - start == 1 + 2 + 4
    assert isinstance(info.value.last_error, NetworkError)


async def test_a_status_that_is_not_retryable_ends_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([b"no"], status=401), Script([sse("never")]))
    with pytest.raises(StatusError) as info:
        await collect(client, retry=EXACT)
    assert info.value.status_code == 401
    assert len(seen.requests) == 1


async def test_get_reconnects_with_last_event_id_and_loses_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([sse([("id", "1"), ("data", "a")]), b"id: 2\ndata: cut", Drop()]),
        Script([b"\xef\xbb\xbfid: 2\ndata: b\n\n", sse("c")]),  # a new body: a BOM again
    )
    assert await collect(client, retry=EXACT) == ["a", "b", "c"]
    assert [r.headers.get("last-event-id") for r in seen.requests] == [None, "1", "2"]
    assert seen.requests[2].headers["accept"] == "text/event-stream"


@pytest.mark.parametrize(
    ("line", "sent"),
    [
        ("id: é-1 ☃", "é-1 ☃".encode()),  # its UTF-8 bytes, as the WHATWG rules say
        ("id:  42\t ", b"42"),  # no header carries leading or trailing whitespace
        ("id: a\tb c", b"a\tb c"),  # inside, a tab and a space are fine
    ],
)
async def test_any_event_id_is_sent_as_last_event_id(
    line: str, sent: bytes, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(
        Script([f"{line}\ndata: a\n\n".encode(), Drop()]), Script([sse("b")])
    )
    assert await collect(client, retry=EXACT) == ["a", "b"]
    assert (b"Last-Event-ID", sent) in seen.requests[1].headers.raw


@pytest.mark.parametrize("event_id", ["a\x0bb", "a\x0cb", "\x01", "x\x7f", "\x1f", " \t "])
async def test_an_event_id_no_header_can_carry_is_dropped_with_a_warning(
    event_id: str, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(
        Script([f"id: {event_id}\ndata: a\n\n".encode(), Drop()]),
        Script([sse("b"), Drop()]),
        Script([sse("c")]),
    )
    headers = {"Last-Event-ID": "stale"}  # the caller's: replaced by the server's, dropped
    assert await collect(client, retry=EXACT, headers=headers) == ["a", "b", "c"]
    assert [r.headers.get("last-event-id") for r in seen.requests] == ["stale", None, None, None]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [  # once, not on every reconnect
        f"GET /s: not sending Last-Event-ID: the event ID {event_id!r} holds characters no "
        "HTTP header may carry"
    ]


async def test_the_callers_last_event_id_is_replaced_on_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse([("id", "8"), ("data", "a")])]))
    headers = {"Last-Event-ID": "7"}
    assert await collect(client, retry=EXACT, headers=headers) == ["a"]
    assert [r.headers.get("last-event-id") for r in seen.requests] == ["7", "8"]


async def test_a_clean_end_of_a_get_body_reconnects_until_204(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([sse([("id", "1"), ("data", "a")])]),
        Script([sse([("id", "2"), ("data", "b")])]),
        Script(status=204, headers={}),
    )
    async with open_event_stream(client, "GET", "/s", retry=EXACT) as events:
        assert [e.data async for e in events] == ["a", "b"]
        assert events.status_code == 204
        stats = events.statistics()
    assert (stats.connection_attempts, stats.reconnects, stats.events_delivered) == (3, 2, 2)
    assert stats.last_error is None
    assert len(seen.requests) == 3


async def test_a_post_body_is_never_replayed_once_it_has_begun(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a"), Drop()]), Script([sse("again")]))
    received: list[str] = []
    with pytest.raises(NetworkError):
        async with open_event_stream(client, "POST", "/s", retry=EXACT) as events:
            async for event in events:
                received.append(event.data)
    assert received == ["a"]
    assert len(seen.requests) == 1


def fail_before_the_head(
    client: Any,
    failures: int,
    *,
    delay: float = 0,
    error: type[httpx.TransportError] = httpx.ReadError,
) -> list[Any]:
    """Make the client's first ``failures`` requests raise ``error``, after ``delay``,
    before any response head arrives; returns every request the transport was given."""
    original = client._transport.handle_async_request
    given: list[Any] = []

    async def handle(request: Any) -> Any:
        given.append(request)
        if len(given) <= failures:
            await trio.sleep(delay)
            raise error("failed before the head", request=request)
        return await original(request)

    client._transport.handle_async_request = handle
    return given


def slow_head(client: Any, seconds: float) -> list[Any]:
    """Delay every response head of the client by ``seconds`` (the script records the
    request when the head is sent); returns every request the transport was given."""
    original = client._transport.handle_async_request
    given: list[Any] = []

    async def handle(request: Any) -> Any:
        given.append(request)
        await trio.sleep(seconds)
        return await original(request)

    client._transport.handle_async_request = handle
    return given


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_post_that_never_left_is_retried(
    error: type[httpx.TransportError], autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(Script([sse("a")]))
    given = fail_before_the_head(client, 2, delay=1, error=error)
    assert await collect(client, "POST", json={"q": 1}, retry=EXACT) == ["a"]
    assert len(given) == 3
    assert len(seen.requests) == 1  # the first two never reached the script


@pytest.mark.parametrize(
    "error", [httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteError]
)
async def test_a_post_that_may_have_been_taken_before_its_head_is_not_sent_again(
    error: type[httpx.TransportError], autojump_clock: trio.testing.MockClock
) -> None:
    # Written, then dropped while the server works on it: a second POST, a second bill.
    client, _ = scripted_client(Script([sse("a")]))
    given = fail_before_the_head(client, 1, delay=1, error=error)
    with pytest.raises(NetworkError, match=error.__name__) as info:
        await collect(client, "POST", json={"q": 1}, retry=EXACT)
    assert not isinstance(info.value, RetriesExhaustedError)
    assert len(given) == 1


async def test_a_get_that_failed_before_its_head_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a")]), Script(status=204))
    given = fail_before_the_head(client, 1, delay=1)
    assert await collect(client, retry=EXACT) == ["a"]
    assert (len(given), len(seen.requests)) == (3, 2)


async def test_a_post_whose_head_arrived_is_never_sent_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The 200 head means the server took the request (an LLM is generating, and billing):
    # a drop before the first body byte must not ask for a second reply.
    client, seen = scripted_client(Script([Pause(1), Drop()]), Script([sse("a")]))
    with pytest.raises(NetworkError, match="ReadError"):
        await collect(client, "POST", retry=EXACT)
    assert len(seen.requests) == 1


async def test_a_post_may_ask_to_reconnect(autojump_clock: trio.testing.MockClock) -> None:
    client, _ = scripted_client(Script([sse("a"), Drop()]), Script([sse("b")]))
    assert await collect(client, "POST", retry=EXACT, reconnect=True) == ["a", "b"]


async def test_a_get_may_ask_not_to_reconnect(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(Script([sse("a")]), Script([sse("b")]))
    assert await collect(client, retry=EXACT, reconnect=False) == ["a"]
    assert len(seen.requests) == 1


async def test_retry_none_means_one_attempt_and_no_reconnect(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a"), Drop()]), Script([sse("b")]))
    with pytest.raises(NetworkError):
        await collect(client, retry=None)
    assert len(seen.requests) == 1


async def test_reconnect_needs_a_policy(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client()
    with pytest.raises(ValueError, match="reconnect=True needs a retry policy"):
        await collect(client, retry=None, reconnect=True)
    assert seen.requests == []


async def test_errors_that_end_reconnection_come_after_the_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    for final, error in [
        (Script([b"gone"], status=410), StatusError),
        (Script([b"{}"], headers={"content-type": "application/json"}), ContentTypeError),
    ]:
        client, _ = scripted_client(Script([sse("a")]), final)
        received: list[str] = []
        async with open_event_stream(client, "GET", "/s", retry=EXACT) as events:
            with pytest.raises(error):
                async for event in events:
                    received.append(event.data)
            assert events.statistics().connection_attempts == 2
        assert received == ["a"]


async def test_exhausted_while_streaming_comes_after_the_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a"), Drop()]), *[unavailable()] * 3)
    policy = RetryPolicy(jitter=0, max_attempts=3)
    async with open_event_stream(client, "GET", "/s", retry=policy) as events:
        assert (await events.receive()).data == "a"
        with pytest.raises(RetriesExhaustedError) as info:
            await events.receive()
    # The dropped connection starts the run: it and two failed reconnects make three.
    assert info.value.attempts == 3
    assert isinstance(info.value.last_error, StatusError)


async def test_bodies_without_events_exhaust_the_policy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(*[Script([b": nothing\n\n"])] * 5)
    async with open_event_stream(
        client, "GET", "/s", retry=RetryPolicy(jitter=0, max_attempts=4)
    ) as events:
        with pytest.raises(RetriesExhaustedError, match="without an event") as info:
            await events.receive()
    assert info.value.last_error is None
    assert len(seen.requests) == 4


async def test_an_oversized_event_is_never_retried(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(Script([sse("a"), b"data: " + b"x" * 200]), Script([sse("b")]))
    received: list[str] = []
    with pytest.raises(EventTooLargeError):
        async with open_event_stream(
            client, "GET", "/s", retry=EXACT, max_event_size=100
        ) as events:
            async for event in events:
                received.append(event.data)
    assert received == ["a"]
    assert len(seen.requests) == 1


async def test_the_size_limit_holds_across_reconnects_without_carrying_the_cut_event(
    autojump_clock: trio.testing.MockClock,
) -> None:
    part = b"data: " + b"x" * 80
    client, _ = scripted_client(
        Script([part, Drop()]), Script([part + b"\n\n"]), Script(status=204)
    )
    assert await collect(client, retry=EXACT, max_event_size=100) == ["x" * 80]


async def test_idle_watchdog_fires_at_exactly_its_time(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a"), Pause(60), sse("late")]))
    async with open_event_stream(client, "POST", "/s", retry=EXACT, idle_timeout=5) as events:
        assert (await events.receive()).data == "a"
        start = trio.current_time()
        with pytest.raises(IdleTimeoutError, match="no data for 5 s") as info:
            await events.receive()
        assert trio.current_time() - start == 5
    assert info.value.idle_timeout == 5


async def test_comments_reset_the_idle_watchdog(autojump_clock: trio.testing.MockClock) -> None:
    ping = b": ping\n\n"
    client, _ = scripted_client(Script([ping, Pause(4), ping, Pause(4), ping, Pause(4), sse("b")]))
    start = trio.current_time()
    assert await collect(client, "POST", retry=EXACT, idle_timeout=5) == ["b"]
    assert trio.current_time() - start == 12


async def test_the_idle_watchdog_covers_waiting_for_the_response(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a")]), Script(status=204))
    original = client._transport.handle_async_request

    async def slow(request: Any) -> Any:
        if not hasattr(slow, "called"):
            slow.called = True  # type: ignore[attr-defined]
            await trio.sleep(100)
        return await original(request)

    client._transport.handle_async_request = slow
    start = trio.current_time()
    assert await collect(client, "GET", retry=EXACT, idle_timeout=3) == ["a"]
    # The watchdog, the first retry delay, then the reconnect's delay (answered 204).
    assert trio.current_time() - start == 3 + 1 + 1


async def test_a_post_whose_head_is_late_is_not_sent_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The watchdog fired while the server thought (the request written): one POST, one bill.
    client, _ = scripted_client(Script([sse("a")]), Script([sse("again")]))
    given = slow_head(client, 100)
    start = trio.current_time()
    with pytest.raises(IdleTimeoutError):
        await collect(client, "POST", json={"q": 1}, retry=EXACT, idle_timeout=3)
    assert trio.current_time() - start == 3
    assert len(given) == 1


def traced_slow_head(client: Any, steps: list[str], seconds: float) -> list[Any]:
    """Like :func:`slow_head` for the first request, which first reports ``steps`` to the
    request's ``trace`` extension, as httpcore does; returns every request given."""
    original = client._transport.handle_async_request
    given: list[Any] = []

    async def handle(request: Any) -> Any:
        given.append(request)
        if len(given) == 1:
            for step in steps:
                await request.extensions["trace"](step, {})
            await trio.sleep(seconds)
        return await original(request)

    client._transport.handle_async_request = handle
    return given


async def test_a_post_whose_watchdog_fired_while_connecting_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a")]))
    given = traced_slow_head(
        client, ["connection.connect_tcp.started", "connection.connect_tcp.complete"], 100
    )
    assert await collect(client, "POST", json={"q": 1}, retry=EXACT, idle_timeout=3) == ["a"]
    assert len(given) == 2


async def test_a_post_whose_watchdog_fired_after_sending_began_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a")]))
    steps = ["connection.connect_tcp.complete", "http11.send_request_headers.started"]
    given = traced_slow_head(client, steps, 100)
    with pytest.raises(IdleTimeoutError):
        await collect(client, "POST", json={"q": 1}, retry=EXACT, idle_timeout=3)
    assert len(given) == 1


async def test_the_callers_own_trace_and_extensions_still_work(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a")]))
    given = traced_slow_head(client, ["connection.connect_tcp.started"], 100)
    heard: list[str] = []

    async def mine(name: str, info: dict[str, Any]) -> None:
        heard.append(name)

    extensions = {"trace": mine, "sni_hostname": "example.test"}
    got = await collect(client, "POST", retry=EXACT, idle_timeout=3, extensions=extensions)
    assert got == ["a"]
    assert heard == ["connection.connect_tcp.started"]
    assert all(request.extensions["sni_hostname"] == "example.test" for request in given)
    assert extensions == {"trace": mine, "sni_hostname": "example.test"}  # not modified


async def test_a_slow_head_then_a_fast_body_is_not_idle(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # 4 s to the head, 4 s more to the first byte: 8 s in all, but never 5 s of silence.
    client, seen = scripted_client(Script([Pause(4), sse("a"), Pause(4), sse("b")]))
    slow_head(client, 4)
    start = trio.current_time()
    assert await collect(client, "POST", retry=EXACT, idle_timeout=5) == ["a", "b"]
    assert trio.current_time() - start == 12
    assert len(seen.requests) == 1  # one request: one bill


async def test_the_watchdog_restarts_when_the_head_arrives_and_a_post_is_not_resent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([Pause(60), sse("late")]), Script([sse("again")]))
    slow_head(client, 4)
    start = trio.current_time()
    with pytest.raises(IdleTimeoutError):
        await collect(client, "POST", retry=EXACT, idle_timeout=5)
    assert trio.current_time() - start == 4 + 5  # the head's time, then 5 s of silence
    assert len(seen.requests) == 1


async def test_a_slow_consumer_is_not_an_idle_server(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse(*"abcdef")]))
    received: list[str] = []
    async with open_event_stream(
        client, "POST", "/s", retry=EXACT, idle_timeout=1, max_buffer_size=0
    ) as events:
        async for event in events:
            await trio.sleep(10)  # ten times the watchdog, per event
            received.append(event.data)
    assert received == list("abcdef")


async def test_an_idle_get_reconnects_and_resumes(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(
        Script([sse([("id", "1"), ("data", "a")]), Pause(3600)]),
        Script([sse([("id", "2"), ("data", "b")])]),
        Script(status=204),
    )
    async with open_event_stream(client, "GET", "/s", retry=EXACT, idle_timeout=30) as events:
        assert [e.data async for e in events] == ["a", "b"]
        assert isinstance(events.statistics().last_error, IdleTimeoutError)
    assert seen.requests[1].headers["last-event-id"] == "1"
    assert gaps(seen.times)[0] == 30 + 1


async def test_cancelled_during_backoff_cancel_wins_and_nothing_leaks(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a"), Drop()]), Script([sse("b")]))
    received: list[str] = []
    with trio.move_on_after(5) as scope:
        async with open_event_stream(
            client, "GET", "/s", retry=RetryPolicy(base=60, jitter=0)
        ) as events:
            async for event in events:
                received.append(event.data)
    assert scope.cancelled_caught
    assert trio.current_time() == 5  # not 60: the sleep was cancelled
    assert received == ["a"]
    assert len(seen.requests) == 1
    assert seen.bodies[0].closed


async def test_closing_the_stream_wakes_a_pump_waiting_to_retry(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(Script([sse("a"), Drop()]), Script([sse("b")]))
    done = trio.Event()

    async def pump(task_status: trio.TaskStatus[EventStream]) -> None:
        await pump_events(
            client, "GET", "/s", retry=RetryPolicy(base=60, jitter=0), task_status=task_status
        )
        done.set()

    stream: EventStream = await nursery.start(pump)
    assert (await stream.receive()).data == "a"
    await trio.sleep(1)  # the pump is in its 60 s backoff now
    stream.close()
    with trio.fail_after(0.001):
        await done.wait()
    assert len(seen.requests) == 1


async def test_statistics_count_what_happened(autojump_clock: trio.testing.MockClock) -> None:
    client, _ = scripted_client(
        unavailable(),
        Script([sse("a", "b"), Drop()]),
        Script([sse("c")]),
        Script(status=204),
    )
    async with open_event_stream(client, "GET", "/s", retry=EXACT, max_buffer_size=8) as events:
        assert (await events.receive()).data == "a"
        await trio.testing.wait_all_tasks_blocked()
        middle = events.statistics()
        rest = [e.data async for e in events]
        end = events.statistics()
    assert rest == ["b", "c"]
    assert middle.events_delivered == 1
    assert middle.events_buffered >= 1
    assert (end.connection_attempts, end.reconnects) == (4, 2)
    assert (end.events_delivered, end.events_buffered) == (3, 0)
    assert end.bytes_received == len(sse("a", "b")) + len(sse("c"))
    assert isinstance(end.last_error, NetworkError)
    with pytest.raises(AttributeError):
        end.reconnects = 0  # type: ignore[misc]


async def test_reconnects_are_logged_at_info(
    caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    caplog.set_level(logging.INFO, logger="trio_sse")
    client, _ = scripted_client(Script([sse([("id", "1"), ("data", "a")]), Drop()]))
    assert await collect(client, retry=EXACT) == ["a"]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert infos == [
        "GET /s: ReadError: connection dropped by the script; retrying in 1 s",
        "http://test/s answered 204 No Content: the stream is over",
    ]


async def test_statistics_while_the_pump_waits_on_a_full_buffer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse(*map(str, range(200)))]))
    async with open_event_stream(client, "POST", "/s", max_buffer_size=64) as events:
        await trio.testing.wait_all_tasks_blocked()  # 64 in the buffer, the pump holds one
        before = events.statistics()
        assert (await events.receive()).data == "0"
        taken = events.statistics()  # the pump's event went into the buffer; not run yet
        await trio.testing.wait_all_tasks_blocked()
        after = events.statistics()  # and now it holds the next one
        rest = [event.data async for event in events]
        end = events.statistics()
    assert (before.events_delivered, before.events_buffered) == (0, 65)
    assert (taken.events_delivered, taken.events_buffered) == (1, 64)
    assert (after.events_delivered, after.events_buffered) == (1, 65)
    assert len(rest) == 199
    assert (end.events_delivered, end.events_buffered) == (200, 0)


async def test_statistics_of_an_unbuffered_stream(autojump_clock: trio.testing.MockClock) -> None:
    client, _ = scripted_client(Script([sse("a", "b", "c")]))
    async with open_event_stream(client, "POST", "/s", max_buffer_size=0) as events:
        await trio.testing.wait_all_tasks_blocked()
        assert (events.statistics().events_delivered, events.statistics().events_buffered) == (
            0,
            1,
        )
        assert (await events.receive()).data == "a"
        assert events.statistics().events_delivered == 1
        events.close()  # the pump's "b" never goes in: not counted as sent
        await trio.testing.wait_all_tasks_blocked()
        stats = events.statistics()
    assert (stats.events_delivered, stats.events_buffered) == (1, 0)


async def test_events_a_close_discards_are_not_counted_as_delivered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse(*map(str, range(10)))]))
    async with open_event_stream(client, "GET", "/s", retry=None) as events:
        await trio.testing.wait_all_tasks_blocked()
        assert (await events.receive()).data == "0"
        assert events.receive_nowait().data == "1"
        events.close()  # trio's channel drops the 8 still buffered
        stats = events.statistics()
    assert (stats.events_delivered, stats.events_buffered) == (2, 8)


async def test_a_fan_outs_copies_count_what_they_took(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse(*map(str, range(10)))]))
    async with open_event_stream(client, "GET", "/s", retry=None) as events:
        fast, slow = events.fan_out(2)
        await trio.testing.wait_all_tasks_blocked()
        assert [(await fast.receive()).data for _ in range(3)] == ["0", "1", "2"]
        assert (await slow.receive()).data == "0"
        stats = events.statistics()
        fast.close()
        slow.close()
        closed = events.statistics()
    assert (stats.events_delivered, stats.events_buffered) == (3, 7)
    assert (closed.events_delivered, closed.events_buffered) == (3, 7)


@pytest.mark.parametrize("status", [201, 202, 203, 205, 206, 210, 226, 299])
async def test_only_a_200_starts_a_stream(
    status: int, autojump_clock: trio.testing.MockClock
) -> None:
    # With the default policy a GET once reconnected to these for ever.
    client, seen = scripted_client(*[Script([sse("a")], status=status)] * 3)
    with pytest.raises(StatusError, match=f"answered {status}") as info:
        await collect(client)
    assert info.value.status_code == status
    assert info.value.body == "data: a\n\n"
    assert len(seen.requests) == 1


async def test_a_205_on_a_reconnect_ends_the_stream_with_a_status_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a")]), Script(status=205, headers={}))
    received: list[str] = []
    with pytest.raises(StatusError) as info:
        async with open_event_stream(client, "GET", "/s", retry=EXACT) as events:
            async for event in events:
                received.append(event.data)
    assert received == ["a"]
    assert info.value.status_code == 205
    assert len(seen.requests) == 2


@pytest.mark.parametrize("idle_timeout", [0, -1.0])
async def test_idle_timeout_must_be_positive(
    idle_timeout: float, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client()
    with pytest.raises(ValueError, match="idle_timeout"):
        await collect(client, idle_timeout=idle_timeout)
    assert seen.requests == []


async def test_pump_events_lower_tier_reconnects_too(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(Script([sse([("id", "x"), ("data", "a")]), Drop()]))
    stream = await nursery.start(partial(pump_events, client, "GET", "/s", retry=EXACT))
    assert [e.data async for e in stream] == ["a"]
    assert seen.requests[1].headers["last-event-id"] == "x"


async def test_a_request_that_cannot_work_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client = httpx.AsyncClient()
    with pytest.raises(NetworkError, match="UnsupportedProtocol") as info:
        await collect(client, url="ftp://example.test/feed")
    assert not info.value.transient
    assert trio.current_time() == 0  # no backoff: it gave up at once


async def test_a_body_that_does_not_decode_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gzip = {"content-type": "text/event-stream", "content-encoding": "gzip"}
    client, seen = scripted_client(Script([b"not gzip at all"], headers=gzip))
    with pytest.raises(NetworkError, match="DecodingError") as info:
        await collect(client, retry=EXACT)
    assert not info.value.transient
    assert len(seen.requests) == 1


async def test_one_attempt_is_said_in_the_singular(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(unavailable())
    with pytest.raises(RetriesExhaustedError, match=r"gave up after 1 attempt; the last: "):
        await collect(client, retry=RetryPolicy(max_attempts=1))
