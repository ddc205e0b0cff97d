"""The Anthropic Messages interpreter: hand-written event sequences, then the recordings."""

from __future__ import annotations

import json
import logging
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from trio_sse import ServerSentEvent
from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    MalformedEventError,
    Message,
    MessageStart,
    MessageStop,
    OtherBlock,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
    anthropic,
)

from .anthropic_events import (
    MESSAGE_STOP,
    TEXT_BLOCK,
    block_start,
    block_stop,
    delta,
    json_piece,
    message_delta,
    message_start,
    run,
    sse,
    text,
    tool_block,
)
from .feeding import (
    assert_errors_pickle_and_copy,
    assert_events_agree,
    assert_same_cut_anywhere,
    feed_all,
    interpret,
    read_recording,
    stream_params,
)

# --- the protocol and plain text -------------------------------------------------------


def test_text_message_events_and_message() -> None:
    events, message = run(
        message_start(),
        block_start(0, TEXT_BLOCK),
        sse({"type": "ping"}),
        text(0, "Hel"),
        text(0, "lo"),
        block_stop(0),
        message_delta("end_turn", output_tokens=30),
        MESSAGE_STOP,
    )
    usage = Usage(
        input_tokens=12, output_tokens=30, cache_read_input_tokens=5, total_input_tokens=17
    )
    assert message == Message(
        id="msg_1",
        model="claude-x",
        content=(TextBlock("Hello"),),
        stop_reason="end_turn",
        usage=usage,
        provider="anthropic",
    )
    assert events == [
        MessageStart("msg_1", "claude-x"),
        UsageUpdate(Usage(12, 1, cache_read_input_tokens=5, total_input_tokens=17)),
        TextDelta(0, "Hel"),
        TextDelta(0, "lo"),
        UsageUpdate(usage),
        MessageStop("end_turn", message),
    ]


def test_ping_carries_nothing() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start())
    assert interpreter.feed(sse({"type": "ping"})) == []


def test_done_only_at_message_stop_and_later_events_are_ignored() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "a"))
    feed_all(interpreter, block_stop(0), message_delta())
    before = interpreter.done
    feed_all(interpreter, MESSAGE_STOP)
    assert (before, interpreter.done) == (False, True)
    final = interpreter.message
    # A recording may hold several responses back to back: the first one is the message.
    assert feed_all(interpreter, message_start("msg_2"), block_start(0, TEXT_BLOCK)) == []
    assert feed_all(interpreter, sse({"type": "error", "error": {}})) == []
    assert interpreter.finish() == final


def test_message_is_a_fresh_snapshot() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "a"))
    before = interpreter.message
    feed_all(interpreter, text(0, "b"))
    assert before.text == "a"
    assert interpreter.message.text == "ab"


def test_event_without_event_line_is_named_by_its_type() -> None:
    events, message = run(
        message_start(),
        sse({"type": "content_block_start", "index": 0, "content_block": TEXT_BLOCK}, "message"),
        sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "x"},
            },
            "message",
        ),
        sse({"type": "ping"}, "message"),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert message.text == "x"
    assert TextDelta(0, "x") in events


# --- blocks ------------------------------------------------------------------------------


def test_blocks_are_keyed_by_the_providers_index() -> None:
    events, message = run(
        message_start(),
        block_start(5, TEXT_BLOCK),
        block_start(2, {"type": "thinking", "thinking": ""}),
        delta(2, type="thinking_delta", thinking="hm"),
        text(5, "one"),
        text(5, " two"),
        block_stop(5),
        block_stop(2),
        MESSAGE_STOP,
    )
    assert message.content == (TextBlock("one two"), ThinkingBlock("hm"))
    assert events[2:5] == [ThinkingDelta(1, "hm"), TextDelta(0, "one"), TextDelta(0, " two")]


