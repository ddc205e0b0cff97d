"""fan_out: every event of one stream to each of several sibling consumers.

Generic cases drive a :class:`HandoffChannel` over a memory channel, so the test decides
exactly when each item exists; stream cases run the pump (or the provider consumer) on
the scripted transport under the autojump clock.
"""

from __future__ import annotations

import json
import math
import random
from itertools import pairwise

import httpx
import pytest
import trio
import trio.testing

import trio_sse
from trio_sse import EventStream, FanOutChannel, NetworkError, ServerSentEvent
from trio_sse._handoff import Handoff, HandoffChannel
from trio_sse.providers import MessageStop, StreamEvent, TextDelta, open_provider_stream
from trio_sse.testing import Drop, Pause, ScriptedTransport, encode_event

from .scripted import Script, scripted_client, sse


def producer(size: int = 0) -> tuple[trio.MemorySendChannel[int], Handoff, HandoffChannel[int]]:
    send, receive = trio.open_memory_channel[int](size)
    handoff = Handoff()
    return send, handoff, HandoffChannel(receive, handoff)


def ticks(count: int) -> bytes:
    return b"".join(encode_event(str(i), id=str(i)) for i in range(count))


async def drain(channel: trio.abc.ReceiveChannel[ServerSentEvent], delay: float = 0) -> list[str]:
    """Every event's data until the end; ``delay`` seconds of work after each."""
    seen: list[str] = []
    async with channel:
        async for event in channel:
            seen.append(event.data)
            await trio.sleep(delay)
    return seen


# --- every copy, every event ----------------------------------------------------------------


async def test_every_copy_gets_every_event_in_order_whatever_its_pace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([ticks(200)]))
    results: dict[str, list[str]] = {}

    async def consume(
        name: str, channel: trio.abc.ReceiveChannel[ServerSentEvent], delay: float
    ) -> None:
        results[name] = await drain(channel, delay)

    async with (
        client,
        trio_sse.open_event_stream(client, "POST", "/s", max_buffer_size=2) as stream,
        trio.open_nursery() as nursery,
    ):
        ui, log, total = stream.fan_out(3, max_buffer_size=4)
        nursery.start_soon(consume, "ui", ui, 0.0)
        nursery.start_soon(consume, "log", log, 0.01)
        nursery.start_soon(consume, "total", total, 0.003)
    expected = [str(i) for i in range(200)]
    assert results == {"ui": expected, "log": expected, "total": expected}
    assert trio.current_time() == pytest.approx(2.0)  # the slowest set the pace: 200 x 10 ms


async def test_the_slowest_copy_bounds_what_is_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # One event per chunk: chunks read = events decoded. Between the slowest consumer and
    # the server: the fan-out's window (3), the pump's buffer (2), and the one event the
    # pump is blocked sending. Nothing more is read, however long the stream.
    events = 100
    client, transport = scripted_client(Script([encode_event(str(i)) for i in range(events)]))
    received = {"fast": 0, "slow": 0}
    lead: list[int] = []
    overread: list[int] = []

    async def consume(name: str, channel: trio.abc.ReceiveChannel[ServerSentEvent]) -> None:
        async with channel:
            async for _ in channel:
                received[name] += 1
                lead.append(received["fast"] - received["slow"])
                if name == "slow":
                    await trio.sleep(1)  # meanwhile everyone else goes as far as they may
                    overread.append(transport.bodies[0].chunks_read - received["slow"])

    async with (
        client,
        trio_sse.open_event_stream(client, "POST", "/s", max_buffer_size=2) as stream,
        trio.open_nursery() as nursery,
    ):
        fast, slow = stream.fan_out(2, max_buffer_size=3)
        nursery.start_soon(consume, "fast", fast)
        nursery.start_soon(consume, "slow", slow)
    assert received == {"fast": events, "slow": events}
    assert max(lead) == 3  # the fast one ran ahead as far as it may, and no further
    assert max(overread) == 3 + 2 + 1  # while there were events left to read


async def test_one_copy_in_step_with_max_buffer_size_1() -> None:
    send, _, channel = producer(10)
    for i in range(5):
        send.send_nowait(i)
    send.close()
    a, b = channel.fan_out(2, max_buffer_size=1)
    assert await a.receive() == 0
    with pytest.raises(trio.WouldBlock):
        a.receive_nowait()  # one ahead of b already
    assert [await b.receive(), await a.receive(), await b.receive()] == [0, 1, 1]


# --- how the stream ends, for each copy -------------------------------------------------------


