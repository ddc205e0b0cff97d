"""``trio-sse serve``'s raw SSE bodies and shipped examples, served on 127.0.0.1."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trio_sse._cli import parse_command
from trio_sse._cli_replay import ServeOptions
from trio_sse._examples import EXAMPLES, build, example_recordings
from trio_sse._recording import Recording, RecordingError
from trio_sse._replay_files import (
    PROVIDER_PATHS,
    infer_provider,
    load_reply,
    recording_from_sse,
    split_events,
)
from trio_sse._replay_server import serve_recordings
from trio_sse.providers import (
    Message,
    ProviderName,
    TextBlock,
    Tool,
    ToolCall,
    ToolOutput,
    Usage,
    anthropic,
    gemini,
    open_provider_stream,
    openai_chat,
    openai_responses,
)
from trio_sse.testing import provider_reply

from .recorded import recorded_params

GUARD = 20
PROVIDERS: list[ProviderName] = ["anthropic", "openai-chat", "openai-responses", "gemini"]
# What a client asks for: the provider's real path (a model in Gemini's, not MODEL).
CLIENT_PATHS: dict[ProviderName, str] = {
    **PROVIDER_PATHS,
    "gemini": "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
}
REPLY = Message(
    content=(TextBlock("Hello from a raw body."),),
    usage=Usage(input_tokens=5, output_tokens=7),
)


def body_of(provider: ProviderName, message: Message = REPLY) -> bytes:
    return b"".join(provider_reply(provider, message))


@pytest.fixture
def io_clock() -> trio.testing.MockClock:
    """Trio's clock, jumping ahead after 50 ms of real idleness (see test_replay.py)."""
    return trio.testing.MockClock(autojump_threshold=0.05)


async def start_server(
    nursery: trio.Nursery, recordings: list[Recording], speed: float | None = 1.0
) -> str:
    port = await nursery.start(partial(serve_recordings, recordings, speed=speed))
    return f"http://127.0.0.1:{port}"


# --- a raw body, cut into events -------------------------------------------------------------


def test_a_body_is_cut_after_each_event() -> None:
    body = b"data: 1\n\ndata: 2\r\n\r\n\n\nevent: x\rdata: 3\r\r: comment\n\ndata: 4"
    assert split_events(body) == [
        b"data: 1\n\n",
        b"data: 2\r\n\r\n\n\n",  # extra blank lines stay with the event before
        b"event: x\rdata: 3\r\r",
        b": comment\n\n",
        b"data: 4",  # not ended: the last piece all the same
    ]
    assert split_events(b"") == []


@given(st.lists(st.sampled_from([b"data: x", b"\n", b"\r", b"\r\n", b"id: 1", b":"])))
def test_the_events_are_the_body_exactly(parts: list[bytes]) -> None:
    body = b"".join(parts)
    pieces = split_events(body)
    assert b"".join(pieces) == body
    assert all(pieces)


# --- which provider a body is ---------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_provider_is_inferred_from_its_events(provider: ProviderName) -> None:
    assert infer_provider(body_of(provider)) == provider
    crlf = body_of(provider).replace(b"\n", b"\r\n")
    assert infer_provider(crlf) == provider


@pytest.mark.parametrize("path", recorded_params())
def test_every_real_recording_names_its_provider(path: Path) -> None:
    expected = path.parent.name.replace("_", "-")
    assert infer_provider(path.read_bytes()) == expected


def test_an_event_of_any_size_is_read() -> None:
    big = b"data: " + b"x" * (5 * 1024 * 1024) + b"\n\n"  # more than the decoder's default limit
    assert infer_provider(big + body_of("gemini")) == "gemini"


