"""Recordings: the file format, ``trio-sse record``, and ``trio-sse serve`` on 127.0.0.1."""

from __future__ import annotations

import io
import json
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing

import trio_sse
from trio_sse._cli import RecordOptions, parse_command, run
from trio_sse._cli_output import Printer
from trio_sse._recording import Recording, RecordingError, scrub_headers, scrub_url
from trio_sse._replay_server import serve_recordings
from trio_sse.providers import InterruptedStreamError, open_provider_stream

from .servers import serve_raw_with_head

GUARD = 20
EVENTS = [f'event: tick\nid: {i}\ndata: {{"n": {i}}}\n\n'.encode() for i in range(8)]
GAP = 0.05  # seconds between two events of the recorded stream


@pytest.fixture
def io_clock() -> trio.testing.MockClock:
    """Trio's clock, jumping ahead only after 50 ms of real idleness: the recorded pauses
    run on virtual time, so the pace is checked exactly however loaded the machine is,
    while loopback I/O (microseconds) never looks idle."""
    return trio.testing.MockClock(autojump_threshold=0.05)


def recording(*chunks: tuple[float, bytes], url: str = "http://x/v1/messages") -> Recording:
    headers = (("content-type", "text/event-stream"),)
    return Recording("POST", url, 200, headers, tuple(chunks))


# --- the format --------------------------------------------------------------------------


def test_a_recording_survives_its_file_format(tmp_path: Path) -> None:
    original = recording((0.0, EVENTS[0]), (0.25, EVENTS[1] + EVENTS[2]), (0.5, b""))
    original.save(tmp_path / "r.rec")
    loaded = Recording.load(tmp_path / "r.rec")
    assert loaded == original
    assert loaded.body == EVENTS[0] + EVENTS[1] + EVENTS[2]
    assert loaded.duration == 0.5
    head, _, _ = original.to_bytes().partition(b"\n{")
    assert head == b"TRIO-SSE-RECORDING 1"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"event: x\n\n", "not a trio-sse recording"),
        (b"TRIO-SSE-RECORDING 2\n{}\n", "version 1 only"),
        (b"TRIO-SSE-RECORDING 1\n{}\n", "not what version 1 writes"),
        (
            b'TRIO-SSE-RECORDING 1\n{"request":{"method":"GET","url":"/"},'
            b'"response":{"status":200,"headers":[]},"chunks":[[0,5]]}\nabc',
            "add up to 5 bytes, the body has 3",
        ),
        (
            b'TRIO-SSE-RECORDING 1\n{"request":{"method":"GET","url":"/"},'
            b'"response":{"status":200,"headers":[]},"chunks":[[NaN,3]]}\nabc',
            "not a finite number",
        ),
    ],
)
def test_what_is_not_a_recording_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RecordingError, match=reason):
        Recording.from_bytes(data)


