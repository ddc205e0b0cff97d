"""trio-sse's Anthropic interpreter against the official SDK, offline, on the same bytes.

For every recorded stream the SDK (``client.messages.stream(...).get_final_message()``
over an ``httpx2.MockTransport``) and :mod:`trio_sse.providers.anthropic` must agree on
the text and its citations, the thinking, the tool calls (id, name, parsed input, who
runs them), the other blocks, the stop reason and the usage — except where the SDK is
wrong, listed in :data:`SDK_DIFFERENCES` with the reason, and each asserted both ways
(the correct value for us, the SDK's wrong one for it), so a fix in either shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    MalformedEventError,
    Message,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
)
from trio_sse.providers import anthropic as trio_anthropic

from ..providers.feeding import final_message, provider_streams, read_recording, stream_params
from ..recorded import FIXTURES
from .sdk import replaying

anthropic = pytest.importorskip("anthropic")

TOOL_TYPES = {"tool_use", "server_tool_use", "mcp_tool_use"}
PROSE_TYPES = {"text", "thinking", "redacted_thinking"}

# fixture -> why the SDK's final message differs from ours (and why ours is right).
SDK_DIFFERENCES = {
    "anthropic-mcp.1": (
        "mcp_tool_use input: SDK {} (its non-beta accumulator parses input_json_delta only"
        " for tool_use and server_tool_use), ours {'message': 'hello world'}, the JSON the"
        " stream carried"
    ),
    "anthropic-tool-search-bm25.1": (
        "a recording of several responses back to back. The SDK ignores the later"
        " message_start events and merges everything into the first message: later text"
        " deltas for index 0 are appended to the first response's block 0, their blocks are"
        " appended, stop_reason and usage are the last response's. Ours is the first"
        " response, complete at its message_stop, the same as the SDK on that response alone"
    ),
    "anthropic-tool-search-deferred-bm25": "several responses back to back: as above",
    "anthropic-tool-search-deferred-regex": "several responses back to back: as above",
    "spliced-message-start": (
        "a second response spliced into an unfinished first one. The SDK does not raise: it"
        " returns a chimera (the second reply's thinking appended to the first one's, its"
        ' signature overwriting, the tool input \'{"value":"Spark\' + the second JSON parsed'
        " to {'value': 'Spark{'}). Ours raises MalformedEventError with the first reply as"
        " partial: no single message can be built from the stream"
    ),
}
SEVERAL_RESPONSES = {
    "anthropic-tool-search-bm25.1",
    "anthropic-tool-search-deferred-bm25",
    "anthropic-tool-search-deferred-regex",
}


def sdk_final_message(body: bytes) -> Any:
    """The SDK's final message for a recorded body, with no network."""
    with (
        replaying(body) as http,
        anthropic.Anthropic(api_key="t", max_retries=0, http_client=http) as client,
        client.messages.stream(
            model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}]
        ) as stream,
    ):
        return stream.get_final_message()


USAGE_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def usage_counts(usage: Any) -> tuple[int | None, ...]:
    """The counts both usages have, under the same names (the SDK's or ours)."""
    return tuple(getattr(usage, name) for name in USAGE_COUNTS)


def sdk_view(message: Any) -> dict[str, object]:
    """What the SDK's message says, in the terms both can be compared in."""
    blocks = message.content
    return {
        "id": message.id,
        "model": message.model,
        "text": "".join(block.text for block in blocks if block.type == "text"),
        "citations": [
            [citation.to_dict() for citation in block.citations or []]
            for block in blocks
            if block.type == "text"
        ],
        "thinking": [
            (block.thinking, block.signature, False)
            if block.type == "thinking"
            else ("", block.data, True)
            for block in blocks
            if block.type in ("thinking", "redacted_thinking")
        ],
        "tool_calls": [
            (block.id, block.name, block.input, block.type != "tool_use")
            for block in blocks
            if block.type in TOOL_TYPES
        ],
        "others": [
            (block.type, block.to_dict())
            for block in blocks
            if block.type not in TOOL_TYPES | PROSE_TYPES
        ],
        "kinds": ["tool" if block.type in TOOL_TYPES else block.type for block in blocks],
        "stop_reason": message.stop_reason,
        "usage": usage_counts(message.usage),
    }


