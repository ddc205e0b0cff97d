"""Example replies shipped with trio-sse, for ``trio-sse serve --example NAME``.

Each example is a tool loop: a first reply that calls a ``weather`` tool with
``{"city": "Paris"}``, then the answer. The ``.sse`` files beside this module are raw SSE
bodies built by :func:`trio_sse.testing.provider_reply` from the neutral messages below
(``PROVENANCE.md`` says so; a test checks the files are still exactly what it builds).
Served in turn at the provider's endpoint, request 1 gets the call, request 2 the answer,
request 3 the call again.

Run ``python -m trio_sse._examples`` to write the files anew after changing a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

from .._recording import Recording
from .._replay_files import recording_from_sse
from .._replies import provider_reply
from ..providers._request import ProviderName
from ..providers._vocabulary import Message, TextBlock, ToolCall, Usage

__all__ = ["EXAMPLES", "Example", "build", "example_recordings", "write_all"]


@dataclass(frozen=True)
class Example:
    """One example: whose replies, and which neutral message each file holds."""

    provider: ProviderName
    replies: tuple[tuple[str, Message], ...]  # (file name, message), served in this order
    summary: str


def _tool_loop(provider: ProviderName, prefix: str, call_id: str) -> Example:
    call = Message(
        content=(
            TextBlock("I'll look up the weather in Paris."),
            ToolCall(call_id, "weather", {"city": "Paris"}, '{"city": "Paris"}'),
        ),
        usage=Usage(input_tokens=380, output_tokens=52),
    )
    answer = Message(
        content=(TextBlock("It is 21 °C in Paris."),),
        usage=Usage(input_tokens=455, output_tokens=14),
    )
    return Example(
        provider,
        ((f"{prefix}-tool-call.sse", call), (f"{prefix}-answer.sse", answer)),
        "a weather tool call for Paris, then the answer",
    )


EXAMPLES: Final[dict[str, Example]] = {
    "anthropic-tool-loop": _tool_loop("anthropic", "anthropic", "toolu_01"),
    "openai-chat-tool-loop": _tool_loop("openai-chat", "openai-chat", "call_01"),
    "openai-responses-tool-loop": _tool_loop("openai-responses", "openai-responses", "call_01"),
    "gemini-tool-loop": _tool_loop("gemini", "gemini", "call_01"),
}
"""The examples by name, each a tool loop for one provider."""


def build(example: Example) -> list[tuple[str, bytes]]:
    """Each file of ``example`` as :func:`provider_reply` builds it: (name, body)."""
    return [
        (name, b"".join(provider_reply(example.provider, message)))
        for name, message in example.replies
    ]


def example_recordings(name: str, *, pace: float = 0.0) -> list[tuple[str, Recording]]:
    """The shipped files of example ``name`` as recordings, in the order served.

    Raises:
        ValueError: no example has that name (the message lists them).
    """
    example = EXAMPLES.get(name)
    if example is None:
        raise ValueError(f"no example {name!r}; there are: {', '.join(EXAMPLES)}")
    files = resources.files(__name__)
    return [
        (file, recording_from_sse(files.joinpath(file).read_bytes(), pace=pace))
        for file, _ in example.replies
    ]


def write_all() -> None:
    """Write every example's files beside this module (``python -m trio_sse._examples``)."""
    here = Path(__file__).parent
    for example in EXAMPLES.values():
        for file, body in build(example):
            (here / file).write_bytes(body)
