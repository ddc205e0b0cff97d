"""``trio-sse demo``: the library at work in a few seconds, with no network and no keys.

One raw HTTP server (``trio.serve_tcp`` on 127.0.0.1, a free port) runs in the demo's own
nursery, beside the client, and answers three routes:

1. ``POST /v1/messages`` replays a real recorded Anthropic reply (``anthropic-text.sse``,
   from vercel/ai: see ``PROVENANCE.md`` here) with pauses as a model makes them; the
   client reads it with :func:`trio_sse.providers.open_provider_stream`, text live.
2. ``GET /feed`` is an EventSource feed that cuts its first connection in the middle of
   an event; the client resumes with ``Last-Event-ID`` and gets every event once.
3. ``GET /ticks`` never ends; the client cancels the scope around it, and the server
   reports how soon it saw the connection close.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from typing import Any, Final

import trio

from .._cli_output import OutputClosedError, Printer, ReplyPrinter
from .._groups import open_hidden_nursery
from .._http import AsyncHTTPClient
from .._stream import open_event_stream
from ..providers import open_provider_stream

__all__ = ["recording", "run_demo"]

SSE_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-store\r\nconnection: close\r\n\r\n"
)
NO_CONTENT: Final = b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"
NOT_FOUND: Final = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
SECONDS_PER_TOKEN: Final = 0.008
FIRST_TOKEN_DELAY: Final = 0.25
STEPS: Final = ("fetch sources", "resolve dependencies", "compile", "run tests", "build", "publish")
PROMPT: Final = "Hello! How are you?"


def recording() -> list[bytes]:
    """The recorded reply's events, each with its blank line, read from package data."""
    data = resources.files(__name__).joinpath("anthropic-text.sse").read_bytes()
    return [block + b"\n\n" for block in data.split(b"\n\n") if block.strip()]


def pause_before(event: bytes) -> float:
    """How long a model takes to produce ``event``: some ms per token of its text
    (about four characters a token), and longer before the first content."""
    payload: Any = json.loads(event.partition(b"\ndata: ")[2])
    if payload.get("type") == "content_block_start":
        return FIRST_TOKEN_DELAY
    text = str(payload.get("delta", {}).get("text", ""))
    return SECONDS_PER_TOKEN * max(1.0, len(text) / 4)


@dataclass
class Request:
    """What the demo server reads of a request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def read_request(stream: trio.SocketStream) -> Request | None:
    """One request, head and body (by ``Content-Length``); ``None`` if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some()
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    while len(body) < int(headers.get("content-length", "0")):
        chunk = await stream.receive_some()
        if not chunk:
            return None
        body += chunk
    return Request(method, target.partition("?")[0], headers, body)


