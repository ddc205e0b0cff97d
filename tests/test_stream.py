"""open_event_stream: lifetime, cancellation and the ExceptionGroup policy."""

from __future__ import annotations

import sys

import httpx
import httpx2
import pytest
import trio
import trio.testing

from trio_sse import NetworkError, StatusError, open_event_stream
from trio_sse._pump import Pump

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup

from .scripted import Crash, Drop, Pause, Script, scripted_client, sse


async def test_iterates_to_the_end_and_closes(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(Script([sse("a"), Pause(5), sse("b")]))
    async with open_event_stream(client, "POST", "/s", json={"q": 1}) as events:
        assert [e.data async for e in events] == ["a", "b"]
    assert seen.bodies[0].closed
    request = seen.requests[0]
    assert (request.method, request.content) == ("POST", b'{"q":1}')


async def test_break_closes_the_response_before_the_block_returns() -> None:
    client, seen = scripted_client(Script([sse(str(i)) for i in range(1000)]))
    async with open_event_stream(client, "GET", "/s") as events:
        async for event in events:
            if event.data == "2":
                break
    # Closed by the time ``async with`` returned: no pump task is left running.
    body = seen.bodies[0]
    assert body.closed
    assert body.chunks_read < 1000


async def test_exception_in_the_block_comes_out_unwrapped() -> None:
    client, seen = scripted_client(Script([sse("a"), sse("b")]))
    with pytest.raises(KeyError, match="mine"):
        async with open_event_stream(client, "GET", "/s") as events:
            async for _ in events:
                raise KeyError("mine")
    assert seen.bodies[0].closed


async def test_pump_error_cancels_the_block_and_comes_out_unwrapped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([sse("a"), Pause(1), Drop()]))
    received: list[str] = []
    reached_after_loop = False
    with pytest.raises(NetworkError) as info:
        async with open_event_stream(client, "POST", "/s") as events:
            async for event in events:
                received.append(event.data)
            reached_after_loop = True
    assert received == ["a"]
    assert not reached_after_loop
    assert isinstance(info.value.__cause__, httpx.ReadError)


async def test_setup_error_comes_out_unwrapped_before_the_block() -> None:
    client, _ = scripted_client(Script([b"denied"], status=401))
    entered = False
    with pytest.raises(StatusError) as info:
        async with open_event_stream(client, "GET", "/s"):
            entered = True
    assert not entered
    assert (info.value.status_code, info.value.body) == (401, "denied")


async def test_outer_cancellation_propagates_and_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(Script([sse("a"), Pause(10_000), sse("b")]))
    received: list[str] = []
    with trio.move_on_after(5) as scope:
        async with open_event_stream(client, "GET", "/s") as events:
            async for event in events:
                received.append(event.data)
    assert scope.cancelled_caught
    assert received == ["a"]
    assert seen.bodies[0].closed
    assert trio.current_time() == pytest.approx(5)


async def test_cancelled_while_connecting(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(Script([sse("a")]))
    with trio.CancelScope() as scope:
        scope.cancel()
        async with open_event_stream(client, "GET", "/s"):
            pytest.fail("the block must not run")  # pragma: no cover
    assert scope.cancelled_caught
    assert seen.bodies == []


async def test_a_bug_in_the_pump_cancels_the_block(autojump_clock: trio.testing.MockClock) -> None:
    # Not a stream failure (those are the consumer's, in order): a transport bug.
    client, _ = scripted_client(Script([Pause(1), Crash(RuntimeError("transport bug"))]))
    with pytest.raises(RuntimeError, match="transport bug"):
        async with open_event_stream(client, "GET", "/s"):
            await trio.sleep_forever()


async def test_a_transport_broken_resource_error_is_not_a_receiver_gone() -> None:
    # The pump stops quietly when its receiver leaves (BrokenResourceError on send); the
    # same exception class raised by the body itself is a failure, never a clean end.
    client, _ = scripted_client(
        Script([sse("a"), Crash(trio.BrokenResourceError("transport bug")), sse("b")])
    )
    clean_end = False
    with pytest.raises(trio.BrokenResourceError, match="transport bug"):
        async with open_event_stream(client, "GET", "/s") as events:
            async for _ in events:
                pass
            clean_end = True
    assert not clean_end


async def test_an_exception_group_from_the_block_comes_out_as_raised() -> None:
    client, _ = scripted_client(Script([sse("a")]))
    with pytest.RaisesGroup(ValueError, match="mine") as info:
        async with open_event_stream(client, "GET", "/s"):
            raise ExceptionGroup("mine", [ValueError("inner")])
    assert info.value.message == "mine"


async def test_block_and_pump_failing_at_once_give_a_group(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([Pause(1), Crash(RuntimeError("transport bug"))]))
    with pytest.RaisesGroup(RuntimeError, ValueError):
        async with open_event_stream(client, "GET", "/s"):
            try:
                await trio.sleep_forever()
            finally:
                raise ValueError("cleanup failed too")


async def test_keyboard_interrupt_wins() -> None:
    client, _ = scripted_client(Script([sse("a")]))
    with pytest.raises(KeyboardInterrupt):
        async with open_event_stream(client, "GET", "/s"):
            raise KeyboardInterrupt


async def test_httpx2_client_works_the_same(autojump_clock: trio.testing.MockClock) -> None:
    client, seen = scripted_client(
        Script([sse("a"), Pause(1), sse("b")]), Script([sse("c"), Drop()]), module=httpx2
    )
    async with open_event_stream(client, "GET", "/s", reconnect=False) as events:
        assert [e.data async for e in events] == ["a", "b"]
    assert seen.requests[0].extensions["timeout"]["read"] is None
    with pytest.raises(NetworkError) as info:
        async with open_event_stream(client, "GET", "/s", reconnect=False) as events:
            assert [e.data async for e in events] == ["c"]
    assert isinstance(info.value.__cause__, httpx2.ReadError)


async def test_stream_is_usable_as_async_resource() -> None:
    client, seen = scripted_client(Script([sse(str(i)) for i in range(50)]))
    async with open_event_stream(client, "GET", "/s", max_buffer_size=0) as events:
        async with events:
            assert (await events.receive()).data == "0"
        with pytest.raises(trio.ClosedResourceError):
            await events.receive()
        assert "EventStream 200 http://test/s" in repr(events)
    assert seen.bodies[0].closed


async def test_a_pump_that_ends_without_a_stream_is_a_bug_reported_not_a_hang(
    monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock
) -> None:
    # open_event_stream starts its pump with start_soon and waits for started(), as
    # nursery.start would: a pump that returned without a stream must not leave the
    # caller waiting for ever.
    async def ends_at_once(self: Pump, task_status: object) -> None:
        await trio.lowlevel.checkpoint()

    monkeypatch.setattr(Pump, "run", ends_at_once)
    client, _ = scripted_client(Script([sse("a")]))
    with trio.fail_after(60), pytest.raises(RuntimeError, match="ended without a stream"):
        async with open_event_stream(client, "GET", "/s"):
            pytest.fail("the block ran")