def test_thinking_and_signature_then_text() -> None:
    events, message = run(
        message_start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Let me"),
        delta(0, type="thinking_delta", thinking=" think."),
        delta(0, type="signature_delta", signature="sig=="),
        block_stop(0),
        block_start(1, TEXT_BLOCK),
        text(1, "Done."),
        block_stop(1),
        MESSAGE_STOP,
    )
    assert message.content == (
        ThinkingBlock("Let me think.", signature="sig=="),
        TextBlock("Done."),
    )
    assert message.thinking == "Let me think."
    assert events[2:6] == [
        ThinkingDelta(0, "Let me"),
        ThinkingDelta(0, " think."),
        ThinkingDelta(0, signature="sig=="),
        TextDelta(1, "Done."),
    ]


def test_redacted_thinking() -> None:
    events, message = run(
        message_start(),
        block_start(0, {"type": "redacted_thinking", "data": "opaque"}),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert message.content == (ThinkingBlock("", signature="opaque", redacted=True),)
    assert ThinkingDelta(0, signature="opaque") in events


def test_text_in_the_start_block_counts() -> None:
    events, message = run(
        message_start(), block_start(0, {"type": "text", "text": "Hi"}), MESSAGE_STOP
    )
    assert message.text == "Hi"
    assert TextDelta(0, "Hi") in events


def test_tool_use_fragments_are_joined_and_parsed_at_stop() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "Let me look."))
    events = feed_all(
        interpreter,
        block_stop(0),
        block_start(1, tool_block()),
        json_piece(1, ""),
        json_piece(1, '{"city": "Par'),
        json_piece(1, 'is"}'),
    )
    assert events == [
        ToolCallStart(1, "toolu_1", "weather"),
        ToolCallDelta(1, '{"city": "Par'),
        ToolCallDelta(1, 'is"}'),
    ]
    call = ToolCall("toolu_1", "weather", {"city": "Paris"}, '{"city": "Paris"}')
    assert feed_all(interpreter, block_stop(1)) == [ToolCallEnd(1, call)]
    feed_all(interpreter, message_delta("tool_use"), MESSAGE_STOP)
    assert interpreter.finish().tool_calls == (call,)
    assert interpreter.finish().stop_reason == "tool_use"


