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

from trio_sse import (
    EventTooLargeError,
    IdleTimeoutError,
    NetworkError,
    RetriesExhaustedError,
    RetryPolicy,
    SSEDecoder,
    StatusError,
    pump_events,
)
from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    InterruptedStreamError,
    Message,
    MessageStart,
    MessageStop,
    ProviderError,
    ProviderName,
    ProviderStatusError,
    ProviderStream,
    StalledStreamError,
    StreamEvent,
    TextDelta,
    anthropic,
    gemini,
    interpret_events,
    open_provider_stream,
    openai_chat,
    openai_responses,
)
from trio_sse.testing import Step

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
    with pytest.raises(InterruptedStreamError) as info:
        async with open_provider_stream(client, "anthropic", "/v1/messages", json={}) as reply:
            try:
                async for _ in reply:
                    pass
            finally:
                partial_message = reply.message
    assert partial_message.text == info.value.partial.text == "half"
    assert isinstance(info.value.error, NetworkError)
    assert info.value.__cause__ is info.value.error
    assert info.value.transient
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


# --- every failure after the start carries the partial message --------------------------


async def test_an_idle_timeout_mid_reply_is_interrupted_with_the_partial_message(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([anthropic_body(START, TEXT, delta("so far")), Pause(60)])
    )
    with pytest.raises(InterruptedStreamError) as info:
        async with open_provider_stream(
            client, "anthropic", "/v1/messages", json={}, idle_timeout=10
        ) as reply:
            async for _ in reply:
                pass
    assert isinstance(info.value.error, IdleTimeoutError)
    assert info.value.partial.text == "so far"
    assert info.value.partial.provider == "anthropic"
    assert len(seen.requests) == 1  # a reply that has begun is never sent again


async def test_an_oversized_event_mid_reply_is_interrupted_and_not_transient(
    autojump_clock: trio.testing.MockClock,
) -> None:
    huge = delta("x" * 5000)
    client, _ = scripted_client(Script([anthropic_body(START, TEXT, delta("ok"), huge)]))
    with pytest.raises(InterruptedStreamError) as info:
        async with open_provider_stream(
            client, "anthropic", "/v1/messages", json={}, max_event_size=1000
        ) as reply:
            async for _ in reply:
                pass
    assert isinstance(info.value.error, EventTooLargeError)
    assert not info.value.transient
    assert info.value.partial.text == "ok"


# --- a stall is not life ----------------------------------------------------------------

PING = {"type": "ping"}


async def test_pings_without_progress_are_a_stall(
    autojump_clock: trio.testing.MockClock,
) -> None:
    pings: list[Step] = []
    for _ in range(30):
        pings += [Pause(5), anthropic_body(PING)]
    script = Script([anthropic_body(START, TEXT, delta("thinking...")), *pings])
    client, _ = scripted_client(script)
    start = trio.current_time()
    with pytest.raises(StalledStreamError) as info:
        async with open_provider_stream(
            client, "anthropic", "/v1/messages", json={}, idle_timeout=10, progress_timeout=60
        ) as reply:
            async for _ in reply:
                pass
    # The pings kept the byte-level watchdog (10 s) quiet; progress stopped at t=0.
    assert trio.current_time() - start == pytest.approx(60)
    assert info.value.progress_timeout == 60
    assert info.value.partial.text == "thinking..."


async def test_steady_progress_is_never_a_stall(autojump_clock: trio.testing.MockClock) -> None:
    steps: list[Step] = []
    for i in range(20):
        steps += [Pause(50), anthropic_body(delta(str(i)))]
    client, _ = scripted_client(
        Script([anthropic_body(START, TEXT), *steps, anthropic_body(*STOP)])
    )
    async with open_provider_stream(
        client, "anthropic", "/v1/messages", json={}, progress_timeout=60
    ) as reply:
        async for _ in reply:
            pass
    assert reply.done
    assert reply.message.text == "".join(str(i) for i in range(20))


