"""pump_events, the lower tier, driven by a scripted transport under the autojump clock."""

from __future__ import annotations

import gc
import logging
import weakref
from functools import partial
from itertools import pairwise
from typing import Any

import httpx
import pytest
import trio
import trio.testing

import trio_sse
from trio_sse import (
    ContentTypeError,
    EventStream,
    EventTooLargeError,
    NetworkError,
    StatusError,
    pump_events,
)

from .scripted import Crash, Drop, Pause, Script, scripted_client, sse


async def start(
    nursery: trio.Nursery, client: Any, method: str = "GET", **kwargs: Any
) -> EventStream:
    stream: EventStream = await nursery.start(partial(pump_events, client, method, "/s", **kwargs))
    return stream


async def test_sends_event_stream_headers_and_callers_win(nursery: trio.Nursery) -> None:
    client, seen = scripted_client(Script([sse("a")]), Script([sse("b")]))
    mine = {"Accept": "application/json, text/event-stream", "X-Key": "k"}
    await start(nursery, client)
    await start(nursery, client, headers=mine)
    first, second = seen.requests
    assert (first.headers["accept"], first.headers["cache-control"]) == (
        "text/event-stream",
        "no-cache",
    )
    assert second.headers["accept"] == "application/json, text/event-stream"
    assert second.headers["x-key"] == "k"
    assert mine == {"Accept": "application/json, text/event-stream", "X-Key": "k"}


@pytest.mark.parametrize(
    "mine",
    [
        {b"Accept": b"application/json, text/event-stream", b"X-Key": b"k"},
        [(b"ACCEPT", "application/json, text/event-stream"), ("X-Key", b"k")],
    ],
)
async def test_header_names_given_as_bytes_are_understood(nursery: trio.Nursery, mine: Any) -> None:
    client, seen = scripted_client(Script([sse("a")]))
    await start(nursery, client, headers=mine)
    (request,) = seen.requests
    assert request.headers.get_list("accept") == ["application/json, text/event-stream"]
    assert request.headers["x-key"] == "k"


async def test_no_read_timeout_unless_asked(nursery: trio.Nursery) -> None:
    client, seen = scripted_client(
        Script([sse("a")]), Script([sse("b")]), timeout=httpx.Timeout(5.0, connect=3.0)
    )
    await start(nursery, client)
    await start(nursery, client, timeout=7.0)
    default, explicit = (request.extensions["timeout"] for request in seen.requests)
    assert default == {"connect": 3.0, "read": None, "write": 5.0, "pool": 5.0}
    assert explicit["read"] == 7.0