def test_tool_use_without_fragments_has_empty_arguments() -> None:
    _, message = run(
        message_start(),
        block_start(0, tool_block()),
        json_piece(0, ""),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert message.tool_calls == (ToolCall("toolu_1", "weather", {}, ""),)


@pytest.mark.parametrize("raw", ['{"city": "Par', "[1, 2]", "nonsense"])
def test_tool_input_that_is_no_json_object_is_kept_raw(raw: str) -> None:
    events, message = run(
        message_start(),
        block_start(0, tool_block()),
        json_piece(0, raw),
        block_stop(0),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    call = ToolCall("toolu_1", "weather", {}, raw, complete=False)
    assert message.tool_calls == (call,)
    assert ToolCallEnd(0, call) in events
    assert message.stop_reason == "max_tokens"


def test_server_tool_use_is_provider_executed() -> None:
    events, message = run(
        message_start(),
        block_start(0, tool_block("server_tool_use", id="srvtoolu_1", name="web_search")),
        json_piece(0, '{"query": "trio"}'),
        block_stop(0),
        block_start(1, tool_block("mcp_tool_use", id="mcptoolu_1", name="echo", server_name="e")),
        block_stop(1),
        MESSAGE_STOP,
    )
    search = ToolCall("srvtoolu_1", "web_search", {"query": "trio"}, '{"query": "trio"}', True)
    echo = ToolCall("mcptoolu_1", "echo", {}, "", True)
    assert message.tool_calls == (search, echo)
    assert ToolCallStart(0, "srvtoolu_1", "web_search", provider_executed=True) in events


def test_input_already_in_the_start_block_is_honoured() -> None:
    block = tool_block("server_tool_use", input={"query": "trio sse"})
    _, message = run(message_start(), block_start(0, block), block_stop(0), MESSAGE_STOP)
    (call,) = message.tool_calls
    assert call.arguments == {"query": "trio sse"}
    assert json.loads(call.raw_arguments) == {"query": "trio sse"}


def test_fragments_win_over_the_start_blocks_input() -> None:
    block = tool_block("server_tool_use", input={"query": "old"})
    _, message = run(
        message_start(),
        block_start(0, block),
        json_piece(0, '{"q": 1}'),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert message.tool_calls[0].arguments == {"q": 1}


def test_tool_results_and_unknown_blocks_are_kept_whole() -> None:
    result = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [{"type": "web_search_result", "url": "https://x"}],
    }
    future = {"type": "hologram", "frames": 3}
    events, message = run(
        message_start(),
        block_start(0, result),
        block_stop(0),
        block_start(1, future),
        block_stop(1),
        MESSAGE_STOP,
    )
    assert message.content == (
        OtherBlock("web_search_tool_result", result),
        OtherBlock("hologram", future),
    )
    assert not [e for e in events if isinstance(e, TextDelta | ThinkingDelta | ToolCallStart)]


def test_deltas_on_other_blocks_are_applied() -> None:
    citation = {"type": "web_search_result_location", "url": "https://x"}
    _, message = run(
        message_start(),
        block_start(0, {"type": "annotated", "citations": []}),
        delta(0, type="citations_delta", citation=citation),
        delta(0, type="citations_delta", citation=citation),
        block_stop(0),
        block_start(1, {"type": "future_tool_use", "id": "x", "input": {}}),
        json_piece(1, '{"a": '),
        json_piece(1, "1}"),
        block_stop(1),
        MESSAGE_STOP,
    )
    assert message.content == (
        OtherBlock("annotated", {"type": "annotated", "citations": [citation, citation]}),
        OtherBlock("future_tool_use", {"type": "future_tool_use", "id": "x", "input": {"a": 1}}),
    )


def test_a_text_blocks_citations_are_its_own_in_order_without_events() -> None:
    first, second, third = ({"type": "char_location", "cited_text": c} for c in "abc")
    events, message = run(
        message_start(),
        block_start(0, {"type": "text", "text": "", "citations": [first]}),
        delta(0, type="citations_delta", citation=second),
        text(0, "cited"),
        delta(0, type="citations_delta", citation=third),
        block_stop(0),
        block_start(1, {"type": "text", "text": "", "citations": None}),
        text(1, "plain"),
        block_stop(1),
        MESSAGE_STOP,
    )
    assert message.content == (
        TextBlock("cited", citations=(first, second, third)),
        TextBlock("plain"),
    )
    assert message.text == "citedplain"
    assert [type(e) for e in events[2:-1]] == [TextDelta, TextDelta]


def test_a_citation_that_is_no_object_is_malformed() -> None:
    with pytest.raises(MalformedEventError, match="a citation is str"):
        run(message_start(), block_start(0, {"type": "text", "text": "", "citations": ["x"]}))
    with pytest.raises(MalformedEventError, match=r"delta\.citation is list"):
        run(
            message_start(),
            block_start(0, TEXT_BLOCK),
            delta(0, type="citations_delta", citation=[]),
        )


def test_a_block_still_open_at_message_stop_is_closed() -> None:
    events, message = run(
        message_start(), block_start(0, tool_block()), json_piece(0, '{"a": 1}'), MESSAGE_STOP
    )
    call = ToolCall("toolu_1", "weather", {"a": 1}, '{"a": 1}')
    assert events[-2:] == [ToolCallEnd(0, call), MessageStop(None, message)]


def test_unknown_events_deltas_and_fields_are_logged_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_sse.providers")
    _, message = run(
        message_start(),
        sse({"type": "telemetry", "x": 1}),
        block_start(0, TEXT_BLOCK),
        delta(0, type="sparkle_delta", sparkle="*"),
        sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "t"},
                "mood": "ok",
            }
        ),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert message.content == (TextBlock("t"),)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "trio_sse.providers")
    assert "telemetry" in logged
    assert "sparkle_delta" in logged
    assert "mood" in logged


# --- what the next request needs: every block's JSON, the reply's ---------------------

CITATION = {"type": "char_location", "cited_text": "a", "document_index": 0}