@pytest.mark.parametrize(
    "body",
    [b"", b"data: hello\n\n", b"event: ping\ndata: {}\n\n", b'data: {"type": "x"}\n\n'],
)
def test_a_body_that_names_no_provider_says_how_to_give_the_path(
    body: bytes, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r"FILE@/v1/messages"):
        infer_provider(body)
    file = tmp_path / "feed.sse"
    file.write_bytes(body)
    with pytest.raises(RecordingError, match="not a recording, and as a raw SSE body"):
        load_reply(str(file))
    if body:  # with a path, any body is served
        served = load_reply(f"{file}@/feed")
        assert (served.url, served.body) == ("/feed", body)


def test_a_body_becomes_a_recording_one_event_a_chunk(tmp_path: Path) -> None:
    body = body_of("openai-chat")
    served = recording_from_sse(body, pace=0.25)
    assert served.url == "/v1/chat/completions"
    assert served.status == 200
    assert ("content-type", "text/event-stream") in served.headers
    assert [data for _, data in served.chunks] == split_events(body)
    assert [at for at, _ in served.chunks] == [i * 0.25 for i in range(len(served.chunks))]
    with pytest.raises(ValueError, match="pace"):
        recording_from_sse(body, pace=-1)
    # FILE@/path serves a recording elsewhere too; an @ not before a / is the file's name.
    file = tmp_path / "a@b.rec"
    served.save(file)
    assert load_reply(str(file)) == served
    assert load_reply(f"{file}@/elsewhere/chat/completions").url == "/elsewhere/chat/completions"


# --- the shipped examples --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_shipped_examples_are_what_provider_reply_builds(name: str) -> None:
    # If this fails after a change to provider_reply: python -m trio_sse._examples
    shipped = example_recordings(name)
    assert [(file, r.body) for file, r in shipped] == build(EXAMPLES[name])
    provider = EXAMPLES[name].provider
    assert {r.url for _, r in shipped} == {PROVIDER_PATHS[provider]}


# --- served on 127.0.0.1, read by trio-sse and by plain httpx --------------------------------


async def test_each_provider_body_is_served_at_its_inferred_endpoint(
    nursery: trio.Nursery,
) -> None:
    replies = {p: Message(content=(TextBlock(f"Hi from {p}."),)) for p in PROVIDERS}
    bodies = [recording_from_sse(body_of(p, replies[p])) for p in PROVIDERS]
    base = await start_server(nursery, bodies)
    async with httpx.AsyncClient() as client:
        for provider in PROVIDERS:
            url = base + CLIENT_PATHS[provider]
            with trio.fail_after(GUARD):
                async with open_provider_stream(client, provider, url, json={}) as reply:
                    async for _ in reply:
                        pass
                assert reply.message.text == f"Hi from {provider}."
                plain = await client.post(url, json={})
            assert plain.status_code == 200
            assert plain.headers["content-type"] == "text/event-stream"
            assert plain.content == body_of(provider, replies[provider])


async def test_a_raw_body_is_served_an_event_a_chunk_at_its_pace(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock
) -> None:
    body = body_of("anthropic")
    base = await start_server(nursery, [recording_from_sse(body, pace=0.5)])
    arrivals: list[tuple[float, bytes]] = []
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            client.stream("POST", f"{base}/v1/messages", json={}) as response,
        ):
            start = trio.current_time()
            async for data in response.aiter_raw():
                arrivals.append((trio.current_time() - start, data))
    events = split_events(body)
    assert [data for _, data in arrivals] == events  # each event its own chunk, 0.5 s apart
    assert [at for at, _ in arrivals] == pytest.approx(
        [i * 0.5 for i in range(len(events))], abs=0.005
    )