async def test_usage_alone_is_not_progress(autojump_clock: trio.testing.MockClock) -> None:
    usage = {"type": "message_delta", "delta": {}, "usage": {"output_tokens": 1}}
    steps: list[Step] = []
    for _ in range(10):
        steps += [Pause(20), anthropic_body(usage)]
    client, _ = scripted_client(Script([anthropic_body(START, TEXT, delta("a")), *steps]))
    with pytest.raises(StalledStreamError):
        async with open_provider_stream(
            client, "anthropic", "/v1/messages", json={}, progress_timeout=30
        ) as reply:
            async for _ in reply:
                pass


async def test_a_slow_consumer_is_not_the_providers_stall(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # More events than the neutral buffer holds: the consumer task waits on a full buffer.
    body = anthropic_body(START, TEXT, *(delta(str(i % 10)) for i in range(200)), *STOP)
    client, _ = scripted_client(Script([body]))
    received = 0
    async with open_provider_stream(
        client, "anthropic", "/v1/messages", json={}, progress_timeout=5
    ) as reply:
        async for _ in reply:
            received += 1
            await trio.sleep(30)  # the consumer takes 30 s per event
    assert reply.done
    assert received > 200


async def test_the_pumps_buffer_bounds_reach_it(autojump_clock: trio.testing.MockClock) -> None:
    # A reader that stops after one event: the interpreter fills its own buffer and waits,
    # then the pump fills its buffer to its bound and stops reading. A bound of 200 data
    # characters holds as many of these ~150-character events as a bound of 2 events.
    body = [anthropic_body(START, TEXT)]
    body += [anthropic_body(delta(f"{i:03}")) for i in range(300)]
    body += [anthropic_body(*STOP)]
    bounds = {  # (max_buffer_size, max_buffer_bytes)
        "default": (64, 64 * 1024),
        "200 characters": (64, 200),
        "2 events": (2, 64 * 1024),
    }
    read: dict[str, int] = {}
    for name, (size, characters) in bounds.items():
        client, transport = scripted_client(Script(body))
        async with open_provider_stream(
            client,
            "anthropic",
            "/v1/messages",
            json={},
            max_buffer_size=size,
            max_buffer_bytes=characters,
        ) as reply:
            await reply.receive()
            await trio.sleep(60)  # everyone else runs until blocked
            read[name] = transport.bodies[0].chunks_read
    assert abs(read["200 characters"] - read["2 events"]) <= 1
    assert read["default"] - read["200 characters"] >= 60  # the default: 64 events


async def test_a_progress_timeout_must_be_positive() -> None:
    client, seen = scripted_client()
    with pytest.raises(ValueError, match="progress_timeout"):
        async with open_provider_stream(
            client, "anthropic", "/v1/messages", json={}, progress_timeout=0
        ):
            pass  # pragma: no cover
    assert seen.requests == []


# --- a provider's status errors, parsed -----------------------------------------------


@pytest.mark.parametrize(
    ("provider", "body", "error_type", "error_message"),
    [
        (
            "anthropic",
            {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}},
            "invalid_request_error",
            "bad",
        ),
        (
            "openai-chat",
            {"error": {"message": "no model", "type": "invalid_request_error", "code": "x"}},
            "invalid_request_error",
            "no model",
        ),
        (
            "gemini",
            [
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid",
                        "status": "INVALID_ARGUMENT",
                    }
                }
            ],
            "INVALID_ARGUMENT",
            "API key not valid",
        ),
        ("openai-responses", "<html>Bad Gateway</html>", "", "<html>Bad Gateway</html>"),
    ],
)
async def test_a_status_error_carries_the_providers_error(
    provider: ProviderName, body: object, error_type: str, error_message: str
) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    client, _ = scripted_client(
        Script([raw.encode()], status=400, headers={"content-type": "application/json"})
    )
    with pytest.raises(ProviderStatusError) as info:
        async with open_provider_stream(client, provider, "/x", json={}):
            pass  # pragma: no cover
    error = info.value
    assert isinstance(error, StatusError)
    assert (error.status_code, error.provider) == (400, provider)
    assert (error.error_type, error.error_message) == (error_type, error_message)
    assert error.body == raw
    assert error_message in str(error)