def test_every_block_keeps_its_json_as_assembled() -> None:
    caller = {"type": "code_execution_20250825", "tool_id": "srvtoolu_9"}
    _, message = run(
        message_start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": "", "mood": 1}),
        delta(0, type="thinking_delta", thinking="Hm"),
        delta(0, type="signature_delta", signature="sig"),
        block_stop(0),
        block_start(1, {"type": "redacted_thinking", "data": "opaque"}),
        block_stop(1),
        block_start(2, {"type": "text", "text": "", "citations": [CITATION]}),
        text(2, "Cited"),
        delta(2, type="citations_delta", citation=CITATION | {"cited_text": "b"}),
        block_stop(2),
        block_start(3, tool_block(caller=caller, toolset_name="files", future=[1])),
        json_piece(3, '{"city": '),
        json_piece(3, '"Paris"}'),
        block_stop(3),
        block_start(4, tool_block("mcp_tool_use", id="mcptoolu_1", server_name="echo-server")),
        block_stop(4),
        MESSAGE_STOP,
    )
    assert [block.raw for block in message.content] == [
        {"type": "thinking", "thinking": "Hm", "signature": "sig", "mood": 1},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Cited", "citations": [CITATION, CITATION | {"cited_text": "b"}]},
        tool_block(caller=caller, toolset_name="files", future=[1], input={"city": "Paris"}),
        tool_block("mcp_tool_use", id="mcptoolu_1", server_name="echo-server"),
    ]


def test_server_and_mcp_tool_use_are_told_apart_by_their_json() -> None:
    _, message = run(
        message_start(),
        block_start(0, tool_block("server_tool_use", id="srvtoolu_1", name="web_search")),
        block_stop(0),
        block_start(1, tool_block("mcp_tool_use", id="mcptoolu_1", name="echo", server_name="e")),
        block_stop(1),
        MESSAGE_STOP,
    )
    search, echo = message.tool_calls
    assert (search.raw["type"], echo.raw["type"]) == ("server_tool_use", "mcp_tool_use")
    assert echo.raw["server_name"] == "e"


def test_compaction_deltas_fill_the_block() -> None:
    _, message = run(
        message_start(),
        block_start(0, {"type": "compaction", "content": None, "signature": "s"}),
        delta(0, type="compaction_delta", content="The story so far", encrypted_content="e1"),
        block_stop(0),
        MESSAGE_STOP,
    )
    compaction = {
        "type": "compaction",
        "content": "The story so far",
        "encrypted_content": "e1",
        "signature": "s",
    }
    assert message.content == (OtherBlock("compaction", compaction),)


def test_a_fallback_block_relabels_the_model_and_stays_in_place() -> None:
    fallback = {
        "type": "fallback",
        "from": {"model": "claude-x"},
        "to": {"model": "claude-y"},
        "trigger": {"type": "refusal"},
    }
    events, message = run(
        message_start(),
        block_start(0, TEXT_BLOCK),
        text(0, "Partial"),
        block_stop(0),
        block_start(1, fallback),
        block_stop(1),
        block_start(2, TEXT_BLOCK),
        text(2, "Answer"),
        block_stop(2),
        MESSAGE_STOP,
    )
    assert events[0] == MessageStart("msg_1", "claude-x")
    assert (message.model, message.raw["model"]) == ("claude-y", "claude-y")
    assert message.content[1] == OtherBlock("fallback", fallback)


@pytest.mark.parametrize("fallback", [{}, {"to": {}}, {"to": {"model": None}}])
def test_a_fallback_block_without_a_model_relabels_nothing(fallback: dict[str, Any]) -> None:
    _, message = run(
        message_start(),
        block_start(0, {"type": "fallback"} | fallback),
        block_stop(0),
        MESSAGE_STOP,
    )
    assert (message.model, message.raw["model"]) == ("claude-x", "claude-x")


def test_a_fallback_model_of_the_wrong_type_is_malformed() -> None:
    with pytest.raises(MalformedEventError, match=r"content_block\.to\.model is int"):
        run(message_start(), block_start(0, {"type": "fallback", "to": {"model": 5}}))


