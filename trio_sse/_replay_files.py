"""What ``trio-sse serve`` plays: recordings, and raw SSE bodies made into recordings.

A file that starts with the recording line (see :mod:`trio_sse._recording`) is a
recording. Any other file is a raw SSE body (``.sse``: the body only, no head, no
timings), served with status 200 and ``content-type: text/event-stream``, one chunk per
event, the events ``pace`` seconds apart (0: no pauses). Its endpoint is inferred from its
content, by the first event that names its provider:

- an Anthropic ``message_start`` -> ``/v1/messages``;
- an OpenAI Chat ``chat.completion.chunk`` -> ``/v1/chat/completions``;
- an OpenAI Responses ``response.created`` -> ``/v1/responses``;
- a Gemini chunk (``candidates``) -> ``/v1beta/models/MODEL:streamGenerateContent``
  (the server routes by the endpoint a path ends with, so any model name matches).

``FILE@/some/path`` serves the file (recording or body) at that path instead.

Sans-IO and synchronous, but for :func:`load_reply`, which reads a file (blocking).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Final, cast

from ._decoder import SSEDecoder
from ._recording import FORMAT_LINE, Recording, RecordingError
from .providers._request import ProviderName

__all__ = ["PROVIDER_PATHS", "infer_provider", "load_reply", "recording_from_sse", "split_events"]

PROVIDER_PATHS: Final[dict[ProviderName, str]] = {
    "anthropic": "/v1/messages",
    "openai-chat": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
    "gemini": "/v1beta/models/MODEL:streamGenerateContent",
}
"""The path a raw SSE body of each provider is served at."""

SSE_HEADERS: Final = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
_EVENT_END: Final = re.compile(rb"\r\n\r\n|\n\n|\r\r|\r\n\n|\n\r\n")
_LINE_ENDS: Final = frozenset(b"\r\n")


def split_events(body: bytes) -> list[bytes]:
    """``body`` cut after each event's blank line: one ``bytes`` per event, in order.

    Extra blank lines stay with the event before them; bytes after the last blank line (an
    event not ended) are the last piece. Joined, the pieces are ``body`` exactly.
    """
    pieces: list[bytes] = []
    start = 0
    for found in _EVENT_END.finditer(body):
        piece = body[start : found.end()]
        if pieces and all(byte in _LINE_ENDS for byte in piece):
            pieces[-1] += piece
        else:
            pieces.append(piece)
        start = found.end()
    if start < len(body):
        pieces.append(body[start:])
    return pieces


def infer_provider(body: bytes) -> ProviderName:
    """The provider whose stream ``body`` is, by the first event that names one.

    Raises:
        ValueError: no event names a provider (the message says how to give the path).
    """
    decoder = SSEDecoder(max_event_size=len(body) + 1)  # the file is in memory already
    for piece in [*split_events(body), b"\n\n"]:  # the blank line ends a last event
        for event in decoder.feed(piece):
            provider = _provider_of(event.event, event.data)
            if provider is not None:
                return provider
    raise ValueError(
        "no event names its provider (an Anthropic message_start, an OpenAI "
        "chat.completion.chunk or response.created, a Gemini chunk with candidates); "
        "give the path to serve it at: FILE@/v1/messages"
    )


def _provider_of(name: str, data: str) -> ProviderName | None:
    if name == "message_start":
        return "anthropic"
    try:
        payload: Any = json.loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    fields = cast("dict[str, Any]", payload)
    if fields.get("type") == "message_start":
        return "anthropic"
    if fields.get("type") == "response.created":
        return "openai-responses"
    if fields.get("object") == "chat.completion.chunk":
        return "openai-chat"
    if "candidates" in fields:
        return "gemini"
    return None


def recording_from_sse(body: bytes, *, path: str | None = None, pace: float = 0.0) -> Recording:
    """A raw SSE body as a recording: status 200, one chunk per event, ``pace`` s apart.

    ``path`` ``None``: the provider's path (see :func:`infer_provider`).

    Raises:
        ValueError: an empty body, a negative ``pace``, or no ``path`` and no provider.
    """
    if not pace >= 0:
        raise ValueError(f"pace must be 0 or more, got {pace}")
    events = split_events(body)
    if not events:
        raise ValueError("the body is empty: no event to serve")
    served = PROVIDER_PATHS[infer_provider(body)] if path is None else path
    chunks = tuple((index * pace, event) for index, event in enumerate(events))
    return Recording("POST", served, 200, SSE_HEADERS, chunks)


def load_reply(spec: str, *, pace: float = 0.0) -> Recording:
    """Read ``FILE`` or ``FILE@/path``: a recording, or a raw SSE body (see above).

    Raises:
        OSError: the file cannot be read.
        RecordingError: a broken recording, or a body that names no provider and has no
            ``@/path`` (an ``@`` not followed by ``/`` is part of the file's name).
    """
    file, at, path = spec.rpartition("@")
    if not at or not path.startswith("/"):
        file, path = spec, ""
    with open(file, "rb") as opened:
        data = opened.read()
    if data.startswith(FORMAT_LINE.split(b" ")[0]):
        recording = Recording.from_bytes(data)
        return dataclasses.replace(recording, url=path) if path else recording
    try:
        return recording_from_sse(data, path=path or None, pace=pace)
    except ValueError as exc:
        raise RecordingError(f"not a recording, and as a raw SSE body: {exc}") from exc
