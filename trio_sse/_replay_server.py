"""A local HTTP/1.1 server that replays recordings: what ``trio-sse serve`` runs.

Each request is answered with the next recording made at its path, at the recorded pace
(or faster), so a framework's own client can be pointed at it offline. A request finds
its recordings by the provider endpoint its path ends with (``/v1/messages``,
``/chat/completions``, ``/responses``, ``:streamGenerateContent``), whatever comes
before it (a model name, an Azure deployment), or else by its exact path. Several
recordings at one endpoint are played in turn, and round again: a tool call, then the
answer. Faults are asked for per request, with headers:

- ``x-trio-sse-status: 529``: answer that status (a JSON error body) instead;
- ``x-trio-sse-cut-after: 3``: close the connection abruptly after 3 events;
- ``x-trio-sse-stall: 30`` or ``30@3``: send nothing for 30 s (after 3 events).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import h11
import trio

from ._recording import Recording

__all__ = ["FAULT_HEADERS", "Fault", "ReplayRoutes", "serve_recordings"]

logger: Final = logging.getLogger("trio_sse")

FAULT_HEADERS: Final = ("x-trio-sse-status", "x-trio-sse-cut-after", "x-trio-sse-stall")
_ENDPOINTS: Final = ("/messages", "/chat/completions", "/responses", ":streamGenerateContent")
_BLANK_LINE: Final = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")
_MAX_REQUEST: Final = 16 * 1024 * 1024


def endpoint(path: str) -> str:
    """The provider endpoint ``path`` ends with, or the path itself."""
    return next((end for end in _ENDPOINTS if path.endswith(end)), path)


@dataclass(frozen=True, slots=True)
class Fault:
    """What a request asked to go wrong (see the module's docstring)."""

    status: int | None = None
    cut_after: int | None = None
    stall: float = 0.0
    stall_after: int = 0

    @classmethod
    def from_headers(cls, headers: Sequence[tuple[bytes, bytes]]) -> Fault:
        """The fault the request's headers ask for.

        Raises:
            ValueError: a fault header that does not parse.
        """
        found = {name.decode().lower(): value.decode() for name, value in headers}
        status = found.get("x-trio-sse-status")
        cut = found.get("x-trio-sse-cut-after")
        seconds, _, after = found.get("x-trio-sse-stall", "0").partition("@")
        fault = cls(
            status=None if status is None else int(status),
            cut_after=None if cut is None else int(cut),
            stall=float(seconds),
            stall_after=int(after or 0),
        )
        if fault.status is not None and not 200 <= fault.status <= 599:
            raise ValueError(f"x-trio-sse-status {fault.status}: expected 200 to 599")
        if min(fault.cut_after or 0, fault.stall_after) < 0 or not 0 <= fault.stall < math.inf:
            raise ValueError("fault counts and times must be 0 or more")
        return fault


class ReplayRoutes:
    """Which recording answers which request: by endpoint, in turn, round again."""

    def __init__(self, recordings: Sequence[Recording]) -> None:
        self._routes: dict[str, list[Recording]] = {}
        self._paths: dict[str, str] = {}  # endpoint -> the first recorded path there
        for recording in recordings:
            path = h11_path(recording.url)
            self._routes.setdefault(endpoint(path), []).append(recording)
            self._paths.setdefault(endpoint(path), path)
        self._turns: dict[str, int] = dict.fromkeys(self._routes, 0)

    @property
    def paths(self) -> list[str]:
        """A recorded path for each endpoint served, in the order first seen."""
        return list(self._paths.values())

    def next_for(self, path: str) -> Recording | None:
        """The recording that answers a request to ``path`` now; ``None`` if none does."""
        key = endpoint(path.partition("?")[0])
        recordings = self._routes.get(key)
        if not recordings:
            return None
        turn = self._turns[key]
        self._turns[key] = turn + 1
        return recordings[turn % len(recordings)]


def h11_path(url: str) -> str:
    """The path of ``url`` (absolute or not), without its query."""
    without_scheme = url.partition("://")[2] if "://" in url else url
    path = "/" + without_scheme.partition("/")[2] if "://" in url else without_scheme
    return path.partition("?")[0] or "/"


async def serve_recordings(
    recordings: Sequence[Recording],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    speed: float | None = 1.0,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``recordings`` over HTTP/1.1 until cancelled; for ``nursery.start``.

    ``nursery.start`` returns the port once the server listens. ``speed``: 1 plays each
    recording at its recorded pace, 2 twice as fast, ``None`` with no pauses at all.
    Cancelling the task closes every connection.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be more than 0 (or None), got {speed}")
    routes = ReplayRoutes(recordings)
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            await _Connection(stream, routes, speed).run()

    task_status.started(bound)
    await trio.serve_listeners(handle, listeners)


class _Connection:
    """One client connection: requests in, replays out, kept alive between them."""

    def __init__(self, stream: trio.SocketStream, routes: ReplayRoutes, speed: float | None):
        self._stream = stream
        self._routes = routes
        self._speed = speed
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_REQUEST)

    async def run(self) -> None:
        try:
            while True:
                request = await self._request()
                if request is None:
                    return
                if not await self._answer(request):
                    return
                if self._h11.our_state is not h11.DONE or self._h11.their_state is not h11.DONE:
                    return
                self._h11.start_next_cycle()
        except (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError) as exc:
            logger.debug("replay connection ended: %r", exc)

    async def _next_event(self) -> h11.Event | type[h11.PAUSED] | type[h11.NEED_DATA]:
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await self._stream.receive_some()
            self._h11.receive_data(data)

    async def _request(self) -> h11.Request | None:
        """The next request, its body read and dropped; ``None`` once the client is done."""
        event = await self._next_event()
        if not isinstance(event, h11.Request):
            return None
        while not isinstance(await self._next_event(), h11.EndOfMessage):
            pass
        return event

    async def _send(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        if data:
            await self._stream.send_all(data)

    async def _answer(self, request: h11.Request) -> bool:
        """Answer ``request``; ``False`` when the connection must close (a cut)."""
        target = request.target.decode("ascii", "replace")
        try:
            fault = Fault.from_headers(list(request.headers))
        except ValueError as exc:
            await self._error(400, f"bad fault header: {exc}")
            return True
        if fault.status is not None:  # before a recording is chosen: it takes no turn
            await self._error(fault.status, f"status {fault.status} injected by trio-sse serve")
            return True
        recording = self._routes.next_for(target)
        if recording is None:
            await self._error(404, f"no recording for {target}; served: {self._routes.paths}")
            return True
        compressed = any(name == "content-encoding" for name, _ in recording.headers)
        if compressed and (fault.cut_after is not None or fault.stall):
            await self._error(501, "events cannot be counted in a compressed recording")
            return True
        headers = [(name.encode(), value.encode()) for name, value in recording.headers]
        headers.append((b"transfer-encoding", b"chunked"))
        await self._send(h11.Response(status_code=recording.status, headers=headers))
        return await self._play(recording, fault)

    async def _play(self, recording: Recording, fault: Fault) -> bool:
        """Send the body at its pace; ``False`` if the fault cut it (close the connection).

        A stall comes right after its event, before the next chunk's time; a cut closes the
        connection right after its event.
        """
        start = trio.current_time()
        body = recording.body
        stall_at = _after_events(body, fault.stall_after) if fault.stall else None
        cut_at = None if fault.cut_after is None else _after_events(body, fault.cut_after)
        sent = 0
        for at, data in _split(recording.chunks, [p for p in (stall_at, cut_at) if p]):
            if stall_at is not None and sent >= stall_at:
                await trio.sleep(fault.stall)
                start += fault.stall
                stall_at = None
            if cut_at is not None and sent >= cut_at:
                return False  # the connection closes without the body's end: a cut
            if self._speed is not None:
                await trio.sleep_until(start + at / self._speed)
            await self._send(h11.Data(data=data))
            sent += len(data)
        if stall_at is not None:
            await trio.sleep(fault.stall)
        if cut_at is not None:
            return False
        await self._send(h11.EndOfMessage())
        return True

    async def _error(self, status: int, message: str) -> None:
        body = json.dumps({"error": {"type": "trio_sse_serve", "message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await self._send(h11.Response(status_code=status, headers=headers))
        await self._send(h11.Data(data=body))
        await self._send(h11.EndOfMessage())


def _after_events(body: bytes, count: int) -> int:
    """The byte offset just after the ``count``-th event of ``body`` (its end if fewer)."""
    if count <= 0:
        return 0
    for number, found in enumerate(_BLANK_LINE.finditer(body), 1):
        if number == count:
            return found.end()
    return len(body)


def _split(
    chunks: Sequence[tuple[float, bytes]], offsets: Sequence[int]
) -> list[tuple[float, bytes]]:
    """``chunks`` with every chunk that spans one of ``offsets`` cut in two there."""
    cuts = sorted(set(offsets))
    out: list[tuple[float, bytes]] = []
    position = 0
    for at, data in chunks:
        end = position + len(data)
        edges = [c - position for c in cuts if position < c < end]
        start = 0
        for edge in [*edges, len(data)]:
            out.append((at, data[start:edge]))
            start = edge
        position = end
    return out