WEATHER = Tool(
    "weather",
    "The current weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
TURNS: dict[ProviderName, tuple[Any, str, dict[str, Any]]] = {
    "anthropic": (anthropic, "messages", {"model": "m", "max_tokens": 256}),
    "openai-chat": (openai_chat, "messages", {"model": "m"}),
    "openai-responses": (openai_responses, "input", {"model": "m"}),
    "gemini": (gemini, "contents", {}),
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_example_tool_loop_gets_the_call_then_the_answer(
    provider: ProviderName, nursery: trio.Nursery
) -> None:
    [name] = [n for n, example in EXAMPLES.items() if example.provider == provider]
    base = await start_server(nursery, [r for _, r in example_recordings(name)], speed=None)
    module, conversation, settings = TURNS[provider]
    question = "What is the weather in Paris?"
    history: list[Any] = [
        {"role": "user", "parts": [{"text": question}]}
        if provider == "gemini"
        else {"role": "user", "content": question}
    ]
    replies: list[Message] = []
    tool_inputs: list[dict[str, Any]] = []
    async with httpx.AsyncClient() as client:
        while len(replies) < 3:  # at most: a loop that does not end is a failure
            body = {**settings, conversation: history, "tools": module.tool_declarations([WEATHER])}
            url = base + CLIENT_PATHS[provider]
            with trio.fail_after(GUARD):
                async with open_provider_stream(client, provider, url, json=body) as reply:
                    async for _ in reply:
                        pass
            replies.append(reply.message)
            history += module.assistant_turn(reply.message)
            if not reply.message.tool_calls:
                break
            results: list[tuple[ToolCall, ToolOutput]] = []
            for call in reply.message.tool_calls:
                tool_inputs.append(dict(call.arguments))
                results.append((call, {"celsius": 21}))
            history += module.tool_results_turn(results)
    assert len(replies) == 2
    first, answer = replies
    assert [c.name for c in first.tool_calls] == ["weather"]
    assert first.text == "I'll look up the weather in Paris."
    assert tool_inputs == [{"city": "Paris"}]
    assert answer.text == "It is 21 °C in Paris."
    assert answer.tool_calls == ()
    assert answer.usage is not None
    assert answer.usage.output_tokens == 14
    # The question, the call, its result, the answer (Responses: items of their own).
    assert len(history) >= 4


# --- the command line ------------------------------------------------------------------------


def test_serve_takes_examples_and_raw_bodies(tmp_path: Path) -> None:
    file = tmp_path / "reply.sse"
    file.write_bytes(body_of("openai-responses"))
    command = parse_command(
        ["serve", "--example", "anthropic-tool-loop", str(file), f"{file}@/x", "--pace", "0.1"]
    )
    assert isinstance(command, ServeOptions)
    labels = [label for label, _ in command.recordings]
    assert labels == [
        "anthropic-tool-loop: anthropic-tool-call.sse",
        "anthropic-tool-loop: anthropic-answer.sse",
        str(file),
        f"{file}@/x",
    ]
    urls = [r.url for _, r in command.recordings]
    assert urls == ["/v1/messages", "/v1/messages", "/v1/responses", "/x"]
    assert all(r.chunks[1][0] == pytest.approx(0.1) for _, r in command.recordings)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve"], "nothing to serve"),
        (["serve", "--example", "nope"], "invalid choice"),
        (["serve", "--example", "gemini-tool-loop", "--fast", "--pace", "1"], "--pace with --fast"),
        (["serve", "--example", "gemini-tool-loop", "--pace", "-1"], "must be 0 or more"),
        (["serve", "pyproject.toml"], "names its provider"),
        (["serve", "no-such-file.sse"], "No such file"),
    ],
)
def test_serve_refuses_what_it_cannot_serve(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parse_command(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_the_examples(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside a name
    with pytest.raises(SystemExit):
        parse_command(["serve", "--help"])
    shown = capsys.readouterr().out
    assert all(name in shown for name in EXAMPLES)


def test_an_example_is_paced_on_request() -> None:
    file, recording = example_recordings("anthropic-tool-loop", pace=0.1)[0]
    assert file == "anthropic-tool-call.sse"
    assert recording.duration == pytest.approx(0.1 * (len(recording.chunks) - 1))
    with pytest.raises(ValueError, match="there are: anthropic-tool-loop"):
        example_recordings("nope")
