"""The decoder on real recorded provider streams: Anthropic, chat-completions style, OpenAI
Responses and Gemini, as their servers framed them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from trio_sse import SSEDecoder

from .recorded import provenance_counts, recorded_params
from .reference import ReferenceDecoder


def decode(pieces: list[bytes]) -> list[tuple[str, str, str, int | None]]:
    decoder = SSEDecoder()
    return [(e.event, e.data, e.id, e.retry) for piece in pieces for e in decoder.feed(piece)]


@pytest.mark.parametrize("path", recorded_params())
def test_recorded_stream_decodes_the_same_however_cut(path: Path) -> None:
    body = path.read_bytes()
    whole = decode([body])
    # PROVENANCE.md counts the provider's payloads; chat-completions streams were framed
    # with the terminator ``data: [DONE]`` after them, one event more.
    terminator = 1 if path.parent.name == "openai_chat" else 0
    assert len(whole) == provenance_counts()[f"{path.parent.name}/{path.name}"] + terminator
    assert whole == ReferenceDecoder().decode(body).events
    assert decode([body[i : i + 1] for i in range(len(body))]) == whole
    rng = random.Random(path.name)  # a fixed cut per file, different across files
    for _ in range(3):
        cuts = sorted(rng.sample(range(1, len(body)), min(40, len(body) - 1)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        assert decode(pieces) == whole
    crlf = body.replace(b"\n", b"\r\n")  # as Gemini sends them
    assert decode([crlf[i : i + 1460] for i in range(0, len(crlf), 1460)]) == whole
