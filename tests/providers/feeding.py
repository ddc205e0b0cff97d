"""Driving an interpreter the way the pump would (bytes -> SSEDecoder -> interpreter), the
recorded streams as parameters, and the assertions every provider's tests share."""

from __future__ import annotations

import copy
import json
import os
import pickle
import random
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import pytest

from trio_sse import ServerSentEvent, SSEDecoder
from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    Interpreter,
    MalformedEventError,
    Message,
    MessageStart,
    MessageStop,
    ProviderError,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)

from ..recorded import FIXTURES, recorded_streams

Outcome: TypeAlias = tuple[list[StreamEvent], Message] | str
"""A stream's events and final message, or the error it raised (class and text)."""

# --- the recordings ----------------------------------------------------------------------


def provider_streams(folder: str) -> list[Path]:
    """The recorded streams of one provider folder (``anthropic``, ``openai_chat``, ...)."""
    return [path for path in recorded_streams() if path.parent == FIXTURES / folder]


def stream_params(folder: str, *, leave_out: Iterable[str] = ()) -> list[object]:
    """A folder's recordings as parameters (``leave_out``: names not to include), or one
    parameter that skips with the reason when the recordings are absent."""
    streams = provider_streams(folder)
    if not streams:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{FIXTURES} is absent"))]
    left_out = frozenset(leave_out)
    return [pytest.param(path, id=path.stem) for path in streams if path.stem not in left_out]


def read_recording(folder: str, name: str) -> bytes:
    """The bytes of one recording; the test skips if it is absent."""
    path = FIXTURES / folder / f"{name}.sse"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path.read_bytes()


# --- feeding -----------------------------------------------------------------------------


def typed_event(payload: dict[str, Any] | str, event: str | None = None) -> ServerSentEvent:
    """An event as typed formats (Anthropic, OpenAI Responses) frame it: ``event:`` is
    the JSON ``type``; a string payload is the data as it is."""
    if isinstance(payload, str):
        return ServerSentEvent(event=event, data=payload)
    return ServerSentEvent(event=event or payload["type"], data=json.dumps(payload))


def feed_all(interpreter: Interpreter, *events: ServerSentEvent) -> list[StreamEvent]:
    """Feed ``events``; what they carried, in order."""
    out: list[StreamEvent] = []
    for event in events:
        out.extend(interpreter.feed(event))
    return out


def run_all(
    interpreter: Interpreter, events: Iterable[ServerSentEvent]
) -> tuple[list[StreamEvent], Message]:
    """Feed ``events`` (a whole stream) and finish."""
    return feed_all(interpreter, *events), interpreter.finish()


def random_cuts(body: bytes, seed: int) -> Iterator[bytes]:
    """``body`` cut at random places (some chunks empty, some one byte, some long)."""
    rng = random.Random(seed)
    start = 0
    while start < len(body):
        end = start + rng.choice((0, 1, 2, 7, 64, 500, 4096))
        yield body[start:end]
        start = end


def interpret(
    interpreter: Interpreter, chunks: Iterable[bytes]
) -> tuple[list[StreamEvent], Message]:
    """Feed ``chunks`` through a decoder into ``interpreter``; its events and final message.

    Raises whatever the interpreter raises (``finish`` included).
    """
    decoder = SSEDecoder()
    events: list[StreamEvent] = []
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            events.extend(interpreter.feed(sse))
    return events, interpreter.finish()


def final_message(new: Callable[[], Interpreter], body: bytes) -> Message:
    """The final message a fresh interpreter makes of ``body``."""
    return interpret(new(), [body])[1]


def outcome(new: Callable[[], Interpreter], chunks: Iterable[bytes]) -> Outcome:
    """The events and message a fresh interpreter makes of ``chunks``, or its error."""
    try:
        return interpret(new(), chunks)
    except ProviderError as exc:
        return f"{type(exc).__name__}: {exc}"


# --- shared assertions -------------------------------------------------------------------


def assert_same_cut_anywhere(new: Callable[[], Interpreter], body: bytes, *alike: bytes) -> Outcome:
    """``body`` and every ``alike`` body (the same stream framed otherwise), whole or cut
    at random places, come out as ``body`` whole does; that outcome is returned."""
    whole = outcome(new, [body])
    for framed in (body, *alike):
        for seed in range(5):
            assert outcome(new, random_cuts(framed, seed)) == whole
    return whole


def assert_events_agree(events: Sequence[StreamEvent], message: Message) -> None:
    """The events of a whole stream add up to its final message.

    Text, refusal and thinking deltas join into the message's; each tool call's argument
    deltas join into its ``raw_arguments`` and its ``ToolCallEnd`` carries it whole; every
    event's ``index`` names a block of its kind; one MessageStart first, one MessageStop last.
    """
    texts = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(e.text for e in texts if not e.refusal) == message.text
    assert "".join(e.text for e in texts if e.refusal) == (message.refusal or "")
    assert "".join(e.thinking for e in events if isinstance(e, ThinkingDelta)) == message.thinking
    assert tuple(e.call for e in events if isinstance(e, ToolCallEnd)) == message.tool_calls
    for position, block in enumerate(message.content):
        if isinstance(block, ToolCall):
            deltas = [e for e in events if isinstance(e, ToolCallDelta) and e.index == position]
            assert "".join(e.arguments for e in deltas) == block.raw_arguments
    for event in events:
        if isinstance(event, ToolCallStart | ToolCallDelta | ToolCallEnd):
            assert isinstance(message.content[event.index], ToolCall)
        elif isinstance(event, TextDelta):
            block = message.content[event.index]
            assert isinstance(block, TextBlock)
            assert block.refusal == event.refusal
        elif isinstance(event, ThinkingDelta):
            assert isinstance(message.content[event.index], ThinkingBlock)
    assert isinstance(events[0], MessageStart)
    assert events[-1] == MessageStop(message.stop_reason, message)
    assert sum(isinstance(e, MessageStart | MessageStop) for e in events) == 2


def assert_errors_pickle_and_copy(
    run: Callable[..., object],
    *streams: Sequence[ServerSentEvent],
    partial_text: str,
) -> None:
    """``run`` on each of three streams raises, in order, an APIStreamError, an
    IncompleteStreamError and a MalformedEventError, each with ``partial_text`` in its
    partial message; each survives pickle and copy with all its attributes."""
    errors: list[ProviderError] = []
    for events in streams:
        with pytest.raises(ProviderError) as info:
            run(*events)
        errors.append(info.value)
    assert [type(e) for e in errors] == [APIStreamError, IncompleteStreamError, MalformedEventError]
    for error in errors:
        for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
            assert type(clone) is type(error)
            assert str(clone) == str(error)
            assert vars(clone) == vars(error)
            assert clone.partial == error.partial
            assert clone.partial.text == partial_text


_CHECKOUT = Path(__file__).resolve().parents[2]


def run_docs_page(name: str) -> subprocess.CompletedProcess[str]:
    """Run the one python block of ``docs/providers/{name}.md`` as a user would: a fresh
    interpreter, warnings as errors, ``trio_sse`` imported from this checkout (as nox
    runs a clean clone, where it is not installed)."""
    page = _CHECKOUT / "docs" / "providers" / f"{name}.md"
    (code,) = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(_CHECKOUT)},
    )
