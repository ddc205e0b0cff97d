"""The Anthropic assistant turn against the official SDK's, offline, on the same bytes.

The reference is what the SDK itself sends back: ``beta.messages.stream(...)
.get_final_message().to_param()`` put in the next ``beta.messages.create`` request,
captured from the wire (the SDK serialises its blocks there; the non-beta stream loses
``mcp_tool_use``'s input). For every recorded stream and the streams below, our
:func:`~trio_sse.providers.anthropic.assistant_turn` must equal it field by field, and
``Message.raw`` / ``Usage.raw`` must equal the SDK's final message and usage, except
where the SDK is wrong: :data:`TURN_DIFFERENCES`, each asserted both ways.

Round trip: every turn, the tool results answering its calls and the tool declarations
pass the SDK's own request types (its ``TypedDict`` params, validated by pydantic with
extra fields forbidden, block by block).
"""

from __future__ import annotations

import functools
import json
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
import pydantic
import pytest

from trio_sse.providers import IncompleteStreamError, Message, Tool, ToolCall, ToolOutput
from trio_sse.providers import anthropic as ours

from ..providers.feeding import final_message, provider_streams, read_recording, stream_params
from .test_anthropic_sdk import SEVERAL_RESPONSES, first_response

anthropic = pytest.importorskip("anthropic")
beta = pytest.importorskip("anthropic.types.beta")
params = pytest.importorskip("anthropic.types.beta.message_create_params")

# fixture -> why the SDK's turn differs from ours (and why ours is right).
TURN_DIFFERENCES = {
    **dict.fromkeys(
        SEVERAL_RESPONSES,
        "several responses back to back: the SDK merges them into the first message's turn;"
        " ours is the first response's, the same as the SDK's on that response alone",
    ),
    "spliced-message-start": (
        "two responses spliced: the SDK's turn is a chimera; ours raises MalformedEventError"
    ),
    "anthropic-web-search-tool.1": (
        "two text blocks of nothing but whitespace (' ' and '\\n\\n', between cited ones): the"
        " SDK sends them back and the API refuses the request ('text content blocks must"
        " contain non-whitespace text'); ours leaves them out"
    ),
}


def blank(block: Mapping[str, Any]) -> bool:
    """A text block with nothing to read, which the API refuses in a request."""
    return block["type"] == "text" and not block["text"].strip() and not block.get("citations")