async def test_a_clean_end_reaches_each_copy_after_its_events() -> None:
    send, _, channel = producer(10)
    copies = channel.fan_out(3)
    for i in range(3):
        send.send_nowait(i)
    send.close()
    for copy in copies:
        assert [item async for item in copy] == [0, 1, 2]
        with pytest.raises(trio.EndOfChannel):
            await copy.receive()  # and again, as a channel does
        with pytest.raises(trio.EndOfChannel):
            copy.receive_nowait()


async def test_a_failure_reaches_each_copy_as_itself_after_every_event(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A POST dropped mid-body: every consumer gets the three events, then the NetworkError.
    client, _ = scripted_client(Script([sse("a", "b"), Pause(1), sse("c"), Drop()]))
    seen: list[tuple[list[str], BaseException]] = []

    async def consume(channel: trio.abc.ReceiveChannel[ServerSentEvent]) -> None:
        got: list[str] = []
        try:
            async for event in channel:
                got.append(event.data)
        except NetworkError as exc:
            seen.append((got, exc))

    async with (
        client,
        trio_sse.open_event_stream(client, "POST", "/s") as stream,
        trio.open_nursery() as nursery,
    ):
        for copy in stream.fan_out(3):
            nursery.start_soon(consume, copy)
    assert [got for got, _ in seen] == [["a", "b", "c"]] * 3
    errors = {id(error) for _, error in seen}
    assert len(errors) == 1  # the stream's error itself, one object, for each consumer


async def test_a_producer_bug_reaches_each_copy_and_a_closed_source_is_not_an_end() -> None:
    send, handoff, channel = producer(10)
    a, b = channel.fan_out(2)
    send.send_nowait(1)
    handoff.error = KeyError("bug")
    send.close()
    for copy in (a, b):
        assert await copy.receive() == 1
        with pytest.raises(KeyError, match="bug"):
            await copy.receive()

    _, _, cut = producer()
    c, d = cut.fan_out(2)
    cut.close()  # the pump cancelled: its receive end closed under the consumers
    for copy in (c, d):
        with pytest.raises(trio.ClosedResourceError):
            await copy.receive()


# --- closing ------------------------------------------------------------------------------


async def test_closing_one_copy_leaves_the_others_and_closing_all_stops_the_pump(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, transport = scripted_client(Script([ticks(20), Pause(math.inf)]))
    async with client, trio_sse.open_event_stream(client, "GET", "/s") as stream:
        quitter, stayer = stream.fan_out(2, max_buffer_size=2)
        assert (await quitter.receive()).data == "0"
        await quitter.aclose()
        with pytest.raises(trio.ClosedResourceError):
            await quitter.receive()
        assert [(await stayer.receive()).data for _ in range(20)] == [str(i) for i in range(20)]
        assert not transport.bodies[0].closed
        stayer.close()
        stayer.close()  # idempotent
        await trio.testing.wait_all_tasks_blocked()
        assert transport.bodies[0].closed  # the last copy closed: the pump stopped


async def test_closing_a_copy_wakes_its_waiting_receive_and_frees_the_others() -> None:
    with trio.fail_after(1):
        await _closing_a_copy_wakes_its_waiting_receive_and_frees_the_others()


async def _closing_a_copy_wakes_its_waiting_receive_and_frees_the_others() -> None:
    send, _, channel = producer(10)
    slow, fast = channel.fan_out(2, max_buffer_size=1)
    send.send_nowait(1)
    send.send_nowait(2)
    assert await fast.receive() == 1
    async with trio.open_nursery() as nursery:
        got: list[int] = []

        async def take_next() -> None:
            got.append(await fast.receive())  # waits: one ahead of ``slow``

        nursery.start_soon(take_next)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        slow.close()  # the one holding it back is gone
    assert got == [2]

    _, _, idle = producer()
    only, _ = idle.fan_out(2)  # not the last copy: the source stays open
    async with trio.open_nursery() as nursery:

        async def receive_closed() -> None:
            with pytest.raises(trio.ClosedResourceError):
                await only.receive()

        nursery.start_soon(receive_closed)
        await trio.testing.wait_all_tasks_blocked()
        only.close()


async def test_a_copy_closed_while_it_waits_on_the_source_stops_waiting() -> None:
    send, _, channel = producer()
    a, b = channel.fan_out(2)
    with trio.fail_after(1):
        async with trio.open_nursery() as nursery:
            got: list[int] = []

            async def receive_closed() -> None:
                with pytest.raises(trio.ClosedResourceError):
                    await a.receive()

            nursery.start_soon(receive_closed)
            await trio.testing.wait_all_tasks_blocked()  # ``a`` waits on the source for both
            nursery.start_soon(lambda: _append(b, got))
            await trio.testing.wait_all_tasks_blocked()
            a.close()  # wakes ``a`` at once; ``b`` waits on the source in its place
            await trio.testing.wait_all_tasks_blocked()
            await send.send(7)
        assert got == [7]


async def test_an_item_that_reaches_a_copy_closed_meanwhile_goes_to_the_others() -> None:
    send, _, channel = producer()
    a, b = channel.fan_out(2)
    with trio.fail_after(1):
        async with trio.open_nursery() as nursery:

            async def receive_closed() -> None:
                with pytest.raises(trio.ClosedResourceError):
                    await a.receive()

            nursery.start_soon(receive_closed)
            await trio.testing.wait_all_tasks_blocked()
            send.send_nowait(7)  # handed to ``a``'s waiting receive, which has not run yet
            a.close()
        assert await b.receive() == 7


async def _append(channel: trio.abc.ReceiveChannel[int], into: list[int]) -> None:
    into.append(await channel.receive())


# --- cancellation and checkpoints ---------------------------------------------------------


async def test_a_copy_cancelled_while_it_fetches_loses_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a"), Pause(10), sse("b", "c")]))
    async with client, trio_sse.open_event_stream(client, "POST", "/s") as stream:
        first, second = stream.fan_out(2)
        assert (await first.receive()).data == "a"
        async with trio.open_nursery() as nursery:
            other: list[str] = []
            nursery.start_soon(lambda: _collect(second, other))
            with trio.move_on_after(5) as scope:
                await first.receive()  # waits on the pump for "b", for both copies
            assert scope.cancelled_caught
        assert other == ["a", "b", "c"]  # ``second`` took over the wait
        assert [event.data async for event in first] == ["b", "c"]


async def _collect(channel: trio.abc.ReceiveChannel[ServerSentEvent], into: list[str]) -> None:
    async for event in channel:
        into.append(event.data)


async def test_receive_is_a_cancellation_point_that_takes_nothing() -> None:
    send, _, channel = producer(10)
    a, _ = channel.fan_out(2)
    send.send_nowait(1)
    for _ in range(2):  # from the source, then from the window
        with trio.CancelScope() as scope:
            scope.cancel()
            await a.receive()
            pytest.fail("a cancelled receive must raise")  # pragma: no cover
        assert scope.cancelled_caught
    assert await a.receive() == 1


async def test_a_receive_that_waits_is_a_full_checkpoint_and_nowait_is_none() -> None:
    send, _, channel = producer(10)
    a, b = channel.fan_out(2)
    async with trio.open_nursery() as nursery:

        async def send_later() -> None:
            await trio.testing.wait_all_tasks_blocked()
            await send.send(1)

        nursery.start_soon(send_later)
        with trio.testing.assert_checkpoints():
            assert await a.receive() == 1
    with trio.testing.assert_no_checkpoints():
        assert b.receive_nowait() == 1
        send.send_nowait(2)
        assert b.receive_nowait() == 2
        b.close()
    with trio.testing.assert_checkpoints():
        await a.aclose()


async def test_receive_nowait_never_overtakes_a_copy_waiting_on_the_source() -> None:
    send, _, channel = producer()
    a, b = channel.fan_out(2)
    async with trio.open_nursery() as nursery:
        got: list[int] = []

        async def receive_one() -> None:
            got.append(await a.receive())

        nursery.start_soon(receive_one)
        await trio.testing.wait_all_tasks_blocked()
        send.send_nowait(1)  # handed to ``a``'s waiting receive, which has not run yet
        with pytest.raises(trio.WouldBlock):
            b.receive_nowait()
    assert got == [1]
    assert b.receive_nowait() == 1


async def test_a_fast_copy_lets_sibling_tasks_run() -> None:
    send, _, channel = producer(1000)
    for i in range(1000):
        send.send_nowait(i)
    send.close()
    [only] = channel.fan_out(1)
    received = 0
    turns: list[int] = []

    async def sibling() -> None:
        while received < 1000:
            turns.append(received)
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sibling)
        async for _ in only:
            received += 1
    gaps = [later - earlier for earlier, later in pairwise(turns)]
    assert gaps
    assert max(gaps) <= 128


# --- misuse -------------------------------------------------------------------------------


async def test_the_fanned_out_channel_itself_is_busy() -> None:
    send, _, channel = producer(10)
    send.send_nowait(1)
    channel.fan_out(2)
    with pytest.raises(trio.BusyResourceError):
        await channel.receive()
    with pytest.raises(trio.BusyResourceError):
        channel.receive_nowait()
    with pytest.raises(trio.BusyResourceError):
        channel.fan_out(2)
    for bad in ({"consumers": 0}, {"consumers": 2, "max_buffer_size": 0}):
        with pytest.raises(ValueError, match="1 or more"):
            producer()[2].fan_out(**bad)


# --- provider streams ---------------------------------------------------------------------


def anthropic_reply() -> list[bytes]:
    kinds: list[tuple[str, dict[str, object]]] = [
        ("message_start", {"message": {"id": "m", "model": "c", "usage": {}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "!"}}),
        ("content_block_stop", {"index": 0}),
        ("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {}}),
        ("message_stop", {}),
    ]
    return [encode_event(json.dumps({"type": k, **v}), event=k) for k, v in kinds]


async def test_a_provider_stream_fans_out_its_neutral_events() -> None:
    transport = ScriptedTransport(Script(anthropic_reply()))
    printed: list[str] = []
    kinds: list[str] = []

    async def printer(channel: trio.abc.ReceiveChannel[StreamEvent]) -> None:
        async with channel:
            async for event in channel:
                if isinstance(event, TextDelta):
                    printed.append(event.text)

    async def logger(channel: trio.abc.ReceiveChannel[StreamEvent]) -> None:
        async with channel:
            kinds.extend([type(event).__name__ async for event in channel])

    async with (
        httpx.AsyncClient(transport=transport) as client,
        open_provider_stream(client, "anthropic", "http://t/v1/messages", json={}) as reply,
        trio.open_nursery() as nursery,
    ):
        ui, log = reply.fan_out(2)
        nursery.start_soon(printer, ui)
        nursery.start_soon(logger, log)
    assert printed == ["Hi", "!"]
    assert kinds[0] == "MessageStart"
    assert kinds[-1] == MessageStop.__name__
    assert kinds.count("TextDelta") == 2
    assert reply.message.text == "Hi!"


async def test_a_copy_of_the_sse_stream_feeds_an_interpreter_beside_a_raw_logger() -> None:
    transport = ScriptedTransport(Script(anthropic_reply()))
    raw: list[str] = []
    async with (
        httpx.AsyncClient(transport=transport) as client,
        trio.open_nursery() as nursery,
    ):
        stream: EventStream = await nursery.start(
            trio_sse.pump_events, client, "POST", "http://t/v1/messages"
        )
        to_interpreter, to_log = stream.fan_out(2)
        nursery.start_soon(_collect, to_log, raw)
        reply = await nursery.start(
            trio_sse.providers.interpret_events,
            trio_sse.providers.anthropic.Interpreter(),
            to_interpreter,
        )
        assert [type(e).__name__ async for e in reply][-1] == "MessageStop"
    assert len(raw) == len(anthropic_reply())
    assert reply.message.text == "Hi!"


# --- random schedules -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(200))
def test_random_schedules_lose_nothing_and_keep_the_bound(seed: int) -> None:
    # Random paces, buffer sizes, cancelled receives, copies closed part-way: every copy
    # receives a prefix of the items, in order; one still open at the end gets them all,
    # then the end; the fastest open copy is never more than the window ahead of the slowest.
    rng = random.Random(seed)
    items = list(range(rng.randint(0, 40)))
    window = rng.randint(1, 5)
    consumers = rng.randint(1, 4)
    quits = [rng.choice([None, rng.randint(0, 40)]) for _ in range(consumers)]
    received: list[list[int]] = [[] for _ in range(consumers)]
    ended = [False] * consumers

    async def main() -> None:
        send, _, channel = producer(rng.randint(0, 4))
        copies = channel.fan_out(consumers, max_buffer_size=window)
        copy_hub = copies[0]._hub

        async def produce() -> None:
            async with send:
                for item in items:
                    await trio.sleep(rng.choice([0, 0, 0.001, 0.01]))
                    try:
                        await send.send(item)
                    except trio.BrokenResourceError:  # every copy closed: nobody listens
                        assert not copy_hub.copies
                        return

        async def consume(index: int, copy: FanOutChannel[int]) -> None:
            while True:
                if quits[index] == len(received[index]):
                    copy.close()
                    return
                patience = rng.choice([0, 0.0005, 0.005]) if rng.random() < 0.2 else math.inf
                with trio.move_on_after(patience) as scope:  # a receive cancelled at times
                    try:
                        received[index].append(await copy.receive())
                    except trio.EndOfChannel:
                        ended[index] = True
                        return
                if scope.cancelled_caught:
                    continue
                open_positions = [c.received for c in copy_hub.copies]
                assert max(open_positions) - min(open_positions) <= window
                await trio.sleep(rng.choice([0, 0, 0.002, 0.02]))

        with trio.fail_after(3600):  # a deadlock: the autojump clock gets here at once
            async with trio.open_nursery() as nursery:
                nursery.start_soon(produce)
                for index, copy in enumerate(copies):
                    nursery.start_soon(consume, index, copy)

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    for index, quit_after in enumerate(quits):
        assert received[index] == items[: len(received[index])]
        if quit_after is None or quit_after > len(items):
            assert received[index] == items
            assert ended[index]
