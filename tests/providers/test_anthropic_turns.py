"""The Anthropic request side: the assistant turn, tool results, tool declarations."""

from __future__ import annotations

import json
from types import FunctionType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_sse import ServerSentEvent
from trio_sse.providers import (
    Message,
    MessageStop,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCall,
    ToolOutput,
    anthropic,
)

from .anthropic_events import (
    MESSAGE_STOP,
    block_start,
    block_stop,
    delta,
    json_piece,
    message_delta,
    message_start,
    run,
    text,
    tool_block,
)
from .feeding import interpret, read_recording, run_docs_page

CITATION = {"type": "char_location", "cited_text": "a", "document_index": 0}


def is_plain_json(value: object) -> bool:
    """``value`` is made of dicts, lists, strings, numbers, booleans and None only."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_plain_json(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


# --- the public names ------------------------------------------------------------------


def test_the_subpackage_keeps_the_module_path_and_shows_its_names_as_its_own() -> None:
    from trio_sse.providers.anthropic import Interpreter

    assert Interpreter is anthropic.Interpreter
    assert anthropic.__all__ == sorted(anthropic.__all__)
    for name in anthropic.__all__:
        obj = getattr(anthropic, name)
        assert isinstance(obj, type | FunctionType)
        assert obj.__module__ == "trio_sse.providers.anthropic"
        assert (obj.__doc__ or "").strip(), name


# --- the assistant turn ------------------------------------------------------------------


def test_the_turn_is_every_block_as_streamed_and_nothing_else() -> None:
    caller = {"type": "direct"}
    search = tool_block("server_tool_use", id="srvtoolu_1", name="web_search", caller=caller)
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    container = {"id": "container_1", "expires_at": "2026-12-01T06:00:00Z"}
    _, message = run(
        message_start(container=container),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Look it up."),
        delta(0, type="signature_delta", signature="sig"),
        block_stop(0),
        block_start(1, {"type": "redacted_thinking", "data": "opaque"}),
        block_stop(1),
        block_start(2, search),
        json_piece(2, '{"query": "trio"}'),
        block_stop(2),
        block_start(3, result),
        block_stop(3),
        block_start(4, {"type": "text", "text": ""}),
        text(4, "Trio is"),
        delta(4, type="citations_delta", citation=CITATION),
        block_stop(4),
        block_start(5, tool_block(caller=caller, toolset_name="files")),
        json_piece(5, '{"city": "Paris"}'),
        block_stop(5),
        block_start(6, tool_block("mcp_tool_use", id="mcptoolu_1", server_name="echo")),
        block_stop(6),
        block_start(7, {"type": "compaction", "content": None}),
        delta(7, type="compaction_delta", content="Summary", encrypted_content="enc"),
        block_stop(7),
        block_start(8, {"type": "hologram", "frames": [1, 2], "nested": {"a": None}}),
        block_stop(8),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    turn = anthropic.assistant_turn(message)[0]
    assert turn == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Look it up.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            search | {"input": {"query": "trio"}},
            result,
            {"type": "text", "text": "Trio is", "citations": [CITATION]},
            tool_block(caller=caller, toolset_name="files", input={"city": "Paris"}),
            tool_block("mcp_tool_use", id="mcptoolu_1", server_name="echo"),
            {"type": "compaction", "content": "Summary", "encrypted_content": "enc"},
            {"type": "hologram", "frames": [1, 2], "nested": {"a": None}},  # unknown: unchanged
        ],
    }
    assert is_plain_json(turn)
    assert anthropic.container(message) == container["id"]  # beside the turn, not in it


def test_the_turn_is_a_copy_the_caller_may_change() -> None:
    _, message = run(
        message_start(),
        block_start(0, {"type": "text", "text": "", "citations": [CITATION]}),
        text(0, "x"),
        block_stop(0),
        MESSAGE_STOP,
    )
    turn = anthropic.assistant_turn(message)[0]
    turn["content"][0]["cache_control"] = {"type": "ephemeral"}
    turn["content"][0]["citations"][0]["cited_text"] = "changed"
    assert anthropic.assistant_turn(message)[0]["content"] == [
        {"type": "text", "text": "x", "citations": [CITATION]}
    ]


def test_blocks_built_by_hand_are_written_from_their_neutral_fields() -> None:
    message = Message(
        content=(
            TextBlock("Hi", citations=(CITATION,)),
            TextBlock("plain"),
            ThinkingBlock("Hm", signature="sig"),
            ThinkingBlock("", signature="opaque", redacted=True),
            ToolCall("toolu_1", "weather", {"city": "Paris"}, ""),
            ToolCall("srvtoolu_1", "web_search", {"q": "x"}, "", provider_executed=True),
            OtherBlock("web_search_tool_result", {"tool_use_id": "srvtoolu_1", "content": []}),
            OtherBlock("bare", {}),
        )
    )
    assert anthropic.assistant_turn(message)[0] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Hi", "citations": [CITATION]},
            {"type": "text", "text": "plain"},
            {"type": "thinking", "thinking": "Hm", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
            {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {"q": "x"},
            },
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "bare"},
        ],
    }


def test_a_text_block_with_nothing_to_read_is_left_out() -> None:
    # Anthropic streams such blocks (before a tool call) and refuses them in a request.
    _, message = run(
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        text(1, " \n"),
        block_stop(1),
        block_start(2, {"type": "text", "text": "", "citations": [CITATION]}),
        block_stop(2),
        block_start(3, tool_block()),
        block_stop(3),
        MESSAGE_STOP,
    )
    assert len(message.content) == 4  # the message keeps them
    assert anthropic.assistant_turn(message)[0]["content"] == [
        {"type": "text", "text": "", "citations": [CITATION]},
        tool_block(),
    ]
    by_hand = Message(content=(TextBlock(""), TextBlock("x")))
    assert anthropic.assistant_turn(by_hand)[0]["content"] == [{"type": "text", "text": "x"}]


def test_raw_wins_over_the_neutral_fields() -> None:
    block = TextBlock("edited", raw={"type": "text", "text": "as streamed"})
    turn = anthropic.assistant_turn(Message(content=(block,), provider="anthropic"))[0]
    assert turn["content"] == [{"type": "text", "text": "as streamed"}]


@pytest.mark.parametrize("redacted", [False, True])
def test_a_thinking_block_without_its_signature_is_refused(redacted: bool) -> None:
    message = Message(content=(ThinkingBlock("Hm", redacted=redacted),))
    with pytest.raises(ValueError, match="without its signature"):
        anthropic.assistant_turn(message)[0]


@pytest.mark.parametrize("provider", ["openai-chat", "openai-responses", "gemini"])
def test_another_providers_message_is_refused(provider: str) -> None:
    message = Message(content=(ThinkingBlock("Hm", signature="theirs"),), provider=provider)
    with pytest.raises(ValueError, match=f"a '{provider}' message cannot be an Anthropic turn"):
        anthropic.assistant_turn(message)[0]


def test_a_call_cut_off_by_max_tokens_goes_back_incomplete_with_empty_input() -> None:
    _, message = run(
        message_start(),
        block_start(0, tool_block()),
        json_piece(0, '{"city": "Par'),
        block_stop(0),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    (call,) = message.tool_calls
    assert not call.complete
    assert anthropic.assistant_turn(message)[0]["content"] == [tool_block()]
    # Anthropic wants an answer to every call: an incomplete one is answered with an error.
    result = anthropic.tool_results_turn([(call, ValueError("the arguments were cut off"))])[0]
    assert result["content"][0]["is_error"] is True


@pytest.mark.parametrize("pieces", [[], ['{"path": "a.txt"}']], ids=["no-fragment", "whole-input"])
def test_the_last_call_of_a_reply_max_tokens_ended_is_not_complete(pieces: list[str]) -> None:
    """Cut off before any fragment, the call would read as ``{}``, complete: a call with
    no arguments the model never meant (``delete_file({})``)."""
    events, message = run(
        message_start(),
        block_start(0, {"type": "text", "text": "Deleting."}),
        block_stop(0),
        block_start(1, tool_block(name="delete_file")),
        *(json_piece(1, piece) for piece in pieces),
        block_stop(1),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    (call,) = message.tool_calls
    assert (call.complete, message.stop_reason) == (False, "max_tokens")
    stop = events[-1]
    assert isinstance(stop, MessageStop)
    assert stop.message.tool_calls[0].complete is False


def test_a_call_before_the_last_block_of_a_max_tokens_reply_stays_complete() -> None:
    _, message = run(
        message_start(),
        block_start(0, tool_block()),
        block_stop(0),
        block_start(1, {"type": "text", "text": "And then"}),
        block_stop(1),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    assert message.tool_calls[0].complete is True


def test_the_container_is_its_id_a_fresh_request_ready_value() -> None:
    container = {"id": "container_1", "expires_at": "2026-12-01T06:00:00Z", "skills": []}
    _, message = run(message_start(container=container), message_delta("end_turn"), MESSAGE_STOP)
    reuse = anthropic.container(message)
    assert reuse == "container_1"  # what the request's ``container`` field takes
    assert message.raw["container"] == container  # the whole JSON stays in the reply's raw
    assert anthropic.container(run(message_start(container=None), MESSAGE_STOP)[1]) is None


def test_a_refusal_with_no_content_is_no_turn() -> None:
    """Anthropic refuses an assistant turn with no content: none is written."""
    _, message = interpret(
        anthropic.Interpreter(), [read_recording("anthropic", "anthropic-refusal")]
    )
    assert (message.stop_reason, message.content) == ("refusal", ())
    assert anthropic.assistant_turn(message) == []


def test_recorded_turns_keep_what_the_next_request_needs() -> None:
    body = read_recording("anthropic", "anthropic-mcp.1")
    _, message = interpret(anthropic.Interpreter(), [body])
    use, result, _ = anthropic.assistant_turn(message)[0]["content"]
    assert (use["type"], use["server_name"], use["input"]) == (
        "mcp_tool_use",
        "echo",
        {"message": "hello world"},
    )
    assert result["type"] == "mcp_tool_result"
    assert result["is_error"] is False


def test_the_docs_tool_loop_runs() -> None:
    result = run_docs_page("anthropic")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "21 °C in Paris. 4\n"


# --- tool results ------------------------------------------------------------------------

CALL = ToolCall("toolu_1", "weather", {"city": "Paris"}, '{"city": "Paris"}')
OTHER_CALL = ToolCall("toolu_2", "clock", {}, "")


def test_tool_results_are_one_user_turn_in_order() -> None:
    turn = anthropic.tool_results_turn(
        [(CALL, {"temperature": 21, "sky": "clear ☀"}), (OTHER_CALL, "12:00")]
    )[0]
    assert turn == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": '{"temperature": 21, "sky": "clear ☀"}',
            },
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "12:00"},
        ],
    }
    assert json.loads(turn["content"][0]["content"]) == {"temperature": 21, "sky": "clear ☀"}


@pytest.mark.parametrize(
    ("error", "content"),
    [(KeyError("city"), "KeyError: 'city'"), (TimeoutError(), "TimeoutError")],
)
def test_an_exception_is_an_error_result(error: Exception, content: str) -> None:
    turn = anthropic.tool_results_turn([(CALL, error)])[0]
    assert turn["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": content, "is_error": True}
    ]


def test_calls_the_provider_ran_are_refused_and_no_results_are_no_turn() -> None:
    server = ToolCall("srvtoolu_1", "web_search", {}, "", provider_executed=True)
    with pytest.raises(ValueError, match="ran on the provider's side"):
        anthropic.tool_results_turn([(server, "x")])
    no_results: list[tuple[ToolCall, ToolOutput]] = []
    assert anthropic.tool_results_turn(no_results) == []


def test_tool_declarations() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [Tool("weather", "The weather in a city.", schema)]
    declared = anthropic.tool_declarations(tools)
    assert declared == [
        {"name": "weather", "description": "The weather in a city.", "input_schema": schema}
    ]
    declared[0]["input_schema"]["required"] = ["city"]
    assert "required" not in schema  # a copy


# --- property: no field of a block's JSON is lost between the stream and the turn -------------

KNOWN = {"type", "text", "citations", "thinking", "signature", "data", "id", "name", "input"}
KNOWN |= {"content", "encrypted_content"}
KNOWN_TYPES = {"text", "thinking", "redacted_thinking", "tool_use", "server_tool_use"}
KNOWN_TYPES |= {"mcp_tool_use", "compaction", "fallback"}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
extras = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda key: key not in KNOWN), json_values, max_size=3
)
pieces = st.lists(st.text(max_size=6), max_size=4)
objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)


def split(draw: st.DrawFn, whole: str) -> list[str]:
    """``whole`` cut at a few places."""
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), max_size=3)))
    return [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]


Block = tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]
"""A block as streamed: its start JSON, its deltas, and its JSON as finally assembled."""


@st.composite
def blocks(draw: st.DrawFn) -> Block:
    more: dict[str, Any] = draw(extras)
    kind = draw(st.sampled_from(["text", "thinking", "redacted", "tool", "compaction", "other"]))
    if kind == "text":
        parts, citations = draw(pieces), draw(st.lists(objects, max_size=2))
        deltas: list[dict[str, Any]] = [{"type": "text_delta", "text": p} for p in parts]
        deltas += [{"type": "citations_delta", "citation": c} for c in citations]
        final: dict[str, Any] = more | {"type": "text", "text": "".join(parts)}
        return (
            more | {"type": "text", "text": ""},
            deltas,
            final | ({"citations": citations} if citations else {}),
        )
    if kind == "thinking":
        parts, signature = draw(pieces), draw(st.text(max_size=8))
        deltas = [{"type": "thinking_delta", "thinking": p} for p in parts]
        deltas.append({"type": "signature_delta", "signature": signature})
        start = more | {"type": "thinking", "thinking": "", "signature": ""}
        return start, deltas, start | {"thinking": "".join(parts), "signature": signature}
    if kind == "redacted":
        start = more | {"type": "redacted_thinking", "data": draw(st.text(max_size=8))}
        return start, [], start
    if kind == "tool":
        tool_type = draw(st.sampled_from(["tool_use", "server_tool_use", "mcp_tool_use"]))
        start = more | {"type": tool_type, "id": "toolu_x", "name": "f", "input": {}}
        arguments = draw(objects)
        fragments = split(draw, json.dumps(arguments))
        deltas = [{"type": "input_json_delta", "partial_json": f} for f in fragments]
        return start, deltas, start | {"input": arguments}
    if kind == "compaction":
        summary, encrypted = draw(st.text(max_size=8)), draw(st.text(max_size=8))
        start = more | {"type": "compaction", "content": None}
        deltas = [{"type": "compaction_delta", "content": summary, "encrypted_content": encrypted}]
        return start, deltas, start | {"content": summary, "encrypted_content": encrypted}
    name = draw(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda t: t not in KNOWN_TYPES)
    )
    start = more | {"type": name}
    return start, [], start


def stream(drawn: list[Block]) -> list[ServerSentEvent]:
    events = [message_start()]
    for index, (start, deltas, _) in enumerate(drawn):
        events.append(block_start(index, start))
        events.extend(delta(index, **fields) for fields in deltas)
        events.append(block_stop(index))
    return [*events, message_delta("end_turn"), MESSAGE_STOP]


@given(st.lists(blocks(), max_size=4))
def test_no_field_of_a_block_is_lost_between_the_stream_and_the_turn(drawn: list[Block]) -> None:
    _, message = run(*stream(drawn))
    turn = anthropic.assistant_turn(message)
    kept = [final for _, _, final in drawn if not blank(final)]
    assert turn == ([{"role": "assistant", "content": kept}] if kept else [])
    assert is_plain_json(turn)


def blank(block: dict[str, Any]) -> bool:
    """A text block the turn leaves out: no text but whitespace, no citations."""
    return block["type"] == "text" and not block["text"].strip() and not block.get("citations")