def test_the_reply_level_json_keeps_container_and_stop_details() -> None:
    container = {"id": "container_1", "expires_at": "2026-12-01T06:00:00Z", "skills": []}
    details = {"type": "refusal", "category": "cyber", "explanation": "Blocked."}
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(container=container, stop_sequence=None))
    early = interpreter.message
    stop: dict[str, Any] = {"stop_reason": "refusal", "container": None}
    later: dict[str, Any] = {"type": "message_delta", "delta": stop}
    feed_all(
        interpreter,
        sse(later | {"delta": stop | {"stop_details": details}}),
        sse(later | {"context_management": {"applied_edits": []}}),
        MESSAGE_STOP,
    )
    message = interpreter.finish()
    assert message.raw == {
        "id": "msg_1",
        "type": "message",
        "model": "claude-x",
        "role": "assistant",
        "stop_reason": "refusal",
        "stop_sequence": None,
        "container": container,  # a later null does not erase it
        "stop_details": details,
        "context_management": {"applied_edits": []},
    }
    assert anthropic.container(message) == "container_1"  # what the request's field takes
    assert "stop_details" not in early.raw  # a snapshot does not change afterwards
    assert anthropic.container(Message()) is None


def test_the_container_of_another_providers_message_is_refused() -> None:
    with pytest.raises(ValueError, match="'gemini' message has no Anthropic container"):
        anthropic.container(Message(provider="gemini"))


def test_usage_keeps_its_json_thinking_tokens_and_the_total() -> None:
    start = {"input_tokens": 4, "output_tokens": 1, "cache_creation": {"ephemeral_5m": 2}}
    _, message = run(
        message_start(usage=start),
        sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {
                    "output_tokens": 50,
                    "cache_read_input_tokens": 100,
                    "cache_creation_input_tokens": 20,
                    "output_tokens_details": {"thinking_tokens": 30},
                    "server_tool_use": {"web_search_requests": 1},
                },
            }
        ),
        MESSAGE_STOP,
    )
    assert message.usage == Usage(4, 50, 100, 20, reasoning_tokens=30, total_input_tokens=124)
    assert message.usage.raw == {
        **start,
        "output_tokens": 50,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 20,
        "output_tokens_details": {"thinking_tokens": 30},
        "server_tool_use": {"web_search_requests": 1},
    }


def test_a_tool_call_is_complete_only_once_stopped_with_arguments_that_parse() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, tool_block()), json_piece(0, '{"a": 1}'))
    (streaming,) = interpreter.message.tool_calls
    assert not streaming.complete
    (end,) = [e for e in feed_all(interpreter, block_stop(0)) if isinstance(e, ToolCallEnd)]
    assert end.call.complete
    assert interpreter.message.tool_calls == (end.call,)


def test_a_tool_call_cut_off_by_max_tokens_is_not_complete() -> None:
    events, message = run(
        message_start(),
        block_start(0, tool_block()),
        json_piece(0, '{"city": "Par'),
        block_stop(0),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    (call,) = message.tool_calls
    assert (call.complete, call.arguments, call.raw["input"]) == (False, {}, {})
    assert ToolCallEnd(0, call) in events
    assert [e.call.complete for e in events if isinstance(e, ToolCallEnd)] == [False]


def test_a_snapshot_of_a_block_does_not_change_afterwards() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(
        interpreter,
        message_start(),
        block_start(0, {"type": "annotated", "citations": [CITATION]}),
        block_start(1, {"type": "text", "text": "", "citations": [CITATION]}),
    )
    before = interpreter.message
    feed_all(
        interpreter,
        delta(0, type="citations_delta", citation=CITATION),
        delta(1, type="citations_delta", citation=CITATION),
        text(1, "more"),
    )
    assert [len(block.raw["citations"]) for block in before.content] == [1, 1]
    assert [len(block.raw["citations"]) for block in interpreter.message.content] == [2, 2]


def test_recorded_reply_level_data() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-refusal")])
    assert message.raw["stop_details"]["category"] == "cyber"
    _, message = interpret(
        anthropic.Interpreter(), [recording("anthropic-code-execution-20250825.pptx-skill")]
    )
    assert anthropic.container(message) == "container_011CUJNGs88jcQ8KEiZguEUo"
    assert message.raw["container"]["skills"] == [
        {"type": "anthropic", "skill_id": "pptx", "version": "20251013"}
    ]
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-tool-search-bm25.1")])
    assert [call.raw["caller"] for call in message.tool_calls] == [{"type": "direct"}] * 2


def _peak_bytes_of_one_delta(interpreter: anthropic.Interpreter, event: ServerSentEvent) -> int:
    tracemalloc.start()
    try:
        interpreter.feed(event)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("start", "piece"),
    [
        (tool_block(), json_piece(0, "x" * 32)),
        ({"type": "text", "text": ""}, delta(0, type="text_delta", text="x" * 32)),
        (
            {"type": "thinking", "thinking": "", "signature": ""},
            delta(0, type="thinking_delta", thinking="x" * 32),
        ),
    ],
    ids=["tool-input", "text", "thinking"],
)
def test_the_cost_of_a_delta_stays_flat_as_a_block_grows(
    start: dict[str, Any], piece: ServerSentEvent
) -> None:
    """Fragments are joined once, at the block's end: the memory one delta allocates is
    the same on a block of 1 MB as on a small one (a copy of what came so far would
    allocate the whole block on each delta)."""
    peaks = []
    for deltas in (1_000, 32_000):
        interpreter = anthropic.Interpreter()
        feed_all(interpreter, message_start(), block_start(0, start))
        for _ in range(deltas):
            interpreter.feed(piece)
        peaks.append(_peak_bytes_of_one_delta(interpreter, piece))
    assert max(peaks) < 32_000, peaks