async def test_retries_exhausted_on_a_status_carry_the_providers_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    overloaded = b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'
    client, seen = scripted_client(*(Script([overloaded], status=529) for _ in range(2)))
    with pytest.raises(RetriesExhaustedError) as info:
        async with open_provider_stream(
            client, "anthropic", "/x", json={}, retry=RetryPolicy(max_attempts=2)
        ):
            pass  # pragma: no cover
    last = info.value.last_error
    assert isinstance(last, ProviderStatusError)
    assert (last.status_code, last.error_type) == (529, "overloaded_error")
    assert len(seen.requests) == 2


# --- the URL's query survives ------------------------------------------------------------


async def test_the_urls_query_is_kept_and_params_are_added() -> None:
    body = anthropic_body(START, TEXT, *STOP)
    client, seen = scripted_client(Script([body]), Script([body]), Script([b""]))
    url = "/openai/deployments/d/chat/completions?api-version=2024-10-21"
    async with open_provider_stream(client, "anthropic", url, json={}) as reply:
        async for _ in reply:
            pass
    assert str(seen.requests[0].url).endswith("?api-version=2024-10-21")
    async with open_provider_stream(
        client, "anthropic", url, json={}, params={"a": "1", "b": ["x", "y"], "c": True}
    ) as reply:
        async for _ in reply:
            pass
    assert str(seen.requests[1].url).endswith("?api-version=2024-10-21&a=1&b=x&b=y&c=true")


async def test_geminis_key_in_the_url_survives_alt_sse() -> None:
    answer = {"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}
    chunk = f"data: {json.dumps(answer)}\n\n".encode()
    client, seen = scripted_client(Script([chunk]), Script([chunk]), Script([chunk]))
    url = "/v1beta/models/g:streamGenerateContent?key=secret"
    async with open_provider_stream(client, "gemini", url, json={}) as reply:
        async for _ in reply:
            pass
    assert seen.requests[0].url.params.multi_items() == [("key", "secret"), ("alt", "sse")]
    async with open_provider_stream(client, "gemini", url + "&alt=sse", json={}) as reply:
        async for _ in reply:
            pass
    assert seen.requests[1].url.params.multi_items() == [("key", "secret"), ("alt", "sse")]
    async with open_provider_stream(client, "gemini", url, json={}, params={"alt": "sse"}) as r:
        async for _ in r:
            pass
    assert seen.requests[2].url.params.multi_items() == [("key", "secret"), ("alt", "sse")]


# --- the terminator ends the reply, whatever the connection does next ------------------


@pytest.mark.parametrize("after", ["drop", "linger"])
async def test_a_complete_reply_is_complete_whatever_the_connection_does_next(
    autojump_clock: trio.testing.MockClock, after: str
) -> None:
    body = anthropic_body(START, TEXT, delta("done"), *STOP)
    tail: list[Step] = [Drop()] if after == "drop" else [Pause(3600)]
    client, seen = scripted_client(Script([body, *tail]))
    start = trio.current_time()
    async with open_provider_stream(
        client, "anthropic", "/v1/messages", json={}, idle_timeout=10, progress_timeout=5
    ) as reply:
        events = [event async for event in reply]
    assert isinstance(events[-1], MessageStop)
    assert reply.done
    assert reply.message.text == "done"
    assert trio.current_time() - start < 5  # neither the stall nor the idle watchdog fired
    await trio.testing.wait_all_tasks_blocked()
    assert seen.bodies[0].closed  # the response was closed, not left lingering
