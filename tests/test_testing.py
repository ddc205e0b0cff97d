"""trio_sse.testing, the scripted transport downstream projects test with."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import httpx
import httpx2
import pytest
import trio
import trio.testing

import trio_sse
import trio_sse.testing
from trio_sse.providers import Message, TextBlock, open_provider_stream
from trio_sse.testing import (
    Drop,
    Pause,
    Raise,
    Recording,
    ScriptedResponse,
    ScriptedTransport,
    encode_event,
    provider_reply,
)


def test_encode_event_frames_every_field_and_each_data_line() -> None:
    assert encode_event("a") == b"data: a\n\n"
    assert encode_event("x\ny", event="e", id="7", retry=10) == (
        b"event: e\nid: 7\nretry: 10\ndata: x\ndata: y\n\n"
    )
    [decoded] = trio_sse.SSEDecoder().feed(encode_event("x\ny", event="e", id="7", retry=10))
    assert (decoded.event, decoded.data, decoded.id, decoded.retry) == ("e", "x\ny", "7", 10)


async def test_scripts_play_in_order_with_pauses_then_204(
    autojump_clock: trio.testing.MockClock,
) -> None:
    transport = ScriptedTransport(
        ScriptedResponse([b"data: a\n\n", Pause(30), b"data: b\n\n"], headers={"x-n": "1"}),
        ScriptedResponse([b"nope"], status=503),
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/one", headers={"last-event-id": "9"})
        second = await client.post("/two", json={"q": 1})
        third = await client.get("/three")
    assert (first.status_code, first.headers["x-n"], first.text) == (
        200,
        "1",
        "data: a\n\ndata: b\n\n",
    )
    assert (second.status_code, second.text) == (503, "nope")
    assert (third.status_code, third.content) == (204, b"")
    assert [r.url.path for r in transport.requests] == ["/one", "/two", "/three"]
    assert transport.requests[0].headers["last-event-id"] == "9"
    assert transport.requests[1].content == b'{"q":1}'
    assert transport.times == [0, 30, 30]
    assert [b.chunks_read for b in transport.bodies] == [2, 1, 0]
    assert all(b.closed for b in transport.bodies)


@pytest.mark.parametrize("http", [httpx, httpx2])
async def test_drop_is_the_clients_read_error(http: ModuleType) -> None:
    transport = ScriptedTransport(ScriptedResponse([b"data: a\n\n", Drop()]), http=http)
    async with (
        http.AsyncClient(transport=transport) as client,
        client.stream("GET", "http://t/") as response,
    ):
        with pytest.raises(http.ReadError):
            async for _ in response.aiter_bytes():
                pass


async def test_raise_raises_what_it_holds() -> None:
    transport = ScriptedTransport(ScriptedResponse([Raise(KeyError("bug"))]))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(KeyError, match="bug"):
            await client.get("http://t/")


async def test_a_downstream_agent_loop_tested_with_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # What a framework's own test looks like: its loop resumes a feed after a drop.
    async def collect(client: httpx.AsyncClient) -> list[str]:
        async with trio_sse.open_event_stream(client, "GET", "http://t/feed") as events:
            return [event.data async for event in events]

    transport = ScriptedTransport(
        ScriptedResponse([encode_event("hel", id="1"), Pause(5), Drop()]),
        ScriptedResponse([encode_event("lo", id="2")]),
    )
    async with httpx.AsyncClient(transport=transport) as client:
        assert await collect(client) == ["hel", "lo"]
    assert transport.requests[1].headers["last-event-id"] == "1"
    assert len(transport.requests) == 3  # the third got the 204 that ends a feed


def test_response_is_the_deprecated_old_name_of_scripted_response() -> None:
    with pytest.deprecated_call(match="now ScriptedResponse"):
        from trio_sse.testing import Response
    assert Response is ScriptedResponse
    assert "Response" not in trio_sse.testing.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        trio_sse.testing.Nope  # noqa: B018


# --- recordings and provider replies, for agent frameworks' tests ---------------------------


async def test_a_recording_plays_at_its_pace_on_trios_clock(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    events = [encode_event(str(n), id=str(n)) for n in range(3)]
    recorded = Recording(
        "POST",
        "https://api.example/v1/messages",
        200,
        (("content-type", "text/event-stream"),),
        ((0.0, events[0]), (2.5, events[1]), (4.0, events[2])),
    )
    recorded.save(tmp_path / "r.rec")
    sources: list[tuple[Recording | Path, float | None, list[float]]] = [
        (tmp_path / "r.rec", 1.0, [0.0, 2.5, 4.0]),
        (recorded, 2.0, [0.0, 1.25, 2.0]),
        (recorded, None, [0.0, 0.0, 0.0]),
    ]
    for source, speed, expected in sources:
        transport = ScriptedTransport(ScriptedResponse.from_recording(source, speed=speed))
        arrivals = []
        async with httpx.AsyncClient(transport=transport) as client:
            start = trio.current_time()
            async with trio_sse.open_event_stream(client, "POST", "https://x/") as stream:
                async for _ in stream:
                    arrivals.append(trio.current_time() - start)
        assert arrivals == expected
    with pytest.raises(ValueError, match="speed"):
        ScriptedResponse.from_recording(recorded, speed=0)


async def test_provider_reply_scripts_a_realistic_reply() -> None:
    message = Message(content=(TextBlock("hello"),))
    transport = ScriptedTransport(ScriptedResponse(provider_reply("anthropic", message)))
    async with (
        httpx.AsyncClient(transport=transport) as client,
        open_provider_stream(client, "anthropic", "https://x/v1/messages", json={}) as reply,
    ):
        async for _ in reply:
            pass
    assert reply.message.text == "hello"
    assert reply.message.stop_reason == "end_turn"