# --- usage -------------------------------------------------------------------------------


def test_message_delta_usage_overwrites_what_it_carries_and_keeps_the_rest() -> None:
    events, message = run(
        message_start(
            usage={"input_tokens": 40, "output_tokens": 1, "cache_creation_input_tokens": 7}
        ),
        message_delta("end_turn", output_tokens=25, cache_read_input_tokens=3),
        message_delta("end_turn", output_tokens=30, input_tokens=41),
        MESSAGE_STOP,
    )
    final = Usage(
        41, 30, cache_read_input_tokens=3, cache_creation_input_tokens=7, total_input_tokens=51
    )
    assert message.usage == final
    assert [e.usage for e in events if isinstance(e, UsageUpdate)] == [
        Usage(40, 1, None, 7, total_input_tokens=47),
        Usage(40, 25, 3, 7, total_input_tokens=50),
        final,
    ]


def test_usage_without_message_start_usage() -> None:
    _, message = run(
        message_start(usage=None), message_delta("end_turn", output_tokens=9), MESSAGE_STOP
    )
    assert message.usage == Usage(input_tokens=0, output_tokens=9)


def test_no_usage_at_all() -> None:
    _, message = run(message_start(usage=None), message_delta("end_turn"), MESSAGE_STOP)
    assert message.usage is None
    assert message.stop_reason == "end_turn"


# --- a second message_start -------------------------------------------------------------


def test_a_repeated_message_start_is_ignored() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "a"))
    assert interpreter.feed(message_start()) == []
    feed_all(interpreter, text(0, "b"), block_stop(0), MESSAGE_STOP)
    assert interpreter.finish().text == "ab"
    assert interpreter.finish().usage == Usage(12, 1, 5, total_input_tokens=17)


def test_a_different_message_start_while_open_is_a_splice() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start("msg_first"), block_start(0, TEXT_BLOCK), text(0, "a"))
    with pytest.raises(MalformedEventError) as info:
        interpreter.feed(message_start("msg_second"))
    assert info.value.event_name == "message_start"
    assert "msg_second" in str(info.value)
    assert info.value.partial.id == "msg_first"
    assert info.value.partial.text == "a"


# --- errors ----------------------------------------------------------------------------


def test_error_event_raises_with_the_partial_message() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "so far"))
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(APIStreamError) as info:
        interpreter.feed(sse(error))
    assert (info.value.error_type, info.value.error_message) == ("overloaded_error", "Overloaded")
    assert info.value.provider == "anthropic"
    assert info.value.partial.text == "so far"
    # Spent: both methods raise the same error again.
    with pytest.raises(APIStreamError) as again:
        interpreter.feed(text(0, "more"))
    assert again.value is info.value
    with pytest.raises(APIStreamError):
        interpreter.finish()