def our_view(message: Message) -> dict[str, object]:
    """The same, from trio-sse's message."""
    assert message.usage is not None
    kinds: list[str] = []
    for block in message.content:
        if isinstance(block, ThinkingBlock):
            kinds.append("redacted_thinking" if block.redacted else "thinking")
        elif isinstance(block, OtherBlock):
            kinds.append(block.type)
        else:
            kinds.append("text" if isinstance(block, TextBlock) else "tool")
    return {
        "id": message.id,
        "model": message.model,
        "text": message.text,
        "citations": [
            list(block.citations) for block in message.content if isinstance(block, TextBlock)
        ],
        "thinking": [
            (block.thinking, block.signature, block.redacted)
            for block in message.content
            if isinstance(block, ThinkingBlock)
        ],
        "tool_calls": [
            (call.id, call.name, dict(call.arguments), call.provider_executed)
            for call in message.tool_calls
        ],
        "others": [
            (block.type, dict(block.data))
            for block in message.content
            if isinstance(block, OtherBlock)
        ],
        "kinds": kinds,
        "stop_reason": message.stop_reason,
        "usage": usage_counts(message.usage),
    }


def ours(body: bytes) -> Message:
    return final_message(trio_anthropic.Interpreter, body)


def first_response(body: bytes) -> bytes:
    """The events of ``body`` up to and including its first ``message_stop``."""
    events = body.split(b"\n\n")
    for count, event in enumerate(events, 1):
        if event.startswith(b"event: message_stop"):
            return b"\n\n".join(events[:count]) + b"\n\n"
    raise AssertionError("no message_stop")


def recording(name: str) -> bytes:
    return read_recording("anthropic", name)


@pytest.mark.parametrize("path", stream_params("anthropic", leave_out=SDK_DIFFERENCES))
def test_sdk_and_trio_sse_agree(path: Path) -> None:
    body = path.read_bytes()
    assert our_view(ours(body)) == sdk_view(sdk_final_message(body))


def test_every_listed_difference_is_a_recording() -> None:
    names = {path.stem for path in provider_streams("anthropic")}
    if not names:
        pytest.skip(f"{FIXTURES} is absent")
    assert set(SDK_DIFFERENCES) <= names
    assert set(SDK_DIFFERENCES) >= SEVERAL_RESPONSES


def test_mcp_tool_input() -> None:
    body = recording("anthropic-mcp.1")
    mine, theirs = our_view(ours(body)), sdk_view(sdk_final_message(body))
    call = ("mcptoolu_017CuqaJcXe5ZHJjaz3KS1AT", "echo", {"message": "hello world"}, True)
    assert mine["tool_calls"] == [call]
    assert theirs["tool_calls"] == [(*call[:2], {}, True)]
    assert {**mine, "tool_calls": None} == {**theirs, "tool_calls": None}


@pytest.mark.parametrize("name", sorted(SEVERAL_RESPONSES))
def test_recordings_of_several_responses(name: str) -> None:
    body = recording(name)
    mine = our_view(ours(body))
    # The first response alone: the SDK agrees with us.
    assert mine == sdk_view(sdk_final_message(first_response(body)))
    # The whole recording: the SDK merges the responses.
    theirs = sdk_view(sdk_final_message(body))
    assert theirs["id"] == mine["id"]
    assert (mine["stop_reason"], theirs["stop_reason"]) == ("tool_use", "end_turn")
    assert theirs["usage"] != mine["usage"]
    assert isinstance(theirs["text"], str)
    assert isinstance(mine["text"], str)
    assert len(theirs["text"]) > len(mine["text"])  # the later responses' text is in it


def test_spliced_responses() -> None:
    body = recording("spliced-message-start")
    with pytest.raises(MalformedEventError) as info:
        ours(body)
    assert info.value.partial.id == "msg_first"
    assert info.value.partial.thinking == "I will call the tool."
    theirs = sdk_view(sdk_final_message(body))
    assert theirs["id"] == "msg_first"
    assert theirs["thinking"] == [
        ("I will call the tool.Let me call the tool.", "sig-second", False),
        ("", None, False),
    ]
    assert theirs["tool_calls"] == [
        ("toolu_first", "test-tool", {"value": "Spark{"}, False),
        ("toolu_second", "test-tool", {}, False),
    ]


# --- quirks the recordings do not show --------------------------------------------------


def event(payload: dict[str, Any]) -> bytes:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n".encode()


START = event(
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    }
)
TEXT = event(
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
)
HELLO = event(
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}
)


def test_eof_before_message_stop() -> None:
    """The SDK returns a message from a stream that never finished; we do not."""
    body = START + TEXT + HELLO
    theirs = sdk_final_message(body)
    assert (theirs.content[0].text, theirs.stop_reason) == ("Hello", None)
    with pytest.raises(IncompleteStreamError) as info:
        ours(body)
    assert info.value.partial.text == "Hello"


def test_error_event_both_raise() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = START + TEXT + HELLO + event(error)
    with pytest.raises(anthropic.APIStatusError):
        sdk_final_message(body)
    with pytest.raises(APIStreamError) as info:
        ours(body)
    assert info.value.error_type == "overloaded_error"