def exchange(body: bytes, headers: Mapping[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    """The SDK's final message for ``body`` and the assistant turn it sends back, as JSON."""
    sent: list[dict[str, Any]] = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        payload = json.loads(request.content)
        if payload.get("stream"):
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        sent.append(payload)
        reply = {"id": "msg_2", "type": "message", "role": "assistant", "model": "m"}
        usage = {"input_tokens": 1, "output_tokens": 1}
        return httpx2.Response(200, json=reply | {"content": [], "usage": usage})

    user = {"role": "user", "content": "x"}
    with (
        httpx2.Client(transport=httpx2.MockTransport(respond)) as http,
        anthropic.Anthropic(api_key="t", max_retries=0, http_client=http) as client,
    ):
        with client.beta.messages.stream(
            model="m", max_tokens=1, messages=[user], extra_headers=headers
        ) as stream:
            final = stream.get_final_message()
        client.beta.messages.create(model="m", max_tokens=1, messages=[user, final.to_param()])
    return final, sent[0]["messages"][1]


def message_of(body: bytes) -> Message:
    return final_message(ours.Interpreter, body)


def reply_level(final: Any, message: Message) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SDK's final message without its blocks and usage, and its usage, as JSON.

    The SDK sets ``stop_details`` from every ``message_delta``, so it is ``None`` where
    the stream never mentioned it (recordings older than the field): left out then.
    """
    whole = final.to_dict(mode="json")
    usage = whole.pop("usage")
    del whole["content"]
    if whole.get("stop_details", ...) is None and "stop_details" not in message.raw:
        del whole["stop_details"]
    return whole, usage


def assert_agrees(body: bytes, message: Message, *, blanks: int = 0) -> list[dict[str, Any]]:
    """Our turn, reply-level JSON and usage JSON are the SDK's, but for the ``blanks``
    text blocks of nothing but whitespace the SDK sends and ours leaves out, and for a
    reply with no block left, which is no turn here (the API refuses an empty one, the
    SDK sends it); our turn is returned."""
    final, theirs = exchange(body)
    turn = ours.assistant_turn(message)
    kept = [block for block in theirs["content"] if not blank(block)]
    assert len(theirs["content"]) - len(kept) == blanks
    assert turn == ([theirs | {"content": kept}] if kept else [])
    assert message.model == final.model
    assert message.usage is not None
    assert (dict(message.raw), dict(message.usage.raw)) == reply_level(final, message)
    return turn


# --- strict validation with the SDK's request types ----------------------------------------


def _members(union: Any) -> Iterator[Any]:
    for member in typing.get_args(union):
        if typing.get_origin(member) in (typing.Union, typing.Annotated) or (
            typing.get_args(member) and not isinstance(member, type)
        ):
            yield from _members(member)
        else:
            yield member


def _params_by_type() -> dict[str, Any]:
    """Each request block ``type`` -> the SDK's TypedDict for it (not its response models)."""
    params: dict[str, Any] = {}
    for member in _members(beta.BetaContentBlockParam):
        if isinstance(member, type) and issubclass(member, dict):
            for value in typing.get_args(typing.get_type_hints(member)["type"]):
                params[value] = member
    return params


PARAMS = _params_by_type()
FORBID = pydantic.ConfigDict(extra="forbid")


def drain(value: Any) -> Any:
    """Consume pydantic's lazy validators of ``Iterable`` fields, so everything is checked."""
    if type(value).__name__ == "ValidatorIterator":
        return [drain(item) for item in value]
    if isinstance(value, dict):
        return {key: drain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [drain(item) for item in value]
    return value


@functools.cache
def adapter(kind: Any, *, forbid: bool) -> pydantic.TypeAdapter[Any]:
    # Kept alive: a lazy validator outliving its adapter panics in pydantic-core.
    return pydantic.TypeAdapter(list[kind], config=FORBID if forbid else None)


def validate(kind: Any, value: object, *, forbid: bool = True) -> None:
    """``value`` is a ``kind`` (a TypedDict of the SDK's), deeply; with ``forbid``, no
    field unknown to it either."""
    drain(adapter(kind, forbid=forbid).validate_python([value]))


def validate_turn(turn: Mapping[str, Any], role: str) -> None:
    assert set(turn) == {"role", "content"}
    assert turn["role"] == role
    for block in turn["content"]:
        validate(PARAMS[block["type"]], block)
    validate(beta.BetaMessageParam, turn)


def validate_round_trip(message: Message) -> None:
    """The request that follows ``message`` passes the SDK's request types: its turn, the
    results answering its calls and the tools, block by block, then the whole request."""
    turn = ours.assistant_turn(message)
    for entry in turn:
        validate_turn(entry, "assistant")
    messages: list[dict[str, Any]] = [*ours.user_turn("x"), *turn]
    outputs: list[ToolOutput] = [{"ok": True}, "text", RuntimeError("failed")]
    answers = [
        (call, outputs[n % 3])
        for n, call in enumerate(message.tool_calls)
        if not call.provider_executed
    ]
    if answers:
        (answer,) = ours.tool_results_turn(answers)
        validate_turn(answer, "user")
        messages.append(answer)
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    tools = ours.tool_declarations([Tool("search", "Search.", schema)])
    for declared in tools:
        validate(beta.BetaToolParam, declared)
    request = {"model": "m", "max_tokens": 1, "messages": messages, "tools": tools}
    container = ours.container(message)
    if container is not None:
        request["container"] = container
    # The request's own fields are known; its blocks were checked strictly above (some
    # request types, such as the fallbacks', allow extra fields, so no forbid here).
    whole = params.MessageCreateParamsStreaming
    assert set(request) <= set(typing.get_type_hints(whole))
    validate(whole, request | {"stream": True}, forbid=False)


# --- the recordings --------------------------------------------------------------------------


@pytest.mark.parametrize("path", stream_params("anthropic", leave_out=TURN_DIFFERENCES))
def test_the_turn_is_the_sdks(path: Path) -> None:
    body = path.read_bytes()
    message = message_of(body)
    assert_agrees(body, message)
    validate_round_trip(message)


def test_whitespace_text_blocks_are_left_out_of_the_turn() -> None:
    body = read_recording("anthropic", "anthropic-web-search-tool.1")
    message = message_of(body)
    assert_agrees(body, message, blanks=2)
    validate_round_trip(message)


def test_every_listed_difference_is_a_recording() -> None:
    names = {path.stem for path in provider_streams("anthropic")}
    if not names:
        pytest.skip("the recordings are absent")
    assert set(TURN_DIFFERENCES) <= names


@pytest.mark.parametrize("name", sorted(SEVERAL_RESPONSES))
def test_several_responses_the_turn_is_the_first_responses(name: str) -> None:
    body = read_recording("anthropic", name)
    message = message_of(body)
    (turn,) = assert_agrees(first_response(body), message)
    _, merged = exchange(body)
    assert len(merged["content"]) > len(turn["content"])
    validate_round_trip(message)


# --- streams the recordings do not show ------------------------------------------------------


def events(*payloads: dict[str, Any]) -> bytes:
    return b"".join(f"event: {p['type']}\ndata: {json.dumps(p)}\n\n".encode() for p in payloads)


def start(**message: Any) -> dict[str, Any]:
    usage = {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 2}
    fields: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
    }
    fields |= {"content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    return {"type": "message_start", "message": fields | message}


def block(index: int, content_block: dict[str, Any], *deltas: dict[str, Any]) -> list[Any]:
    return [
        {"type": "content_block_start", "index": index, "content_block": content_block},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def end(stop_reason: str = "end_turn", **delta: Any) -> list[dict[str, Any]]:
    usage = {"output_tokens": 9, "output_tokens_details": {"thinking_tokens": 4}}
    fields = {"stop_reason": stop_reason, "stop_sequence": None, "stop_details": None} | delta
    return [
        {"type": "message_delta", "delta": fields, "usage": usage},
        {"type": "message_stop"},
    ]


CALLER = {"type": "code_execution_20250825", "tool_id": "srvtoolu_1"}
CITATION = {
    "type": "char_location",
    "cited_text": "Trio",
    "document_index": 0,
    "document_title": "Docs",
    "start_char_index": 0,
    "end_char_index": 4,
}
CONTAINER = {
    "id": "container_1",
    "expires_at": "2026-12-01T06:00:00Z",
    "skills": [{"type": "anthropic", "skill_id": "pptx", "version": "20251013"}],
}
STOP_DETAILS = {
    "type": "refusal",
    "category": "cyber",
    "explanation": "Blocked.",
    "fallback_credit_token": None,
    "fallback_has_prefill_claim": None,
    "recommended_model": None,
}
THINKING = block(
    0,
    {"type": "thinking", "thinking": "", "signature": ""},
    {"type": "thinking_delta", "thinking": "Let me"},
    {"type": "thinking_delta", "thinking": " see."},
    {"type": "signature_delta", "signature": "c2lnbmF0dXJl"},
)
STREAMS = {
    "thinking-redacted-text-citations": events(
        start(),
        *THINKING,
        *block(1, {"type": "redacted_thinking", "data": "b3BhcXVl"}),
        *block(
            2,
            {"type": "text", "text": ""},
            {"type": "text_delta", "text": "Trio is a library."},
            {"type": "citations_delta", "citation": CITATION},
        ),
        *end(),
    ),
    "tool-use-caller-toolset": events(
        start(),
        *THINKING,
        *block(
            1,
            {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {}, "caller": CALLER},
            {"type": "input_json_delta", "partial_json": '{"path": '},
            {"type": "input_json_delta", "partial_json": '"a.txt"}'},
        ),
        *block(
            2,
            {
                "type": "tool_use",
                "id": "toolu_2",
                "name": "files_list",
                "input": {},
                "toolset_name": "files",
            },
            {"type": "input_json_delta", "partial_json": "{}"},
        ),
        *end("tool_use"),
    ),
    "mcp-and-server-tool-use": events(
        start(),
        *block(
            0,
            {
                "type": "mcp_tool_use",
                "id": "mcptoolu_1",
                "name": "echo",
                "input": {},
                "server_name": "tools",
            },
            {"type": "input_json_delta", "partial_json": '{"message": "hi"}'},
        ),
        *block(
            1,
            {
                "type": "mcp_tool_result",
                "tool_use_id": "mcptoolu_1",
                "is_error": False,
                "content": [{"type": "text", "text": "hi"}],
            },
        ),
        *block(
            2,
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "input_json_delta", "partial_json": '{"query": "trio"}'},
        ),
        *end(),
    ),
    "compaction": events(
        start(),
        *block(
            0,
            {"type": "compaction", "content": None},
            {"type": "compaction_delta", "content": "The story so far.", "encrypted_content": "e"},
        ),
        *block(1, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Go on."}),
        *end(),
    ),
    "fallback": events(
        start(),
        *block(0, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Partial"}),
        *block(
            1,
            {
                "type": "fallback",
                "from": {"model": "claude-x"},
                "to": {"model": "claude-y"},
                "trigger": {"type": "refusal"},
            },
        ),
        *block(2, {"type": "text", "text": ""}, {"type": "text_delta", "text": "Answer"}),
        *end(),
    ),
    "container-and-refusal": events(
        start(container=CONTAINER),
        *block(0, {"type": "text", "text": ""}, {"type": "text_delta", "text": "I can't"}),
        *end("refusal", stop_details=STOP_DETAILS, container=CONTAINER),
    ),
}
# The SDK's request types cannot know a block type from the future; both send it unchanged.
UNKNOWN = events(
    start(),
    *block(0, {"type": "hologram", "frames": [1, 2], "meta": {"a": None}}),
    *end(),
)


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_the_turn_is_the_sdks_on_streams_of_our_own(name: str) -> None:
    message = message_of(STREAMS[name])
    assert_agrees(STREAMS[name], message)
    validate_round_trip(message)


def test_the_fallback_relabel_and_the_reply_level_data_are_the_sdks() -> None:
    final, _ = exchange(STREAMS["fallback"])
    assert message_of(STREAMS["fallback"]).model == final.model == "claude-y"
    message = message_of(STREAMS["container-and-refusal"])
    final, _ = exchange(STREAMS["container-and-refusal"])
    assert message.raw["container"] == final.container.to_dict(mode="json") == CONTAINER
    assert ours.container(message) == final.container.id == CONTAINER["id"]
    assert message.raw["stop_details"] == final.stop_details.to_dict(mode="json")


def test_an_unknown_block_type_goes_back_unchanged_in_both() -> None:
    _, theirs = exchange(UNKNOWN)
    (turn,) = ours.assistant_turn(message_of(UNKNOWN))
    assert turn == theirs
    assert turn["content"] == [{"type": "hologram", "frames": [1, 2], "meta": {"a": None}}]


# --- where the SDK is wrong ----------------------------------------------------------------


CUT = events(
    start(),
    *block(
        0,
        {"type": "tool_use", "id": "toolu_1", "name": "book", "input": {}},
        {"type": "input_json_delta", "partial_json": '{"seats": 2, "name": "Al'},
    ),
    *end("max_tokens"),
)


def test_a_call_cut_by_max_tokens_is_not_guessed() -> None:
    """The SDK sends back what its partial JSON parser makes of the fragments, a guess at
    arguments the model never finished (with the fine-grained tool streaming beta, the
    cut string too); ours sends ``{}`` and marks the call incomplete."""
    message = message_of(CUT)
    (call,) = message.tool_calls
    assert (call.complete, call.raw_arguments) == (False, '{"seats": 2, "name": "Al')
    ((block,),) = (turn["content"] for turn in ours.assistant_turn(message))
    assert block["input"] == {}
    _, theirs = exchange(CUT)
    assert theirs["content"][0]["input"] == {"seats": 2}
    fine = {"anthropic-beta": "fine-grained-tool-streaming-2025-05-14"}
    _, theirs = exchange(CUT, fine)
    assert theirs["content"][0]["input"] == {"seats": 2, "name": "Al"}
    validate_round_trip(message)


def test_a_text_block_with_nothing_to_read_is_left_out() -> None:
    """The API streams an empty text block at times (here, before a tool call) and refuses
    it in a request ("messages: text content blocks must be non-empty",
    anthropics/anthropic-sdk-python#461); the SDK sends it back, ours leaves it out."""
    body = events(
        start(),
        *block(0, {"type": "text", "text": ""}),
        *block(
            1,
            {"type": "tool_use", "id": "toolu_1", "name": "clock", "input": {}},
            {"type": "input_json_delta", "partial_json": "{}"},
        ),
        *end("tool_use"),
    )
    _, theirs = exchange(body)
    call = {"type": "tool_use", "id": "toolu_1", "name": "clock", "input": {}}
    assert theirs["content"] == [{"type": "text", "text": ""}, call]
    assert ours.assistant_turn(message_of(body)) == [{"role": "assistant", "content": [call]}]


def test_a_stream_that_never_finished() -> None:
    """The SDK builds a turn from a stream cut before ``message_stop``; ours refuses to
    call it a message (``IncompleteStreamError``), and its partial's call is incomplete."""
    body = CUT.split(b"event: content_block_stop")[0]
    _, theirs = exchange(body)
    assert theirs["content"][0]["input"] == {"seats": 2}
    with pytest.raises(IncompleteStreamError) as info:
        message_of(body)
    (call,) = info.value.partial.tool_calls
    assert not call.complete


def test_tool_results_are_the_sdks_types() -> None:
    call = ToolCall("toolu_1", "read", {"path": "a"}, '{"path": "a"}')
    (turn,) = ours.tool_results_turn([(call, KeyError("a"))])
    validate_turn(turn, "user")
