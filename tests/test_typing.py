"""What the type checkers see: mypy --strict checks this file in the typecheck session.

Each test also runs, so the types it asserts are the objects the code really hands out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import trio

import trio_sse
from trio_sse import EventStream, FanOutChannel, ServerSentEvent, StreamStatistics
from trio_sse.providers import (
    ProviderError,
    ProviderStream,
    StreamEvent,
    interpret_events,
    open_provider_stream,
)
from trio_sse.providers.anthropic import Interpreter
from trio_sse.testing import ScriptedResponse, ScriptedTransport

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:

    def assert_type(value: Any, _: Any) -> Any:
        return value


async def test_a_provider_streams_events_are_the_event_stream_underneath() -> None:
    transport = ScriptedTransport(ScriptedResponse([b"event: ping\ndata: {}\n\n"]))
    async with (
        httpx.AsyncClient(transport=transport) as client,
        open_provider_stream(client, "anthropic", "http://t/v1/messages", json={}) as reply,
    ):
        assert_type(reply, ProviderStream[EventStream])
        assert_type(reply.events, EventStream)
        statistics = reply.events.statistics()  # not a union: no narrowing needed
        assert_type(statistics, StreamStatistics)
        assert isinstance(reply.events, EventStream)
        assert statistics.connection_attempts == 1


async def test_interpret_events_keeps_the_type_of_the_channel_it_reads(
    nursery: trio.Nursery,
) -> None:
    send, receive = trio.open_memory_channel[ServerSentEvent](1)
    send.close()
    # nursery.start returns Any: the annotation says what the caller knows it started.
    reply: ProviderStream[trio.MemoryReceiveChannel[ServerSentEvent]]
    reply = await nursery.start(interpret_events, Interpreter(), receive)
    assert_type(reply.events, trio.MemoryReceiveChannel[ServerSentEvent])
    assert reply.events is receive

    transport = ScriptedTransport(ScriptedResponse([b"data: {}\n\n"]))
    async with httpx.AsyncClient(transport=transport) as client:
        stream: EventStream = await nursery.start(trio_sse.pump_events, client, "POST", "http://t/")
        copy, other = stream.fan_out(2)
        other.close()
        assert_type(copy, FanOutChannel[ServerSentEvent])
        from_copy: ProviderStream[FanOutChannel[ServerSentEvent]]
        from_copy = await nursery.start(interpret_events, Interpreter(), copy)
        assert_type(from_copy.events, FanOutChannel[ServerSentEvent])
        assert from_copy.events is copy
        with pytest.raises(ProviderError):  # "data: {}" is no Anthropic reply
            assert_type(await from_copy.receive(), StreamEvent)
