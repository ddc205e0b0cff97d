"""The Trio side of the providers: the consumer task beside the pump, open_provider_stream.

Every recorded stream is replayed by a real server on 127.0.0.1 and must give exactly
what its interpreter gives on the same bytes; the rest runs on the scripted transport.
"""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from trio_sse import NetworkError, SSEDecoder, pump_events
from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    Message,
    MessageStart,
    MessageStop,
    ProviderError,
    ProviderName,
    ProviderStream,
    StreamEvent,
    TextDelta,
    anthropic,
    gemini,
    interpret_events,
    open_provider_stream,
    openai_chat,
    openai_responses,
)

from .recorded import recorded_params
from .scripted import Drop, Pause, Script, scripted_client
from .servers import SSE_HEAD_CHUNKED, chunked, read_body, serve_raw_with_head

GUARD = 10
PROVIDERS: dict[str, tuple[ProviderName, Any]] = {
    "anthropic": ("anthropic", anthropic.Interpreter),
    "openai_chat": ("openai-chat", openai_chat.Interpreter),
    "openai_responses": ("openai-responses", openai_responses.Interpreter),
    "gemini": ("gemini", gemini.Interpreter),
}


def anthropic_body(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


START = {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}
TEXT = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}


def delta(text: str) -> dict[str, Any]:
    return {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": text},
    }


STOP: list[dict[str, Any]] = [
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
]


def expected_from_bytes(
    interpreter: Any, body: bytes
) -> tuple[list[StreamEvent], Message, type[ProviderError] | None]:
    """What the interpreter alone makes of ``body``: events, message, error type."""
    events: list[StreamEvent] = []
    decoder = SSEDecoder()
    try:
        for sse in decoder.feed(body):
            events.extend(interpreter.feed(sse))
        return events, interpreter.finish(), None
    except ProviderError as exc:
        return events, exc.partial, type(exc)


async def replay(
    client: httpx.AsyncClient, provider: ProviderName, url: str
) -> tuple[list[StreamEvent], Message, type[ProviderError] | None]:
    received: list[StreamEvent] = []
    try:
        async with open_provider_stream(client, provider, url, json={}, retry=None) as reply:
            async for event in reply:
                received.append(event)
            return received, reply.message, None
    except ProviderError as exc:
        return received, exc.partial, type(exc)


