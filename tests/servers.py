"""Real HTTP servers on 127.0.0.1, started in the test's own nursery.

- :func:`serve_app`: hypercorn's Trio worker serving :func:`make_app`, a Starlette app whose
  event streams come from sse-starlette.
- :func:`serve_raw`: a bare Trio TCP server for what a server framework will not do on
  purpose (cut a connection in the middle of an event).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class ServerLog:
    """What the app saw: streams started and finished, every request's headers, and
    ``disconnected``, set when an endless ``/forever`` stream sees its client leave."""

    started: int = 0
    finished: int = 0
    disconnected: trio.Event = field(default_factory=trio.Event)
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def request_headers(self) -> dict[str, str]:
        """The last request's headers."""
        return self.requests[-1]


def make_app(log: ServerLog) -> Starlette:
    async def events(request: Request) -> Response:
        """``n`` events with ids 0 .. n-1, resumed after ``Last-Event-ID`` as EventSource
        servers do; 204 once there is nothing left. ``retry`` (ms) goes on the first."""
        count = int(request.query_params.get("n", "3"))
        delay = float(request.query_params.get("delay", "0"))
        size = int(request.query_params.get("size", "0"))
        retry = request.query_params.get("retry")
        log.requests.append(dict(request.headers))
        first = int(request.headers.get("last-event-id", "-1")) + 1
        if first >= count:
            return Response(status_code=204)

        async def generate() -> AsyncIterator[dict[str, str | int]]:
            log.started += 1
            for i in range(first, count):
                if delay:
                    await trio.sleep(delay)
                event: dict[str, str | int] = {
                    "event": "tick",
                    "id": str(i),
                    "data": f"{i}:" + "x" * size,
                }
                if retry is not None and i == first:
                    event["retry"] = int(retry)
                yield event
            log.finished += 1

        return EventSourceResponse(generate())

    async def forever(request: Request) -> Response:
        log.requests.append(dict(request.headers))

        async def generate() -> AsyncIterator[dict[str, str]]:
            log.started += 1
            try:
                i = 0
                while True:
                    yield {"id": str(i), "data": str(i)}
                    i += 1
                    await trio.sleep(0.001)
            finally:
                log.disconnected.set()

        return EventSourceResponse(generate())

    async def status(request: Request) -> Response:
        code = int(request.path_params["code"])
        return PlainTextResponse("the server says no " * 500, status_code=code)

    async def json(request: Request) -> Response:
        return JSONResponse({"not": "a stream"})

    return Starlette(
        routes=[
            Route("/events", events),
            Route("/forever", forever),
            Route("/status/{code}", status),
            Route("/json", json),
        ]
    )


async def serve_app(nursery: trio.Nursery, log: ServerLog) -> str:
    """Start the app on 127.0.0.1 (a free port) and return its base URL."""
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    binds: list[str] = await nursery.start(
        partial(serve, make_app(log), config, shutdown_trigger=trio.sleep_forever)  # type: ignore[arg-type]
    )
    return binds[0]


RawHandler = Callable[[trio.SocketStream], Awaitable[None]]


async def serve_raw(nursery: trio.Nursery, handler: RawHandler) -> str:
    """Answer every connection on 127.0.0.1 with ``handler``, after reading the request head."""
    port = await serve_raw_with_head(nursery, lambda stream, _head: handler(stream))
    return f"http://127.0.0.1:{port}"


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-store\r\nconnection: close\r\n\r\n"
)


def last_event_id(head: bytes) -> str | None:
    """The ``Last-Event-ID`` of a raw request head, if it has one."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"last-event-id":
            return value.strip().decode()
    return None


@dataclass
class ResumableFeed:
    """A raw EventSource server's script: events ``1 .. total``, resumed after
    ``Last-Event-ID``, each connection cut (mid-event) after ``per_connection`` events;
    204 once all have been sent. Every event carries ``retry: 0``: reconnect at once."""

    total: int
    per_connection: int
    connections: int = 0
    resumed_from: list[str | None] = field(default_factory=list)

    async def serve(self, stream: trio.SocketStream, head: bytes) -> None:
        self.connections += 1
        resume = last_event_id(head)
        self.resumed_from.append(resume)
        first = int(resume or 0) + 1
        if first > self.total:
            await stream.send_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            return
        last = min(self.total, first + self.per_connection - 1)
        body = b"".join(b"retry: 0\nid: %d\ndata: %d\n\n" % (i, i) for i in range(first, last + 1))
        if last < self.total:
            body += b"id: %d\ndata: cut" % (last + 1)  # an event the drop cuts in half
        await stream.send_all(SSE_HEAD + body)


async def serve_raw_with_head(
    nursery: trio.Nursery,
    handler: Callable[[trio.SocketStream, bytes], Awaitable[None]],
    port: int = 0,
) -> int:
    """Like :func:`serve_raw`, but the handler also gets the request head; returns the port."""

    async def connection(stream: trio.SocketStream) -> None:
        async with stream:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await stream.receive_some()
                if not chunk:
                    return
                head += chunk
            await handler(stream, head)

    listeners = await nursery.start(partial(trio.serve_tcp, connection, port, host="127.0.0.1"))
    bound: int = listeners[0].socket.getsockname()[1]
    return bound


async def read_body(stream: trio.SocketStream, head: bytes) -> bytes:
    """The request body after ``head`` (which may hold its start), by ``Content-Length``."""
    _, _, body = head.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += await stream.receive_some()
    return body


def chunked(*pieces: bytes) -> bytes:
    """``pieces`` as an HTTP/1.1 chunked body, with its last chunk."""
    return (
        b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece) + b"0\r\n\r\n"
    )


SSE_HEAD_CHUNKED = SSE_HEAD.replace(b"connection: close", b"transfer-encoding: chunked")