def test_secrets_never_reach_a_recording() -> None:
    url = "https://user:pw@g.example/v1beta/models/m:streamGenerateContent?alt=sse&key=SECRET"
    assert scrub_url(url) == (
        "https://g.example/v1beta/models/m:streamGenerateContent?alt=sse&key=REDACTED"
    )
    kept = scrub_headers(
        [
            ("Content-Type", "text/event-stream"),
            ("Set-Cookie", "session=1"),
            ("x-api-key", "sk"),
            ("Authorization", "Bearer sk"),
            ("anthropic-ratelimit-tokens-remaining", "9"),
            ("x-amz-security-token", "t"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    assert kept == (
        ("content-type", "text/event-stream"),
        ("anthropic-ratelimit-tokens-remaining", "9"),
    )


# --- serve -----------------------------------------------------------------------------------


async def start_server(
    nursery: trio.Nursery, *recordings: Recording, speed: float | None = 1.0
) -> str:
    port = await nursery.start(partial(serve_recordings, recordings, speed=speed))
    return f"http://127.0.0.1:{port}"


async def read_all(url: str, **kwargs: Any) -> list[trio_sse.ServerSentEvent]:
    async with (
        httpx.AsyncClient() as client,
        trio_sse.open_event_stream(client, "POST", url, retry=None, **kwargs) as events,
    ):
        return [event async for event in events]


async def test_serve_answers_by_endpoint_in_turn_and_round_again(nursery: trio.Nursery) -> None:
    first = recording((0.0, EVENTS[0]), url="https://api.example/v1/messages")
    second = recording((0.0, EVENTS[1]), url="https://api.example/v1/messages")
    chat = recording((0.0, EVENTS[2]), url="https://api.example/v1/chat/completions")
    base = await start_server(nursery, first, second, chat, speed=None)
    with trio.fail_after(GUARD):
        got = [await read_all(f"{base}/v1/messages") for _ in range(3)]
        azure = await read_all(f"{base}/openai/deployments/d/chat/completions?api-version=1")
    assert [[e.id for e in events] for events in got] == [["0"], ["1"], ["0"]]
    assert [e.id for e in azure] == ["2"]
    with trio.fail_after(GUARD), pytest.raises(trio_sse.StatusError) as info:
        await read_all(f"{base}/v2/unknown")
    assert info.value.status_code == 404
    assert "/v1/messages" in info.value.body


async def test_serve_keeps_the_recorded_pace(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock
) -> None:
    chunks = [(i * GAP, event) for i, event in enumerate(EVENTS)]
    base = await start_server(nursery, recording(*chunks))
    arrivals: list[float] = []
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            trio_sse.open_event_stream(client, "POST", f"{base}/v1/messages") as events,
        ):
            start = trio.current_time()
            async for _ in events:
                arrivals.append(trio.current_time() - start)
    assert arrivals == pytest.approx([GAP * i for i in range(len(EVENTS))], abs=0.005)


async def test_serve_injects_a_status_a_cut_and_a_stall(nursery: trio.Nursery) -> None:
    chunks = [(0.0, event) for event in EVENTS]
    base = await start_server(nursery, recording(*chunks), speed=None)
    url = f"{base}/v1/messages"
    with trio.fail_after(GUARD):
        with pytest.raises(trio_sse.StatusError) as status:
            await read_all(url, headers={"x-trio-sse-status": "529"})
        assert status.value.status_code == 529
        got: list[str] = []
        with pytest.raises(trio_sse.NetworkError):
            async with (
                httpx.AsyncClient() as client,
                trio_sse.open_event_stream(
                    client, "POST", url, retry=None, headers={"x-trio-sse-cut-after": "3"}
                ) as events,
            ):
                async for event in events:
                    got.append(event.id)
        assert got == ["0", "1", "2"]
        with pytest.raises(trio_sse.IdleTimeoutError):
            await read_all(url, headers={"x-trio-sse-stall": "30@2"}, idle_timeout=0.2)
        for header, value in [("x-trio-sse-cut-after", "many"), ("x-trio-sse-status", "101")]:
            with pytest.raises(trio_sse.StatusError) as bad:
                await read_all(url, headers={header: value})
            assert bad.value.status_code == 400


async def test_an_injected_status_takes_no_turn(nursery: trio.Nursery) -> None:
    first, second = recording((0.0, EVENTS[0])), recording((0.0, EVENTS[1]))
    base = await start_server(nursery, first, second, speed=None)
    url = f"{base}/v1/messages"
    with trio.fail_after(GUARD):
        for _ in range(3):  # a client retrying a 529 three times...
            with pytest.raises(trio_sse.StatusError):
                await read_all(url, headers={"x-trio-sse-status": "529"})
        assert [e.id for e in await read_all(url)] == ["0"]  # ...still gets the first reply


async def test_a_stall_comes_right_after_its_event(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock
) -> None:
    chunks = [(i * GAP, event) for i, event in enumerate(EVENTS[:4])]
    base = await start_server(nursery, recording(*chunks))
    arrivals: list[float] = []
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            trio_sse.open_event_stream(
                client, "POST", f"{base}/v1/messages", headers={"x-trio-sse-stall": "10@2"}
            ) as events,
        ):
            start = trio.current_time()
            async for _ in events:
                arrivals.append(trio.current_time() - start)
    # Events 0 and 1 on time; then 10 s of silence; then the rest at their own pace.
    expected = [0, GAP, 10 + 2 * GAP, 10 + 3 * GAP]
    assert arrivals == pytest.approx(expected, abs=0.005)


async def test_a_provider_stream_cut_by_serve_is_interrupted(nursery: trio.Nursery) -> None:
    demo = Path(trio_sse.__file__).parent / "_demo" / "anthropic-text.sse"
    events = demo.read_bytes().split(b"\n\n")
    chunks = [(0.0, event + b"\n\n") for event in events if event.strip()]
    base = await start_server(nursery, recording(*chunks), speed=None)
    with trio.fail_after(GUARD), pytest.raises(InterruptedStreamError) as info:
        async with (
            httpx.AsyncClient() as client,
            open_provider_stream(
                client,
                "anthropic",
                f"{base}/v1/messages",
                json={},
                headers={"x-trio-sse-cut-after": "5"},
            ) as reply,
        ):
            async for _ in reply:
                pass
    assert info.value.partial.text  # the text before the cut


# --- record, then serve, then the stream command ---------------------------------------------


async def test_record_then_serve_gives_back_the_same_events_and_timing(
    nursery: trio.Nursery, tmp_path: Path, io_clock: trio.testing.MockClock
) -> None:
    async def origin(stream: trio.SocketStream, head: bytes) -> None:
        await stream.send_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"set-cookie: s=secret\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        for event in EVENTS:
            await stream.send_all(b"%x\r\n%s\r\n" % (len(event), event))
            await trio.sleep(GAP)
        await stream.send_all(b"0\r\n\r\n")

    port = await serve_raw_with_head(nursery, origin)
    path = tmp_path / "reply.rec"
    url = f"http://127.0.0.1:{port}/v1/messages?key=SECRET"
    command = parse_command(["record", url, "-d", "{}", "--raw", "-o", str(path)])
    assert isinstance(command, RecordOptions)
    out, err = io.StringIO(), io.StringIO()
    with trio.fail_after(GUARD):
        assert await run(command, Printer(out, err)) == 0
    saved = Recording.load(path)
    assert b"SECRET" not in path.read_bytes()
    assert saved.body == b"".join(EVENTS)
    assert ("set-cookie", "s=secret") not in saved.headers
    assert [json.loads(line)["n"] for line in out.getvalue().splitlines()] == list(range(8))
    assert "recorded 200, " in err.getvalue()

    base = await start_server(nursery, saved)
    arrivals: list[float] = []
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            trio_sse.open_event_stream(client, "POST", f"{base}/v1/messages") as events,
        ):
            start = trio.current_time()
            replayed = []
            async for event in events:
                arrivals.append(trio.current_time() - start)
                replayed.append(event.data)
    assert replayed == [json.dumps({"n": i}) for i in range(8)]
    recorded = [at for at, _ in saved.chunks]
    assert recorded == pytest.approx([GAP * i for i in range(len(EVENTS))], abs=0.005)
    assert arrivals == pytest.approx(recorded, rel=0.1, abs=0.005)


async def test_record_follows_no_redirect_and_sends_no_key_anywhere(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    seen: list[bytes] = []

    async def origin(stream: trio.SocketStream, head: bytes) -> None:
        seen.append(head)
        await stream.send_all(
            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.2:9/steal\r\n"
            b"content-length: 0\r\n\r\n"
        )

    port = await serve_raw_with_head(nursery, origin)
    path = tmp_path / "redirect.rec"
    url = f"http://127.0.0.1:{port}/v1/messages"
    command = parse_command(
        [
            "record",
            url,
            "--provider",
            "anthropic",
            "--api-key",
            "SECRET",
            "-d",
            "{}",
            "-o",
            str(path),
        ]
    )
    err = io.StringIO()
    with trio.fail_after(GUARD):
        assert await run(command, Printer(io.StringIO(), err)) == 0
    saved = Recording.load(path)
    assert saved.status == 307
    assert ("location", "http://127.0.0.2:9/steal") in saved.headers
    assert len(seen) == 1  # the redirect was not followed
    assert b"SECRET" not in path.read_bytes()
