"""An httpx transport that plays a script of chunks, pauses and drops, for the autojump clock.

The body is a class-based async iterator, not an async generator: one abandoned half-way
would trip Trio's ResourceWarning. ``module`` is ``httpx`` or ``httpx2``: the two have the
same API but distinct classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeAlias, Union

import httpx
import trio


@dataclass(frozen=True)
class Pause:
    """Wait this long (Trio time) before the next step."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Break the connection: the body read raises the module's ``ReadError``."""


@dataclass(frozen=True)
class Crash:
    """The transport itself fails with ``error`` (a bug, not a network failure)."""

    error: Exception


Step: TypeAlias = Union[bytes, Pause, Drop, Crash]  # noqa: UP007 (runtime alias on 3.10)


@dataclass
class ScriptedBody:
    """What a test can ask of one response's body afterwards."""

    steps: Iterator[Step]
    module: ModuleType
    chunks_read: int = 0
    closed: bool = False

    def __aiter__(self) -> ScriptedBody:
        return self

    async def __anext__(self) -> bytes:
        for step in self.steps:
            if isinstance(step, Pause):
                await trio.sleep(step.seconds)
            elif isinstance(step, Drop):
                raise self.module.ReadError("connection dropped by the script")
            elif isinstance(step, Crash):
                raise step.error
            else:
                self.chunks_read += 1
                return step
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class Script:
    """One response: status, headers and body steps."""

    body: Sequence[Step] = ()
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})


class Recorder:
    """Requests seen (and when, on Trio's clock) and bodies served by a scripted client."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.times: list[float] = []
        self.bodies: list[ScriptedBody] = []


def scripted_client(
    *scripts: Script, module: ModuleType = httpx, **client_kwargs: Any
) -> tuple[Any, Recorder]:
    """An AsyncClient of ``module`` whose n-th request is answered by the n-th script.

    Once the scripts run out, every request is answered 204 No Content: the way a server
    tells an EventSource client to stop reconnecting.
    """
    recorder = Recorder()
    remaining = iter(scripts)

    class Body(ScriptedBody, module.AsyncByteStream):  # type: ignore[misc,name-defined]
        pass

    class Transport(module.AsyncBaseTransport):  # type: ignore[misc,name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            await trio.lowlevel.checkpoint()
            recorder.requests.append(request)
            recorder.times.append(trio.current_time())
            script = next(remaining, Script(status=204, headers={}))
            body = Body(iter(script.body), module)
            recorder.bodies.append(body)
            return module.Response(script.status, headers=script.headers, stream=body)

    client = module.AsyncClient(transport=Transport(), base_url="http://test", **client_kwargs)
    return client, recorder


def sse(*events: Iterable[tuple[str, str]] | str) -> bytes:
    """Frame events: each a block of ``field: value`` pairs, or a bare data string."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(f"data: {event}\n\n")
        else:
            out.append("".join(f"{name}: {value}\n" for name, value in event) + "\n")
    return "".join(out).encode()