def test_error_event_before_anything_and_without_json() -> None:
    with pytest.raises(APIStreamError) as info:
        run(sse("Internal Server Error", "error"))
    assert info.value.error_type == ""
    assert info.value.error_message == "Internal Server Error"
    assert info.value.partial == Message(provider="anthropic")


def test_error_payload_without_event_line() -> None:
    payload = {"type": "error", "error": {"type": "api_error", "message": "boom"}}
    with pytest.raises(APIStreamError) as info:
        run(message_start(), sse(payload, "message"))
    assert info.value.error_type == "api_error"


def test_eof_without_message_stop_is_incomplete() -> None:
    interpreter = anthropic.Interpreter()
    feed_all(interpreter, message_start(), block_start(0, TEXT_BLOCK), text(0, "cut"))
    with pytest.raises(IncompleteStreamError) as info:
        interpreter.finish()
    assert info.value.expected == "message_stop"
    assert info.value.partial.text == "cut"
    assert info.value.partial.id == "msg_1"


@pytest.mark.parametrize(
    ("events", "words"),
    [
        ([block_start(0, TEXT_BLOCK)], "before message_start"),
        ([message_start(), text(0, "x")], "never started"),
        ([message_start(), block_start(0, TEXT_BLOCK), block_stop(0), text(0, "x")], "has stopped"),
        (
            [message_start(), block_start(0, TEXT_BLOCK), block_start(0, TEXT_BLOCK)],
            "already started",
        ),
        ([message_start(), sse({"type": "content_block_stop", "index": "0"})], "index is str"),
        ([message_start(), sse({"type": "content_block_stop"})], "index is missing"),
        (
            [message_start(), block_start(0, TEXT_BLOCK), delta(0, type="text_delta", text=3)],
            "text is int",
        ),
        ([sse({"type": "message_start", "message": []})], "message is list"),
        ([sse('"a string"', "message_start")], "expected a JSON object"),
    ],
)
def test_grammar_and_type_violations_are_malformed(
    events: list[ServerSentEvent], words: str
) -> None:
    with pytest.raises(MalformedEventError) as info:
        run(*events)
    assert words in str(info.value)


def test_errors_pickle_and_copy_with_their_attributes() -> None:
    start = [message_start(), block_start(0, TEXT_BLOCK), text(0, "a")]
    assert_errors_pickle_and_copy(
        run,
        [*start, sse({"type": "error", "error": {"type": "api_error", "message": "m"}})],
        start,
        [*start, sse("{oops", "message_delta")],
        partial_text="a",
    )


# --- the recorded streams -----------------------------------------------------------------

# Recordings the interpreter must refuse: two responses spliced into one stream.
REFUSED = frozenset({"spliced-message-start"})


def recording(name: str) -> bytes:
    return read_recording("anthropic", name)


@pytest.mark.parametrize("path", stream_params("anthropic"))
def test_recording_is_the_same_whole_or_cut_anywhere(path: Path) -> None:
    whole = assert_same_cut_anywhere(anthropic.Interpreter, path.read_bytes())
    assert isinstance(whole, str) == (path.stem in REFUSED)


@pytest.mark.parametrize("path", stream_params("anthropic", leave_out=REFUSED))
def test_recording_events_agree_with_the_message(path: Path) -> None:
    events, message = interpret(anthropic.Interpreter(), [path.read_bytes()])
    assert_events_agree(events, message)
    assert message.id is not None
    assert message.id.startswith("msg_")


def test_text_recording() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-text")])
    assert message == Message(
        id="msg_01QC4g3HwBThD4BaNtBckFDJ",
        model="claude-sonnet-4-5-20250929",
        content=(
            TextBlock(
                "Hello! I'm doing well, thank you for asking. How are you doing today?"
                " Is there anything I can help you with?"
            ),
        ),
        stop_reason="end_turn",
        usage=Usage(12, 30, 0, 0, total_input_tokens=12),
        provider="anthropic",
    )


