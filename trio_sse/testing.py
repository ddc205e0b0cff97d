"""Test helpers for code that uses trio-sse: a scripted HTTP transport, provider replies.

:class:`ScriptedTransport` answers each request with the next :class:`ScriptedResponse` of its
script: a status, headers, and a body of byte chunks, :class:`Pause` steps (on Trio's
clock, so a test under pytest-trio's ``autojump_clock`` runs a minute of pauses in no
time) and a :class:`Drop` that breaks the connection mid-body. It records every request
it sees, so a test can check what was sent (a reconnect's ``Last-Event-ID``, say)::

    transport = ScriptedTransport(
        ScriptedResponse([encode_event("hel", id="1"), Pause(30), Drop()]),
        ScriptedResponse([encode_event("lo", id="2")]),
    )
    async with httpx.AsyncClient(transport=transport) as client:
        async with trio_sse.open_event_stream(client, "GET", "https://test/feed") as events:
            assert [e.data async for e in events] == ["hel", "lo"]
    assert transport.requests[1].headers["last-event-id"] == "1"

When the script runs out, every further request is answered 204 No Content: the way a
server tells an EventSource client to stop reconnecting. Pass ``http=httpx2`` for an
``httpx2.AsyncClient``.

For agent frameworks: :func:`provider_reply` builds the SSE events a provider would
stream for a :class:`~trio_sse.providers.Message` (text, thinking, tool calls, usage, a
stop reason), so a test scripts a realistic reply without a network or a key; and
:meth:`ScriptedResponse.from_recording` plays a file that ``trio-sse record`` wrote, at
its pace (on Trio's clock) or at once.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeAlias, Union

import trio

from ._http import TransportBase, httpx_module
from ._recording import Recording as Recording
from ._recording import RecordingError as RecordingError
from ._replies import provider_reply as provider_reply

__all__ = [
    "Drop",
    "Pause",
    "Raise",
    "Recording",
    "RecordingError",
    "ScriptedBody",
    "ScriptedResponse",
    "ScriptedTransport",
    "Step",
    "encode_event",
    "provider_reply",
]


@dataclass(frozen=True)
class Pause:
    """Wait this many seconds (Trio's clock) before the next step of the body."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Break the connection here: the body read raises the client's ``ReadError``."""


@dataclass(frozen=True)
class Raise:
    """Raise ``error`` from the body read: a transport failing in a way nobody planned for."""

    error: Exception


Step: TypeAlias = Union[bytes, Pause, Drop, Raise]  # noqa: UP007 (a runtime alias on 3.10)
"""One step of a scripted body: a chunk of bytes, a pause, a drop, or an exception."""


def _event_stream_headers() -> dict[str, str]:
    return {"content-type": "text/event-stream"}


@dataclass(frozen=True)
class ScriptedResponse:
    """One scripted response: status, headers, and the steps of its body.

    (Named ``Response`` before 0.1.0: that name, which is also ``httpx.Response``'s,
    still works and warns.)
    """

    body: Sequence[Step] = ()
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=_event_stream_headers)

    @classmethod
    def from_recording(
        cls, recording: Recording | str | os.PathLike[str], *, speed: float | None = 1.0
    ) -> ScriptedResponse:
        """The response a recording holds (a :class:`Recording`, or the path of a file
        ``trio-sse record`` wrote), its chunks paced as they arrived.

        ``speed``: 1 keeps the recorded pauses (:class:`Pause` steps, on Trio's clock: no
        time at all under ``autojump_clock``), 2 halves them, ``None`` drops them.

        Raises:
            OSError | RecordingError: the file cannot be read as a recording.
            ValueError: ``speed`` is not more than 0.
        """
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be more than 0 (or None), got {speed}")
        if not isinstance(recording, Recording):
            recording = Recording.load(recording)
        steps: list[Step] = []
        previous = 0.0
        for at, data in recording.chunks:
            if speed is not None and at > previous:
                steps.append(Pause((at - previous) / speed))
                previous = at
            steps.append(data)
        return cls(steps, recording.status, dict(recording.headers))


_NO_MORE = ScriptedResponse(status=204, headers={})


class ScriptedBody:
    """One response's body as it was played: ``chunks_read``, and whether it was ``closed``.

    A class-based async iterator, not an async generator, so a reader that stops early
    leaves nothing for the garbage collector (and no Trio ``ResourceWarning``).
    """

    def __init__(self, steps: Sequence[Step], http: ModuleType) -> None:
        self._steps: Iterator[Step] = iter(steps)
        self._http = http
        self.chunks_read = 0
        self.closed = False

    def __aiter__(self) -> ScriptedBody:
        return self

    async def __anext__(self) -> bytes:
        for step in self._steps:
            if isinstance(step, Pause):
                await trio.sleep(step.seconds)
            elif isinstance(step, Drop):
                raise self._http.ReadError("connection dropped by the script")
            elif isinstance(step, Raise):
                raise step.error
            else:
                self.chunks_read += 1
                return step
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


class ScriptedTransport(TransportBase):
    """An async httpx (or httpx2) transport that plays :class:`ScriptedResponse` scripts in order.

    Attributes:
        requests: every request received, in order (``httpx.Request`` objects, with their
            ``headers``, ``url`` and ``content``).
        times: when each request arrived, on Trio's clock.
        bodies: the :class:`ScriptedBody` of each response, to check what was read and
            that it was closed.
    """

    def __init__(self, *responses: ScriptedResponse, http: ModuleType | None = None) -> None:
        self._responses = iter(responses)
        self._http = httpx_module() if http is None else http
        body_class = type("Body", (ScriptedBody, self._http.AsyncByteStream), {})
        self._body_class: type[ScriptedBody] = body_class
        self.requests: list[Any] = []
        self.times: list[float] = []
        self.bodies: list[ScriptedBody] = []

    async def handle_async_request(self, request: Any) -> Any:
        """Answer ``request`` with the next scripted response (204 once they run out).

        A checkpoint, as a real transport's request is.
        """
        await trio.lowlevel.checkpoint()
        self.requests.append(request)
        self.times.append(trio.current_time())
        script = next(self._responses, _NO_MORE)
        body = self._body_class(script.body, self._http)
        self.bodies.append(body)
        return self._http.Response(script.status, headers=dict(script.headers), stream=body)

    async def aclose(self) -> None:
        """Nothing to close; a checkpoint, as the client expects."""
        await trio.lowlevel.checkpoint()


def encode_event(
    data: str,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
) -> bytes:
    """One event in the wire format, ready for a script: ``encode_event("hi", id="1")``.

    Multi-line ``data`` becomes several ``data:`` lines, as the format wants.
    """
    lines: list[str] = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def __getattr__(name: str) -> Any:
    """``Response``, the old name of :class:`ScriptedResponse`: deprecated."""
    if name == "Response":
        warnings.warn(
            "trio_sse.testing.Response is now ScriptedResponse (Response is httpx's name)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ScriptedResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