@dataclass
class DemoServer:
    """The server side: answers each route, and says what it does."""

    printer: Printer
    feed_requests: list[str | None] = field(default_factory=list[str | None])
    disconnected: trio.Event = field(default_factory=trio.Event)
    disconnected_at: float = 0.0
    demo: trio.CancelScope = field(default_factory=trio.CancelScope)  # the whole demo's
    output_closed: bool = False

    def say(self, text: str) -> None:
        """Print a server line. If standard output has gone (``trio-sse demo | head``),
        stop the whole demo instead of raising: an exception here would end the handler
        and close its connection first, and the client, seeing a dropped connection,
        would log a retry before the cancellation reached it."""
        try:
            self.printer.line(self.printer.paint(f"   server | {text}", "dim"))
        except OutputClosedError:
            self.output_closed = True
            self.demo.cancel()  # the client and this server stop where they wait

    async def handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            try:
                request = await read_request(stream)
                if request is None:
                    return
                if (request.method, request.path) == ("POST", "/v1/messages"):
                    await self.replay(stream, request)
                elif (request.method, request.path) == ("GET", "/feed"):
                    await self.feed(stream, request)
                elif (request.method, request.path) == ("GET", "/ticks"):
                    await self.ticks(stream)
                else:
                    await stream.send_all(NOT_FOUND)
            except trio.BrokenResourceError:
                pass  # the client went away: nothing to answer

    async def replay(self, stream: trio.SocketStream, request: Request) -> None:
        events = recording()
        body: Any = json.loads(request.body)
        version = request.headers.get("anthropic-version")
        self.say(f"POST /v1/messages, anthropic-version {version}, stream={body.get('stream')}")
        self.say(f"replaying a recorded reply: {len(events)} events, at a model's pace")
        await stream.send_all(SSE_HEAD)
        for event in events:
            await trio.sleep(pause_before(event))
            await stream.send_all(event)

    async def feed(self, stream: trio.SocketStream, request: Request) -> None:
        resume = request.headers.get("last-event-id")
        self.feed_requests.append(resume)
        first = int(resume) + 1 if resume and resume.isdigit() else 1
        if first > len(STEPS):
            self.say(f"GET /feed, Last-Event-ID: {resume}: nothing more, 204 No Content")
            await stream.send_all(NO_CONTENT)
            return
        cut = 4 if resume is None else None  # the first connection dies inside event 4
        if resume is None:
            self.say("GET /feed: sending ids 1-3, then dropping the connection inside id 4")
        else:
            self.say(f"GET /feed, Last-Event-ID: {resume}: resuming at id {first}")
        await stream.send_all(SSE_HEAD + b"retry: 100\n\n")  # reconnect within 0.1 s
        for i in range(first, len(STEPS) + 1):
            line = f"id: {i}\ndata: step {i}/{len(STEPS)}: {STEPS[i - 1]}\n\n".encode()
            if i == cut:
                await stream.send_all(line[: len(line) // 2])
                self.say(f"connection dropped after {line[: len(line) // 2]!r}")
                return
            await stream.send_all(line)
            await trio.sleep(0.08)

    async def ticks(self, stream: trio.SocketStream) -> None:
        self.say("GET /ticks: an endless stream, a tick every 20 ms")
        await stream.send_all(SSE_HEAD)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_tick, stream)
            try:
                while await stream.receive_some():  # a GET sends nothing more: EOF is a close
                    pass
            except trio.BrokenResourceError:
                pass
            self.disconnected_at = trio.current_time()
            self.disconnected.set()
            nursery.cancel_scope.cancel()


async def _tick(stream: trio.SocketStream) -> None:
    try:
        for i in itertools.count(1):
            await stream.send_all(f"id: {i}\ndata: tick {i}\n\n".encode())
            await trio.sleep(0.02)
    except trio.BrokenResourceError:
        return  # the client closed: the reader in ``ticks`` reports it


async def run_demo(client: AsyncHTTPClient, printer: Printer) -> None:
    """Run the three scenes against a server in this function's own nursery."""
    began = trio.current_time()
    server = DemoServer(printer)
    points: list[str] = []  # what each scene showed (none when the output closed first)
    async with open_hidden_nursery() as nursery:
        server.demo = nursery.cancel_scope
        listeners = await nursery.start(partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1"))
        port: int = listeners[0].socket.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        printer.line(printer.paint("trio-sse demo", "bold") + f": a local server at {base}")
        with trio.fail_after(30):
            points.append(await _llm_reply(client, printer, base))
            points.append(await _resumed_feed(client, printer, server, base))
            points.append(await _cancellation(client, printer, server, base))
        nursery.cancel_scope.cancel()  # the server
    if server.output_closed:
        raise OutputClosedError
    elapsed = trio.current_time() - began
    printer.line()
    printer.line(printer.paint("What this showed:", "bold"))
    for point in points:
        printer.line(f"  - {point}")
    printer.line(f"All on 127.0.0.1, with no network and no keys, in {elapsed:.1f} s.")


def _heading(printer: Printer, text: str) -> None:
    printer.line()
    printer.line(printer.paint(text, "bold"))


def _client_says(printer: Printer, text: str) -> None:
    printer.line(printer.paint("   client | ", "cyan") + text)


async def _llm_reply(client: AsyncHTTPClient, printer: Printer, base: str) -> str:
    _heading(printer, "1. A recorded Anthropic reply, streamed as it is generated")
    _client_says(printer, f"open_provider_stream(client, 'anthropic', ...): {PROMPT!r}")
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    async with open_provider_stream(client, "anthropic", f"{base}/v1/messages", json=body) as r:
        shown = ReplyPrinter(printer)
        printer.write(printer.paint("   reply  | ", "green"))
        async for event in r:
            shown.feed(event)
        shown.finish(r.message)
    return (
        f"a recorded Anthropic reply ({len(recording())} SSE events) streamed live through "
        f"open_provider_stream: {len(r.message.text)} characters of text, "
        f"stop reason {r.message.stop_reason!r}, usage and model in the summary"
    )


async def _resumed_feed(
    client: AsyncHTTPClient, printer: Printer, server: DemoServer, base: str
) -> str:
    _heading(printer, "2. A dropped connection, resumed with Last-Event-ID")
    _client_says(printer, "open_event_stream(client, 'GET', '/feed')")
    ids: list[str] = []
    async with open_event_stream(client, "GET", f"{base}/feed") as events:
        async for event in events:
            ids.append(event.id)
            reconnects = events.statistics().reconnects
            after = f"  (after reconnect {reconnects})" if reconnects else ""
            _client_says(printer, f"id {event.id}: {event.data}{after}")
        stats = events.statistics()
    resumed_from = [resume for resume in server.feed_requests if resume is not None]
    _client_says(
        printer,
        f"the stream ended cleanly: ids {', '.join(ids)}; "
        f"{stats.connection_attempts} requests, {stats.reconnects} reconnects",
    )
    return (
        f"a GET feed dropped mid-event and resumed with Last-Event-ID: {resumed_from[0]}: "
        f"ids {ids[0]}-{ids[-1]} each received once, in order; the half event discarded"
    )


async def _cancellation(
    client: AsyncHTTPClient, printer: Printer, server: DemoServer, base: str
) -> str:
    _heading(printer, "3. Cancellation closes the socket")
    _client_says(printer, "open_event_stream(client, 'GET', '/ticks') in a cancel scope")
    cancelled_at = 0.0
    with trio.CancelScope() as scope:
        async with open_event_stream(client, "GET", f"{base}/ticks") as events:
            async for event in events:
                _client_says(printer, event.data)
                if event.id == "5":
                    _client_says(printer, "scope.cancel()")
                    cancelled_at = trio.current_time()
                    scope.cancel()
    await server.disconnected.wait()
    milliseconds = (server.disconnected_at - cancelled_at) * 1000
    server.say(f"the client closed the connection, {milliseconds:.1f} ms after the cancel")
    return (
        f"cancelling a scope mid-stream closed the connection: the server saw it "
        f"{milliseconds:.1f} ms after the cancel"
    )
