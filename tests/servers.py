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
    """What the app saw: streams started and finished, the last request's headers, and
    ``disconnected``, set when an endless ``/forever`` stream sees its client leave."""

    started: int = 0
    finished: int = 0
    disconnected: trio.Event = field(default_factory=trio.Event)
    request_headers: dict[str, str] = field(default_factory=dict)


def make_app(log: ServerLog) -> Starlette:
    async def events(request: Request) -> Response:
        count = int(request.query_params.get("n", "3"))
        delay = float(request.query_params.get("delay", "0"))
        size = int(request.query_params.get("size", "0"))
        log.request_headers = dict(request.headers)

        async def generate() -> AsyncIterator[dict[str, str]]:
            log.started += 1
            for i in range(count):
                if delay:
                    await trio.sleep(delay)
                yield {"event": "tick", "id": str(i), "data": f"{i}:" + "x" * size}
            log.finished += 1

        return EventSourceResponse(generate())

    async def forever(request: Request) -> Response:
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

    async def connection(stream: trio.SocketStream) -> None:
        async with stream:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = await stream.receive_some()
                if not chunk:
                    return
                head += chunk
            await handler(stream)

    listeners = await nursery.start(partial(trio.serve_tcp, connection, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    return f"http://127.0.0.1:{port}"


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-store\r\nconnection: close\r\n\r\n"
)