@pytest.mark.parametrize("path", recorded_params())
async def test_every_recording_through_a_real_server_equals_its_interpreter(
    path: Path, nursery: trio.Nursery
) -> None:
    provider, interpreter = PROVIDERS[path.parent.name]
    body = await trio.Path(path).read_bytes()
    rng = random.Random(path.name)
    cuts = sorted(rng.sample(range(1, len(body)), min(8, len(body) - 1)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]

    async def serve(stream: trio.SocketStream, head: bytes) -> None:
        await read_body(stream, head)
        await stream.send_all(SSE_HEAD_CHUNKED)
        for piece in pieces:  # the recording, in a few HTTP chunks cut anywhere
            await stream.send_all(chunked(piece)[:-5])
        await stream.send_all(b"0\r\n\r\n")

    port = await serve_raw_with_head(nursery, serve)
    with trio.fail_after(GUARD):
        async with httpx.AsyncClient() as client:
            got = await replay(client, provider, f"http://127.0.0.1:{port}/stream")
    assert got == expected_from_bytes(interpreter(), body)


@pytest.mark.parametrize(
    ("provider", "key_header", "key_value"),
    [
        ("anthropic", "x-api-key", "k"),
        ("openai-chat", "authorization", "Bearer k"),
        ("openai-responses", "authorization", "Bearer k"),
        ("gemini", "x-goog-api-key", "k"),
    ],
)
async def test_the_request_is_built_for_the_provider(
    provider: ProviderName, key_header: str, key_value: str
) -> None:
    client, seen = scripted_client(Script([b""]))
    with pytest.raises(IncompleteStreamError):
        async with open_provider_stream(
            client, provider, "/v1/x", json={"model": "m"}, api_key="k", retry=None
        ) as reply:
            async for _ in reply:
                pass  # pragma: no cover
    [request] = seen.requests
    body = json.loads(request.content)
    assert request.method == "POST"
    assert request.headers[key_header] == key_value
    assert request.headers["accept"] == "text/event-stream"
    assert body["model"] == "m"
    if provider == "gemini":
        assert request.url.params["alt"] == "sse"
        assert "stream" not in body
    else:
        assert body["stream"] is True
    assert request.headers.get("anthropic-version") == (
        "2023-06-01" if provider == "anthropic" else None
    )
    assert ("stream_options" in body) == (provider == "openai-chat")


async def test_callers_headers_and_body_fields_win() -> None:
    client, seen = scripted_client(Script([b""]))
    with pytest.raises(IncompleteStreamError):
        async with open_provider_stream(
            client,
            "openai-chat",
            "/v1/chat/completions",
            json={"stream_options": {"include_usage": False}},
            headers={
                "Authorization": "Bearer mine",
                "Accept": "application/json, text/event-stream",
            },
            api_key="ignored",
            retry=None,
        ) as reply:
            await reply.receive()
    request = seen.requests[0]
    assert request.headers["authorization"] == "Bearer mine"
    assert request.headers["accept"] == "application/json, text/event-stream"
    assert json.loads(request.content)["stream_options"] == {"include_usage": False}


async def test_an_unknown_provider_is_refused_before_any_request() -> None:
    client, seen = scripted_client()
    with pytest.raises(ValueError, match="unknown provider 'cohere'"):
        async with open_provider_stream(client, "cohere", "/x", json={}):  # type: ignore[arg-type]
            pass  # pragma: no cover
    assert seen.requests == []


async def test_an_error_event_mid_stream_carries_the_partial_message_and_hangs_up(
    nursery: trio.Nursery,
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    hung_up = trio.Event()

    async def serve(stream: trio.SocketStream, head: bytes) -> None:
        await read_body(stream, head)
        body = anthropic_body(START, TEXT, delta("Hel"), overloaded)
        await stream.send_all(SSE_HEAD_CHUNKED + chunked(body)[:-5])
        while await stream.receive_some():  # the server keeps the stream open...
            pass
        hung_up.set()  # ...until the client closes it

    port = await serve_raw_with_head(nursery, serve)
    received: list[StreamEvent] = []
    with trio.fail_after(GUARD), pytest.raises(APIStreamError) as info:
        async with (
            httpx.AsyncClient() as client,
            open_provider_stream(
                client, "anthropic", f"http://127.0.0.1:{port}/", json={}
            ) as reply,
        ):
            async for event in reply:
                received.append(event)
    with trio.fail_after(GUARD):
        await hung_up.wait()
    assert [e.text for e in received if isinstance(e, TextDelta)] == ["Hel"]
    assert info.value.error_type == "overloaded_error"
    assert info.value.partial.text == "Hel"


async def test_a_529_is_retried_before_the_first_byte(
    autojump_clock: trio.testing.MockClock,
) -> None:
    body = anthropic_body(START, TEXT, delta("ok"), *STOP)
    client, seen = scripted_client(
        Script([b'{"type":"error"}'], status=529, headers={"retry-after": "3"}), Script([body])
    )
    async with open_provider_stream(client, "anthropic", "/v1/messages", json={"m": 1}) as reply:
        events = [event async for event in reply]
    assert reply.message.text == "ok"
    assert reply.message.stop_reason == "end_turn"
    assert reply.done
    assert [r.content for r in seen.requests] == [b'{"m":1,"stream":true}'] * 2
    assert seen.times[1] - seen.times[0] == 3
    assert isinstance(events[-1], MessageStop)


async def test_a_reply_cut_mid_stream_is_not_replayed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    body = anthropic_body(START, TEXT, delta("half"))
    client, seen = scripted_client(Script([body, Drop()]), Script([body]))
    with pytest.raises(NetworkError):
        async with open_provider_stream(client, "anthropic", "/v1/messages", json={}) as reply:
            try:
                async for _ in reply:
                    pass
            finally:
                partial_message = reply.message
    assert partial_message.text == "half"
    assert len(seen.requests) == 1


async def test_an_incomplete_reply_raises_after_every_delta(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, _ = scripted_client(Script([anthropic_body(START, TEXT, delta("a"), delta("b"))]))
    texts: list[str] = []
    with pytest.raises(IncompleteStreamError) as info:
        async with open_provider_stream(client, "anthropic", "/v1/messages", json={}) as reply:
            async for event in reply:
                if isinstance(event, TextDelta):
                    texts.append(event.text)
    assert texts == ["a", "b"]
    assert info.value.partial.text == "ab"


async def test_the_consumer_runs_beside_the_pump_and_closing_stops_both(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    body = anthropic_body(START, TEXT, *(delta(str(i)) for i in range(100)), *STOP)
    client, seen = scripted_client(Script([body[:2000], Pause(60), body[2000:]]))
    events = await nursery.start(partial(pump_events, client, "POST", "/v1/messages", json={}))
    reply: ProviderStream = await nursery.start(interpret_events, anthropic.Interpreter(), events)
    assert await reply.receive() == MessageStart(id="msg_1", model="m")
    reply.close()
    await trio.testing.wait_all_tasks_blocked()
    assert seen.bodies[0].closed  # the pump closed the response
    assert not reply.done
    with pytest.raises(trio.ClosedResourceError):
        await reply.receive()


async def test_a_consumer_can_read_any_memory_channel_of_events() -> None:
    send, receive = trio.open_memory_channel[Any](10)
    for event in SSEDecoder().feed(anthropic_body(START, TEXT, delta("x"), *STOP)):
        send.send_nowait(event)
    send.close()
    async with trio.open_nursery() as nursery:
        reply = await nursery.start(interpret_events, anthropic.Interpreter(), receive)
        events = [event async for event in reply]
    assert reply.message.text == "x"
    assert events[-1] == MessageStop(stop_reason="end_turn", message=reply.message)