async def test_events_in_order_then_the_channel_ends(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    body = sse((("id", "1"), ("data", "one")), "two", "three")
    client, seen = scripted_client(Script([body[:7], Pause(3600), body[7:20], body[20:]]))
    stream = await start(nursery, client)
    assert (stream.status_code, stream.url) == (200, "http://test/s")
    assert stream.headers["content-type"] == "text/event-stream"
    assert [(e.data, e.id) async for e in stream] == [("one", "1"), ("two", "1"), ("three", "1")]
    assert trio.current_time() >= 3600  # an hour's silence is not a timeout
    assert seen.bodies[0].closed


async def test_receive_that_waits_is_a_full_checkpoint_and_nowait_is_none(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client, _ = scripted_client(Script([Pause(1), sse("a", "b")]))
    stream = await start(nursery, client)
    with trio.testing.assert_checkpoints():
        assert (await stream.receive()).data == "a"
    await trio.testing.wait_all_tasks_blocked()
    with trio.testing.assert_no_checkpoints():
        assert stream.receive_nowait().data == "b"


async def test_buffered_receive_is_a_cancellation_point_and_loses_nothing(
    nursery: trio.Nursery,
) -> None:
    client, _ = scripted_client(Script([sse("a", "b", "c")]))
    stream = await start(nursery, client)
    await trio.testing.wait_all_tasks_blocked()  # all three are buffered now
    with trio.CancelScope() as scope:
        scope.cancel()
        await stream.receive()
        pytest.fail("a cancelled receive must raise")  # pragma: no cover
    assert scope.cancelled_caught
    assert [e.data async for e in stream] == ["a", "b", "c"]


async def test_a_fast_consumer_lets_sibling_tasks_run(nursery: trio.Nursery) -> None:
    # Every event already buffered: the consumer never has to wait, yet a sibling task
    # must get its turn at least every 64 events.
    count = 3000
    client, _ = scripted_client(Script([sse(*map(str, range(count)))]))
    stream = await start(nursery, client, max_buffer_size=count)
    await trio.testing.wait_all_tasks_blocked()
    received: list[str] = []
    turns: list[int] = []

    async def sibling() -> None:
        while True:
            turns.append(len(received))
            await trio.lowlevel.checkpoint()

    nursery.start_soon(sibling)
    async for event in stream:
        received.append(event.data)
    assert received == [str(i) for i in range(count)]
    gaps = [later - earlier for earlier, later in pairwise(turns)]
    # A schedule point every 64 receives; Trio may run the sibling before or after the
    # consumer within a batch, so two observations can be up to twice that apart.
    assert max(gaps) <= 2 * 64
    assert len(turns) >= count // 128


async def test_status_error_before_start_with_bounded_excerpt(nursery: trio.Nursery) -> None:
    body = [b"x" * 1000] * 50
    client, seen = scripted_client(
        Script(body, status=503, headers={"content-type": "text/plain", "retry-after": "5"})
    )
    with pytest.raises(StatusError) as info:
        await start(nursery, client, retry=None)
    error = info.value
    assert (error.status_code, error.url, error.headers["retry-after"]) == (
        503,
        "http://test/s",
        "5",
    )
    assert error.body == "x" * 2048
    assert seen.bodies[0].chunks_read == 3  # it stopped reading once it had enough
    assert seen.bodies[0].closed


@pytest.mark.parametrize("status", [400, 404, 500, 301])
async def test_every_non_2xx_is_a_status_error(nursery: trio.Nursery, status: int) -> None:
    client, _ = scripted_client(Script([b"nope"], status=status))
    with pytest.raises(StatusError, match=str(status)) as info:
        await start(nursery, client, retry=None)
    assert info.value.body == "nope"


@pytest.mark.parametrize(
    "content_type", ["application/json", "", "text/event-streams", "text/plain"]
)
async def test_content_type_error(nursery: trio.Nursery, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    client, _ = scripted_client(Script([sse("a")], headers=headers))
    with pytest.raises(ContentTypeError) as info:
        await start(nursery, client)
    assert (info.value.content_type, info.value.status_code) == (content_type, 200)


@pytest.mark.parametrize(
    "content_type", ["text/event-stream; charset=utf-8", "Text/Event-Stream", " text/event-stream"]
)
async def test_content_type_parameters_and_case_accepted(
    nursery: trio.Nursery, content_type: str
) -> None:
    client, _ = scripted_client(Script([sse("a")], headers={"content-type": content_type}))
    stream = await start(nursery, client)
    assert [e.data async for e in stream] == ["a"]


async def test_204_is_an_empty_stream(nursery: trio.Nursery) -> None:
    client, _ = scripted_client(Script([], status=204, headers={}))
    stream = await start(nursery, client)
    assert [e async for e in stream] == []


async def test_drop_mid_stream_raises_network_error_after_earlier_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a"), b"data: cut", Pause(1), Drop()]))
    received: list[str] = []
    clean_end = False
    with pytest.RaisesGroup(pytest.RaisesExc(NetworkError, match="ReadError")) as info:
        async with trio.open_nursery() as nursery:
            stream = await start(nursery, client, "POST")
            async for event in stream:
                received.append(event.data)
            clean_end = True
    assert received == ["a"]
    assert not clean_end  # the sibling consumer is cancelled; it never sees an end
    [error] = info.value.exceptions
    assert isinstance(error.__cause__, httpx.ReadError)


async def test_connect_error_is_a_network_error_at_start(nursery: trio.Nursery) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://test")
    with pytest.raises(NetworkError, match="ConnectError") as info:
        await start(nursery, client, retry=None)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


async def test_receiver_gone_closes_the_response_quietly(nursery: trio.Nursery) -> None:
    client, seen = scripted_client(Script([sse(str(i)) for i in range(100)]))
    stream = await start(nursery, client, max_buffer_size=1)
    assert (await stream.receive()).data == "0"
    await stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    body = seen.bodies[0]
    assert body.closed
    assert body.chunks_read < 10


async def test_closing_stops_a_pump_waiting_on_a_silent_server(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(Script([sse("a"), Pause(3600), sse("b")]))
    done = trio.Event()

    async def pump(task_status: trio.TaskStatus[EventStream]) -> None:
        await pump_events(client, "POST", "/s", task_status=task_status)
        done.set()

    stream: EventStream = await nursery.start(pump)
    assert (await stream.receive()).data == "a"
    await trio.sleep(1)  # the pump waits on the body now
    stream.close()
    with trio.fail_after(0.001):
        await done.wait()  # at once, not when the server next speaks
    assert seen.bodies[0].closed
    assert trio.current_time() < 2


async def test_slow_consumer_slows_the_reads(nursery: trio.Nursery) -> None:
    client, seen = scripted_client(Script([sse(str(i)) for i in range(100)]))
    stream = await start(nursery, client, max_buffer_size=4)
    await trio.testing.wait_all_tasks_blocked()
    # Four events buffered, a fifth in the pump's hand, waiting: nothing more was read.
    assert seen.bodies[0].chunks_read == 5
    assert [e.data async for e in stream] == [str(i) for i in range(100)]


async def test_event_too_large_delivers_what_came_before() -> None:
    client, seen = scripted_client(Script([sse("a", "b") + b"data: " + b"x" * 500]))
    received: list[str] = []
    with pytest.RaisesGroup(EventTooLargeError):
        async with trio.open_nursery() as nursery:
            stream = await start(nursery, client, max_event_size=100)
            async for event in stream:
                received.append(event.data)
    assert received == ["a", "b"]
    assert seen.bodies[0].closed


async def test_cancelling_the_nursery_closes_the_response(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a"), Pause(10_000), sse("b")]))
    async with trio.open_nursery() as nursery:
        stream = await start(nursery, client)
        assert (await stream.receive()).data == "a"
        nursery.cancel_scope.cancel()
    assert seen.bodies[0].closed
    assert trio.current_time() < 1


async def test_pump_cancelled_alone_closes_the_stream_for_consumers_elsewhere(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    client, seen = scripted_client(Script([sse("a"), Pause(10_000), sse("b")]))
    pump_scope = trio.CancelScope()

    async def pump_in_its_own_scope(*, task_status: trio.TaskStatus[EventStream]) -> None:
        with pump_scope:
            await pump_events(client, "GET", "/s", task_status=task_status)

    stream: EventStream = await nursery.start(pump_in_its_own_scope)
    assert (await stream.receive()).data == "a"
    nursery.start_soon(trio.sleep, 0)
    pump_scope.cancel()
    with pytest.raises(trio.ClosedResourceError):  # not a clean EndOfChannel
        await stream.receive()
    assert seen.bodies[0].closed


async def test_a_pump_bug_reaches_a_consumer_outside_its_nursery(nursery: trio.Nursery) -> None:
    client, _ = scripted_client(Script([sse("a"), Crash(RuntimeError("transport bug"))]))

    async def owner(*, task_status: trio.TaskStatus[EventStream]) -> None:
        with pytest.RaisesGroup(RuntimeError):  # the bug crashes the pump's own nursery
            async with trio.open_nursery() as pump_nursery:
                task_status.started(await start(pump_nursery, client))

    stream: EventStream = await nursery.start(owner)
    assert (await stream.receive()).data == "a"
    with trio.fail_after(10), pytest.raises(RuntimeError, match="transport bug"):
        await stream.receive()  # not a hang, and not an end


async def test_receiver_gone_while_an_oversized_event_is_reported(nursery: trio.Nursery) -> None:
    client, seen = scripted_client(Script([sse("a", "b") + b"data: " + b"x" * 500]))
    stream = await start(nursery, client, max_event_size=100, max_buffer_size=0)
    assert (await stream.receive()).data == "a"
    await stream.aclose()  # gone while "b" was waiting to be sent
    await trio.testing.wait_all_tasks_blocked()
    assert seen.bodies[0].closed  # and the pump ended quietly: the test's nursery is fine


async def test_bad_arguments_fail_before_any_request(nursery: trio.Nursery) -> None:
    client, seen = scripted_client()
    with pytest.raises(ValueError, match="max_event_size"):
        await start(nursery, client, max_event_size=0)
    with pytest.raises(ValueError, match="max_buffer_size"):
        await start(nursery, client, max_buffer_size=-1)
    assert seen.requests == []


async def test_debug_logging(nursery: trio.Nursery, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_sse")
    client, _ = scripted_client(Script([sse("a", "b")]))
    stream = await start(nursery, client, "POST")
    assert len([e async for e in stream]) == 2
    await trio.testing.wait_all_tasks_blocked()
    messages = [r.getMessage() for r in caplog.records if r.name == "trio_sse"]
    assert messages[0] == "connecting: POST /s (attempt 1)"
    assert messages[-1] == "body ended: http://test/s (2 events so far)"


def test_public_names_belong_to_trio_sse() -> None:
    for name in trio_sse.__all__:
        obj = getattr(trio_sse, name)
        if hasattr(obj, "__module__") and name != "ServerSentEvent":
            assert obj.__module__ == "trio_sse", name


async def test_byte_bound_stops_the_reads_until_the_consumer_drains(nursery: trio.Nursery) -> None:
    # Ten events of 100 characters, one per chunk; a 250-character bound holds two.
    client, seen = scripted_client(Script([sse(str(i) * 100) for i in range(10)]))
    stream = await start(nursery, client, max_buffer_bytes=250)
    await trio.testing.wait_all_tasks_blocked()
    # Two buffered, a third in the pump's hand, waiting: nothing more was read.
    assert seen.bodies[0].chunks_read == 3
    stats = stream.statistics()
    assert (stats.events_delivered, stats.events_buffered) == (0, 2)
    assert (await stream.receive()).data == "0" * 100
    await trio.testing.wait_all_tasks_blocked()
    # One received: the third goes in, the fourth is read and waits.
    assert seen.bodies[0].chunks_read == 4
    stats = stream.statistics()
    assert (stats.events_delivered, stats.events_buffered) == (1, 2)
    assert [e.data async for e in stream] == [str(i) * 100 for i in range(1, 10)]
    assert stream.statistics().events_delivered == 10


async def test_byte_bound_waits_for_enough_receives_and_lets_a_big_event_through(
    nursery: trio.Nursery,
) -> None:
    sizes = [10, 10, 10, 300, 10, 10]
    client, seen = scripted_client(Script([sse("x" * n) for n in sizes]))
    stream = await start(nursery, client, max_buffer_bytes=100)
    await trio.testing.wait_all_tasks_blocked()
    assert stream.statistics().events_buffered == 3  # 300 more would pass the bound
    for expected in (1, 2):
        await stream.receive()
        await trio.testing.wait_all_tasks_blocked()
        assert stream.statistics().events_buffered == 3 - expected  # still waiting
    await stream.receive()  # nothing held now: the big one goes in alone
    await trio.testing.wait_all_tasks_blocked()
    assert stream.statistics().events_buffered == 1
    assert seen.bodies[0].chunks_read == 5  # the next one is read and waits behind it
    assert [len(e.data) async for e in stream] == sizes[3:]


async def test_byte_bound_with_fan_out_counts_what_the_copies_took(
    nursery: trio.Nursery,
) -> None:
    client, _ = scripted_client(Script([sse(str(i % 10) * 50) for i in range(40)]))
    stream = await start(nursery, client, max_buffer_bytes=120)
    first, second = stream.fan_out(2, max_buffer_size=4)
    got: list[list[str]] = [[], []]

    async def read(copy: Any, into: list[str]) -> None:
        async with copy:
            async for event in copy:
                into.append(event.data)

    async with trio.open_nursery() as readers:
        readers.start_soon(read, first, got[0])
        readers.start_soon(read, second, got[1])
    assert got[0] == got[1] == [str(i % 10) * 50 for i in range(40)]


def test_byte_bound_below_one_is_refused() -> None:
    client, _ = scripted_client(Script([sse("a")]))

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            with pytest.raises(ValueError, match="max_buffer_bytes"):
                await start(nursery, client, max_buffer_bytes=0)

    trio.run(main)


@pytest.mark.parametrize("idle_timeout", [None, 30.0])
async def test_an_attempt_opens_a_watchdog_scope_only_with_an_idle_timeout(
    nursery: trio.Nursery, idle_timeout: float | None
) -> None:
    # Memory per stream: without an idle timeout the attempt has no cancel scope of its own.
    from trio_sse._decoder import SSEDecoder
    from trio_sse._pump import Pump
    from trio_sse._redirect import Request

    client, _ = scripted_client(Script([sse("a"), sse("b")]))
    pump = Pump(
        client,
        Request("GET", "/s", (), {}),
        decoder=SSEDecoder(),
        follow_redirects=True,
        retry=None,
        reconnect=False,
        idle_timeout=idle_timeout,
        max_buffer_size=64,
        max_buffer_bytes=1024,
    )
    stream: EventStream = await nursery.start(pump.run)
    assert [e.data async for e in stream] == ["a", "b"]
    watchdog = pump._watchdog  # pyright: ignore[reportPrivateUsage]
    assert (watchdog is None) == (idle_timeout is None)


async def test_the_pump_keeps_no_event_the_consumer_has_taken(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    # While the pump waits for the next piece, neither that piece nor the list of its
    # events is held: an event the consumer took and dropped is gone (memory in a burst
    # of many streams is what the consumers hold, not what the pumps decoded last).
    client, _ = scripted_client(Script([sse("a", "b", "c"), Pause(3600), sse("d")]))
    stream = await start(nursery, client)
    taken = [weakref.ref(await stream.receive()) for _ in range(3)]
    await trio.testing.wait_all_tasks_blocked()  # the pump is waiting for "d"
    gc.collect()
    assert [ref() for ref in taken] == [None, None, None]
    assert (await stream.receive()).data == "d"