def test_tool_recordings() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-tool-no-args")])
    assert message.text == "I'll update the issue list for you."
    assert message.tool_calls == (
        ToolCall("toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "updateIssueList", {}, ""),
    )
    assert (message.stop_reason, message.usage) == (
        "tool_use",
        Usage(565, 48, 0, 0, total_input_tokens=565),
    )
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-json-other-tool.1")])
    raw = '{"location": "San Francisco"}'
    assert message.content == (
        ToolCall("toolu_019Zvehfe1XQWweT1pm7okyt", "weather", {"location": "San Francisco"}, raw),
    )
    assert message.usage == Usage(843, 28, 0, 0, total_input_tokens=843)


def test_mcp_recording() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-mcp.1")])
    call, result, answer = message.content
    raw = '{"message": "hello world"}'
    assert call == ToolCall(
        "mcptoolu_017CuqaJcXe5ZHJjaz3KS1AT", "echo", {"message": "hello world"}, raw, True
    )
    assert isinstance(result, OtherBlock)
    assert result.type == "mcp_tool_result"
    assert result.data["content"] == [{"type": "text", "text": "Tool echo: hello world"}]
    assert answer == TextBlock(
        "The echo tool responded back with: **hello world**\n\n"
        "It simply echoed back the exact message that was sent to it."
    )
    assert message.usage == Usage(1250, 83, 0, 0, total_input_tokens=1250)


def test_usage_recordings() -> None:
    _, message = interpret(
        anthropic.Interpreter(), [recording("anthropic-message-delta-input-tokens")]
    )
    assert (message.text, message.usage) == ("pong", Usage(61, 2, total_input_tokens=61))
    _, message = interpret(
        anthropic.Interpreter(), [recording("anthropic-code-execution-20260120-prompt-cache.1")]
    )
    assert message.usage == Usage(6, 198, 6289, 3337, reasoning_tokens=0, total_input_tokens=9632)
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-refusal")])
    assert (message.content, message.stop_reason, message.usage) == (
        (),
        "refusal",
        Usage(18, 5, 0, 0, total_input_tokens=18),
    )


def test_server_tool_recordings() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-web-search-tool.1")])
    assert message.tool_calls == (
        ToolCall(
            "srvtoolu_01Bj5uzzLcYG5hfueSLcDH8k",
            "web_search",
            {"query": "tech news today September 26 2025"},
            '{"query": "tech news today September 26 2025"}',
            provider_executed=True,
        ),
    )
    assert isinstance(message.content[1], OtherBlock)
    assert message.content[1].type == "web_search_tool_result"
    assert message.text.startswith("Based on my search results, here are the key tech news")
    texts = [block for block in message.content if isinstance(block, TextBlock)]
    assert [len(block.citations) for block in texts[:4]] == [0, 3, 0, 2]
    assert sum(len(block.citations) for block in texts) == 14  # one per citations_delta
    assert texts[1].citations[0]["type"] == "web_search_result_location"
    assert str(texts[1].citations[0]["url"]).startswith("https://www.apple.com/newsroom/")
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-advisor-stop-reasons")])
    assert [type(b).__name__ for b in message.content] == ["ToolCall", "OtherBlock"] * 2
    assert [c.name for c in message.tool_calls] == ["advisor", "advisor"]


def test_recording_with_several_responses_gives_the_first() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("anthropic-tool-search-bm25.1")])
    assert message.id == "msg_011bqgzot9grwdetCByUmXRP"
    assert message.stop_reason == "tool_use"
    assert message.usage == Usage(1630, 158, 0, 0, total_input_tokens=1630)
    assert [c.name for c in message.tool_calls] == ["tool_search_tool_bm25", "get_weather"]
    assert message.tool_calls[1].arguments == {"location": "San Francisco, CA"}


def test_duplicate_message_start_recording() -> None:
    _, message = interpret(anthropic.Interpreter(), [recording("duplicate-message-start")])
    assert (message.id, message.text) == ("msg_dup", "Hello, World!")
    assert message.usage == Usage(17, 227, total_input_tokens=17)


def test_spliced_recording() -> None:
    with pytest.raises(MalformedEventError) as info:
        interpret(anthropic.Interpreter(), [recording("spliced-message-start")])
    partial = info.value.partial
    assert partial.id == "msg_first"
    assert partial.content == (
        ThinkingBlock("I will call the tool.", "sig-first"),
        ToolCall("toolu_first", "test-tool", {}, '{"value":"Spark', complete=False),
    )
