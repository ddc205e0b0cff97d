"""The OpenAI Chat Completions interpreter: hand-written chunks, then the recordings."""

from __future__ import annotations

import json
import logging
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
    StreamEvent,
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
    openai_chat,
)
from trio_sse.providers.openai_chat import _fragments

from .feeding import (
    assert_errors_pickle_and_copy,
    assert_events_agree,
    assert_same_cut_anywhere,
    feed_all,
    final_message,
    interpret,
    read_recording,
    run_all,
    stream_params,
)

# --- building chunks -------------------------------------------------------------------


def chunk(*choices: dict[str, Any], **fields: Any) -> ServerSentEvent:
    """A data-only event holding one chunk (id and model as OpenAI sends them)."""
    payload = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-x"}
    return ServerSentEvent(data=json.dumps(payload | {"choices": list(choices)} | fields))


def choice(index: int = 0, finish_reason: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish_reason}


def say(text: str) -> ServerSentEvent:
    return chunk(choice(content=text))


def tool(index: int, arguments: str = "", **fields: Any) -> dict[str, Any]:
    """A tool-call fragment: ``id``/``type`` in ``fields``, ``name`` too (into ``function``)."""
    function = {"arguments": arguments}
    if "name" in fields:
        function["name"] = fields.pop("name")
    return {"index": index, "function": function} | fields


def tools(*fragments: dict[str, Any]) -> ServerSentEvent:
    return chunk(choice(tool_calls=list(fragments)))


def finish(reason: str = "stop") -> ServerSentEvent:
    return chunk(choice(finish_reason=reason))


def usage(prompt: int = 10, completion: int = 20, **details: Any) -> ServerSentEvent:
    return chunk(usage={"prompt_tokens": prompt, "completion_tokens": completion} | details)


DONE = ServerSentEvent(data="[DONE]")
ROLE = chunk(choice(role="assistant", content="", refusal=None))


def run(*events: ServerSentEvent) -> tuple[list[StreamEvent], Message]:
    return run_all(openai_chat.Interpreter(), events)


# --- text, refusal, reasoning ----------------------------------------------------------


def test_text_message_events_and_message() -> None:
    events, message = run(ROLE, say("Hel"), say("lo"), finish("stop"), usage(10, 2), DONE)
    assert message == Message(
        id="chatcmpl-1",
        model="gpt-x",
        content=(TextBlock("Hello"),),
        stop_reason="stop",
        usage=Usage(input_tokens=10, output_tokens=2, total_input_tokens=10),
        provider="openai-chat",
    )
    assert events == [
        MessageStart("chatcmpl-1", "gpt-x"),
        TextDelta(0, "Hel"),
        TextDelta(0, "lo"),
        UsageUpdate(Usage(10, 2, total_input_tokens=10)),
        MessageStop("stop", message),
    ]


def test_done_only_at_done_and_later_events_are_ignored() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, say("a"), finish())
    before = interpreter.done
    feed_all(interpreter, DONE)
    assert (before, interpreter.done) == (False, True)
    final = interpreter.message
    assert feed_all(interpreter, say("more"), ServerSentEvent(data='{"error": {}}')) == []
    assert interpreter.finish() == final


def test_message_is_a_fresh_snapshot() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, say("a"))
    before = interpreter.message
    feed_all(interpreter, say("b"))
    assert (before.text, interpreter.message.text) == ("a", "ab")


def test_id_and_model_are_the_first_non_empty_values() -> None:
    first = ServerSentEvent(data=json.dumps({"id": "", "choices": [choice(content="a")]}))
    events, message = run(first, chunk(choice(content="b")), chunk(id="other", model="m2"), DONE)
    assert events[0] == MessageStart(None, None)
    assert (message.id, message.model) == ("chatcmpl-1", "gpt-x")


def test_refusal_is_a_flagged_text_block() -> None:
    events, message = run(
        chunk(choice(refusal="I can't")), chunk(choice(refusal=" help.")), finish(), DONE
    )
    assert message.content == (TextBlock("I can't help.", refusal=True),)
    assert (message.refusal, message.text) == ("I can't help.", "")
    assert TextDelta(0, "I can't", refusal=True) in events


def test_a_new_block_starts_when_the_kind_changes() -> None:
    events, message = run(
        chunk(choice(reasoning_content="Think")),
        chunk(choice(reasoning_content="ing.")),
        say("Answer"),
        chunk(choice(reasoning_content="More.")),
        say("!"),
        chunk(choice(refusal="No.")),
        finish(),
        DONE,
    )
    assert message.content == (
        ThinkingBlock("Thinking."),
        TextBlock("Answer"),
        ThinkingBlock("More."),
        TextBlock("!"),
        TextBlock("No.", refusal=True),
    )
    deltas = [e for e in events if isinstance(e, TextDelta | ThinkingDelta)]
    assert [e.index for e in deltas] == [0, 0, 1, 2, 3, 4]


def test_reasoning_field_and_reasoning_content_preferred() -> None:
    _, message = run(chunk(choice(reasoning="groq")), say("x"), DONE)
    assert message.thinking == "groq"
    # Servers that send both fields send the same text twice: only one counts.
    _, message = run(chunk(choice(reasoning_content="once", reasoning="once")), DONE)
    assert message.thinking == "once"
    # An empty reasoning_content does not hide the reasoning beside it.
    _, message = run(chunk(choice(reasoning_content="", reasoning="r")), DONE)
    assert (message.thinking, message.content[0].raw) == ("r", {"reasoning": "r"})
    assert message.raw["message"] == {"reasoning_content": ""}


def test_done_first_still_starts_the_message() -> None:
    events, message = run(DONE)
    assert message == Message(provider="openai-chat")
    assert events == [MessageStart(None, None), MessageStop(None, message)]


def test_role_and_empty_content_make_no_block() -> None:
    events, message = run(ROLE, chunk(choice(content=None, reasoning_content="")), DONE)
    assert message.content == ()
    assert events == [MessageStart("chatcmpl-1", "gpt-x"), MessageStop(None, message)]


# --- tool calls --------------------------------------------------------------------------


def test_tool_call_fragments_are_merged() -> None:
    events, message = run(
        ROLE,
        tools(tool(0, "", id="call_1", type="function", name="weather")),
        tools(tool(0, '{"city":')),
        tools(tool(0, ' "Paris"}')),
        finish("tool_calls"),
        DONE,
    )
    call = ToolCall("call_1", "weather", {"city": "Paris"}, '{"city": "Paris"}')
    assert message.content == (call,)
    assert message.stop_reason == "tool_calls"
    assert events[1:] == [
        ToolCallStart(0, "call_1", "weather"),
        ToolCallDelta(0, '{"city":'),
        ToolCallDelta(0, ' "Paris"}'),
        ToolCallEnd(0, call),
        MessageStop("tool_calls", message),
    ]


def test_repeated_id_type_and_name_are_set_once() -> None:
    _, message = run(
        tools(tool(0, '{"a"', id="call_0", type="function", name="get")),
        tools(tool(0, ": 1}", id="call_0", type="function", name="get")),
        DONE,
    )
    assert message.tool_calls == (ToolCall("call_0", "get", {"a": 1}, '{"a": 1}'),)


def test_parallel_tool_calls_in_one_chunk_and_interleaved() -> None:
    events, message = run(
        tools(tool(0, '{"x"', id="a", name="f"), tool(1, '{"y"', id="b", name="g")),
        tools(tool(1, ": 2}"), tool(0, ": 1}")),
        finish("tool_calls"),
        DONE,
    )
    first, second = (
        ToolCall("a", "f", {"x": 1}, '{"x": 1}'),
        ToolCall("b", "g", {"y": 2}, '{"y": 2}'),
    )
    assert message.tool_calls == (first, second)
    assert [e for e in events if isinstance(e, ToolCallEnd)] == [
        ToolCallEnd(0, first),
        ToolCallEnd(1, second),
    ]


def test_tool_indexes_may_start_at_one() -> None:
    _, message = run(
        tools(tool(1, "{}", id="call_1", name="f")), tools(tool(2, "{}", id="c2", name="g")), DONE
    )
    assert [(c.id, c.name) for c in message.tool_calls] == [("call_1", "f"), ("c2", "g")]


def test_fragment_without_index_takes_its_place_in_the_list() -> None:
    fragments = [
        {"id": "a", "function": {"name": "f", "arguments": "{}"}},
        {"id": "b", "function": {"name": "g"}},
    ]
    _, message = run(chunk(choice(tool_calls=fragments)), DONE)
    assert [c.id for c in message.tool_calls] == ["a", "b"]


def test_text_around_tool_calls() -> None:
    events, message = run(
        say("Let me check."), tools(tool(0, "{}", id="c", name="f")), say("Done?"), finish(), DONE
    )
    assert message.content == (
        TextBlock("Let me check."),
        ToolCall("c", "f", {}, "{}"),
        TextBlock("Done?"),
    )
    assert TextDelta(2, "Done?") in events


def test_tool_call_start_waits_for_the_name() -> None:
    events, message = run(
        tools(tool(0, '{"a":', id="c")), tools(tool(0, " 1}", name="f")), tools(tool(0, "")), DONE
    )
    assert events[1:3] == [ToolCallStart(0, "c", "f"), ToolCallDelta(0, '{"a": 1}')]
    assert message.tool_calls == (ToolCall("c", "f", {"a": 1}, '{"a": 1}'),)


def test_tool_calls_end_at_done_without_finish_reason() -> None:
    # No name ever came: the call still starts (with its buffered arguments) and ends.
    events, message = run(tools(tool(0, "{}", id="c")), DONE)
    call = ToolCall("c", "", {}, "{}")
    assert events[1:] == [
        ToolCallStart(0, "c", ""),
        ToolCallDelta(0, "{}"),
        ToolCallEnd(0, call),
        MessageStop(None, message),
    ]


@pytest.mark.parametrize(
    ("raw", "complete"), [("", True), ('{"a": ', False), ("[1]", False), ('{"a": 1}', True)]
)
def test_arguments_that_are_empty_or_no_json_object(raw: str, complete: bool) -> None:
    _, message = run(tools(tool(0, raw, id="c", name="f")), finish("tool_calls"), DONE)
    arguments = {"a": 1} if complete and raw else {}
    assert message.tool_calls == (ToolCall("c", "f", arguments, raw, complete=complete),)


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_a_call_cut_by_a_token_limit_is_not_complete(reason: str) -> None:
    # Even arguments that parse: the model was stopped while writing the call.
    events, message = run(
        tools(tool(0, "{}", id="a", name="f")),
        tools(tool(1, '{"city": "Par', id="b", name="g")),
        finish(reason),
        DONE,
    )
    first, cut = message.tool_calls
    assert (first.complete, cut.complete) == (True, False)
    assert cut == ToolCall("b", "g", {}, '{"city": "Par', complete=False)
    assert [e.call for e in events if isinstance(e, ToolCallEnd)] == [first, cut]
    _, message = run(tools(tool(0, '{"a": 1}', id="a", name="f")), finish(reason), DONE)
    assert not message.tool_calls[0].complete


def test_a_call_never_ended_is_not_complete() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, tools(tool(0, '{"a": 1}', id="a", name="f")))
    assert interpreter.message.tool_calls == (
        ToolCall("a", "f", {"a": 1}, '{"a": 1}', complete=False),
    )
    with pytest.raises(IncompleteStreamError) as info:
        interpreter.finish()
    assert not info.value.partial.tool_calls[0].complete


def test_fragment_after_the_call_ended_is_ignored() -> None:
    events, message = run(
        tools(tool(0, "{}", id="c", name="f")), finish("tool_calls"), tools(tool(0, "x")), DONE
    )
    assert message.tool_calls == (ToolCall("c", "f", {}, "{}"),)
    assert [e for e in events if isinstance(e, ToolCallEnd)] == [
        ToolCallEnd(0, message.tool_calls[0])
    ]


def test_a_custom_tool_call_has_its_name_and_input() -> None:
    custom = {"index": 0, "id": "c1", "type": "custom", "custom": {"name": "grep", "input": "a"}}
    events, message = run(
        chunk(choice(tool_calls=[custom])),
        chunk(choice(tool_calls=[{"index": 0, "custom": {"input": "b c"}}])),
        finish("tool_calls"),
        DONE,
    )
    call = ToolCall("c1", "grep", {}, "ab c")
    assert message.content == (call,)
    assert call.raw == {}  # raw is not compared: check it apart
    assert message.content[0].raw == {
        "id": "c1",
        "type": "custom",
        "custom": {"name": "grep", "input": "ab c"},
    }
    assert events[1:] == [
        ToolCallStart(0, "c1", "grep"),
        ToolCallDelta(0, "a"),
        ToolCallDelta(0, "b c"),
        ToolCallEnd(0, call),
        MessageStop("tool_calls", message),
    ]


def test_the_legacy_function_call_is_a_tool_call() -> None:
    events, message = run(
        chunk(choice(role="assistant", content=None, function_call={"name": "f", "arguments": ""})),
        chunk(choice(function_call={"arguments": '{"a"'})),
        chunk(choice(function_call={"arguments": ": 1}"})),
        finish("function_call"),
        DONE,
    )
    call = ToolCall("", "f", {"a": 1}, '{"a": 1}')
    assert (message.content, message.stop_reason) == ((call,), "function_call")
    assert message.content[0].raw == {"name": "f", "arguments": '{"a": 1}'}
    assert openai_chat.is_legacy(message.tool_calls[0])
    assert events[1:] == [
        ToolCallStart(0, "", "f"),
        ToolCallDelta(0, '{"a"'),
        ToolCallDelta(0, ": 1}"),
        ToolCallEnd(0, call),
        MessageStop("function_call", message),
    ]


def test_an_unknown_tool_call_type_is_kept_whole() -> None:
    fragment = {"index": 0, "id": "m1", "type": "mcp", "mcp": {"server": "s", "tool": "t"}}
    _, message = run(chunk(choice(tool_calls=[fragment])), finish("tool_calls"), DONE)
    (call,) = message.tool_calls
    assert (call.id, call.name, call.raw_arguments, call.complete) == ("m1", "", "", True)
    assert call.raw == {"id": "m1", "type": "mcp", "mcp": {"server": "s", "tool": "t"}}


# --- choices, usage ----------------------------------------------------------------------


def test_only_choice_zero_is_interpreted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_sse.providers")
    _, message = run(
        chunk(choice(0, content="zero"), choice(1, content="one")),
        chunk(choice(1, content=" uno")),
        chunk(choice(1, finish_reason="length"), choice(0, finish_reason="stop")),
        DONE,
    )
    assert (message.text, message.stop_reason) == ("zero", "stop")
    assert sum("index 0" in r.getMessage() for r in caplog.records) == 1


def test_usage_keeps_the_last_non_null_value() -> None:
    events, message = run(
        say("a"),
        finish(),
        usage(10, 5),
        chunk(usage=None),
        chunk(),  # e.g. a moderation chunk: empty choices, no usage
        DONE,
    )
    assert message.usage == Usage(10, 5, total_input_tokens=10)
    assert [e for e in events if isinstance(e, UsageUpdate)] == [
        UsageUpdate(Usage(10, 5, total_input_tokens=10))
    ]
    _, message = run(usage(1, 1), usage(7, 8), DONE)
    assert message.usage == Usage(7, 8, total_input_tokens=7)


def test_usage_details_are_mapped() -> None:
    details = {
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 9},
    }
    _, message = run(usage(10, 20, **details), DONE)
    assert message.usage == Usage(
        10, 20, cache_read_input_tokens=4, reasoning_tokens=9, total_input_tokens=10
    )


def test_unknown_fields_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="trio_sse.providers")
    _, message = run(chunk(choice(content="a", audio={}), obfuscation="xyz"), DONE)
    assert message.text == "a"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "obfuscation" in logged
    assert "audio" in logged


def test_empty_data_is_ignored() -> None:
    _, message = run(say("a"), ServerSentEvent(data=""), DONE)
    assert message.text == "a"


# --- raw: what the next turn needs ---------------------------------------------------------

SIGNATURE = {"google": {"thought_signature": "c2ln"}}


def test_gemini_thought_signature_is_kept_in_the_call() -> None:
    fragment = tool(0, '{"city": "Paris"}', id="f1", type="function", name="w")
    _, message = run(
        chunk(choice(tool_calls=[fragment | {"extra_content": SIGNATURE}])),
        finish("tool_calls"),
        DONE,
    )
    assert message.tool_calls[0].raw == {
        "id": "f1",
        "type": "function",
        "function": {"name": "w", "arguments": '{"city": "Paris"}'},
        "extra_content": SIGNATURE,
    }
    assert message.tool_calls[0].signature == "c2ln"


def test_openrouter_reasoning_details_are_kept_merged_by_index() -> None:
    first = {"type": "reasoning.text", "text": "Th", "format": "anthropic-claude-v1", "index": 0}
    events, message = run(
        chunk(choice(reasoning="Th", reasoning_details=[first])),
        chunk(
            choice(reasoning="ink", reasoning_details=[{"type": "x", "text": "ink", "index": 0}])
        ),
        chunk(choice(reasoning_details=[{"signature": "S", "index": 0}])),
        say("Hi"),
        chunk(choice(reasoning_details=[{"type": "reasoning.encrypted", "data": "e", "index": 1}])),
        finish(),
        DONE,
    )
    # The neutral signature: a reasoning.text's signature, a reasoning.encrypted's data.
    assert message.content == (ThinkingBlock("Think", "S"), TextBlock("Hi"), ThinkingBlock("", "e"))
    assert message.content[0].raw == {
        "reasoning": "Think",
        "reasoning_details": [first | {"text": "Think", "signature": "S"}],
    }
    assert message.content[2].raw == {
        "reasoning_details": [{"type": "reasoning.encrypted", "data": "e", "index": 1}]
    }
    assert [e for e in events if isinstance(e, ThinkingDelta)] == [
        ThinkingDelta(0, "Th"),
        ThinkingDelta(0, "ink"),
    ]


def test_each_block_keeps_the_fields_it_was_streamed_in() -> None:
    _, message = run(
        chunk(choice(reasoning_content="a", reasoning="a")),
        chunk(choice(reasoning_content="b")),
        say("x"),
        chunk(choice(refusal="no")),
        DONE,
    )
    assert [block.raw for block in message.content] == [
        {"reasoning_content": "ab", "reasoning": "a"},
        {"content": "x"},
        {"refusal": "no"},
    ]


def test_message_raw_holds_the_reply_level_fields() -> None:
    audio = {"id": "au_1", "transcript": "He", "expires_at": 5}
    annotation = {"type": "url_citation", "url_citation": {"url": "u"}}
    usage_fields = {"prompt_tokens": 5, "completion_tokens": 1, "prompt_cache_hit_tokens": 3}
    _, message = run(
        chunk(
            {**choice(role="assistant", content="", refusal=None, audio=audio), "logprobs": None},
            x_groq={"id": "req_1", "seed": 7},
            system_fingerprint="fp",
        ),
        chunk(choice(content="x", audio={"transcript": "llo"}, annotations=[annotation])),
        chunk({**choice(finish_reason="stop", role="assistant"), "native_finish_reason": "STOP"}),
        chunk(usage=usage_fields, x_groq={"id": "req_1", "usage": {"queue_time": 0.1}}),
        DONE,
    )
    assert message.raw == {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "gpt-x",
        "x_groq": {"id": "req_1", "seed": 7, "usage": {"queue_time": 0.1}},
        "system_fingerprint": "fp",
        "usage": usage_fields,
        "choice": {"finish_reason": "stop", "logprobs": None, "native_finish_reason": "STOP"},
        "message": {
            "role": "assistant",
            "content": "",
            "refusal": None,
            "audio": audio | {"transcript": "Hello"},
            "annotations": [annotation],
        },
    }
    assert message.content[0].raw == {"content": "x"}
    assert message.usage is not None
    assert message.usage.raw == usage_fields


def test_annotations_are_the_citations_of_the_text() -> None:
    first, second = ({"type": "url_citation", "url_citation": {"url": u}} for u in "ab")
    _, message = run(
        chunk(choice(annotations=[first])),  # before any text: for the next text block
        say("x"),
        chunk(choice(reasoning_content="hm")),
        chunk(choice(annotations=[second])),  # for the last text block
        DONE,
    )
    assert message.content == (TextBlock("x", citations=(first, second)), ThinkingBlock("hm"))
    assert message.raw["message"]["annotations"] == [first, second]


def test_usage_total_input_tokens_is_the_prompt_tokens() -> None:
    _, message = run(usage(10, 2, prompt_tokens_details={"cached_tokens": 8}), DONE)
    assert message.usage == Usage(10, 2, cache_read_input_tokens=8, total_input_tokens=10)
    _, message = run(chunk(usage={"completion_tokens": 2}), DONE)
    assert message.usage == Usage(0, 2)


def test_raw_is_a_snapshot() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, say("a"), tools(tool(0, "{", id="c", name="f")))
    before = interpreter.message
    feed_all(interpreter, say("b"), tools(tool(0, "}")), finish("tool_calls"), DONE)
    assert [block.raw for block in before.content] == [
        {"content": "a"},
        {"id": "c", "function": {"arguments": "{", "name": "f"}},
    ]
    after = interpreter.message
    assert after.content[1].raw["function"]["arguments"] == "{}"


def test_an_empty_tool_calls_list_holds_nothing() -> None:
    _, message = run(chunk(choice(role="assistant", content="a", tool_calls=[])), DONE)
    assert message.raw["message"] == {"role": "assistant"}
    assert message.content == (TextBlock("a"),)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('{"choices": [{"delta": {"reasoning_details": {}}}]}', "reasoning_details is dict"),
        ('{"choices": [{"delta": {"reasoning_details": [1]}}]}', "reasoning detail is int"),
        ('{"choices": [{"delta": {"function_call": {"name": 1}}}]}', "name is int"),
        ('{"choices": [{"delta": {"annotations": {}}}]}', "annotations is dict"),
        ('{"choices": [{"delta": {"tool_calls": [{"custom": {"input": 1}}]}}]}', "input is int"),
    ],
)
def test_known_fields_of_the_wrong_type_are_malformed(data: str, words: str) -> None:
    with pytest.raises(MalformedEventError) as info:
        run(ServerSentEvent(data=data))
    assert words in str(info.value)


@pytest.mark.parametrize("delta", [say, lambda text: tools(tool(0, text))])
def test_a_delta_costs_the_same_however_long_the_block(
    monkeypatch: pytest.MonkeyPatch, delta: Any
) -> None:
    """Feeding a delta never joins what came before (that would be quadratic): the
    pieces are joined only when a snapshot is taken."""
    joins = 0
    join = _fragments._Parts.value

    def counting(parts: Any) -> str:
        nonlocal joins
        joins += 1
        return join(parts)

    monkeypatch.setattr(_fragments._Parts, "value", counting)
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, tools(tool(0, "", id="c", name="f")), say("a"))
    before = joins
    for _ in range(2000):
        feed_all(interpreter, delta("xy"))
    assert joins == before
    assert (
        len(interpreter.message.text) + len(interpreter.message.tool_calls[0].raw_arguments) > 4000
    )


# --- errors ----------------------------------------------------------------------------


def test_error_payload_raises_with_the_partial_message() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, say("so far"))
    error = {"message": "The server had an error", "type": "server_error", "code": None}
    with pytest.raises(APIStreamError) as info:
        interpreter.feed(chunk(choice(content="x"), error=error))
    assert (info.value.error_type, info.value.error_message) == (
        "server_error",
        "The server had an error",
    )
    assert info.value.provider == "openai-chat"
    assert info.value.partial.text == "so far"
    with pytest.raises(APIStreamError) as again:
        interpreter.feed(say("more"))
    assert again.value is info.value
    with pytest.raises(APIStreamError):
        interpreter.finish()


@pytest.mark.parametrize(
    ("event", "error_type", "error_message"),
    [
        (
            ServerSentEvent(event="error", data='{"error": {"message": "slow down", "code": 429}}'),
            "429",
            "slow down",
        ),
        (ServerSentEvent(event="error", data='{"message": "bad", "type": "t"}'), "t", "bad"),
        (ServerSentEvent(event="error", data="upstream died"), "", "upstream died"),
        (ServerSentEvent(data='{"error": "quota"}'), "", "quota"),
    ],
)
def test_error_shapes(event: ServerSentEvent, error_type: str, error_message: str) -> None:
    with pytest.raises(APIStreamError) as info:
        run(say("a"), event)
    assert (info.value.error_type, info.value.error_message) == (error_type, error_message)


def test_eof_without_done_is_incomplete() -> None:
    interpreter = openai_chat.Interpreter()
    feed_all(interpreter, say("cut"), finish(), usage(1, 2))
    with pytest.raises(IncompleteStreamError) as info:
        interpreter.finish()
    assert info.value.expected == "[DONE]"
    assert info.value.partial.text == "cut"
    assert info.value.partial.usage == Usage(1, 2, total_input_tokens=1)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ('{"choices": {}}', "choices is dict"),
        ('{"choices": [3]}', "choice is int"),
        ('{"choices": [{"index": 0, "delta": {"content": 5}}]}', "content is int"),
        ('{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": "0"}]}}]}', "index is str"),
        ('{"choices": [], "usage": {"prompt_tokens": "3"}}', "prompt_tokens is str"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_type_violations_are_malformed(data: str, words: str) -> None:
    with pytest.raises(MalformedEventError) as info:
        run(ServerSentEvent(data=data))
    assert words in str(info.value)


def test_errors_pickle_and_copy_with_their_attributes() -> None:
    assert_errors_pickle_and_copy(
        run,
        [say("a"), chunk(error={"message": "m", "type": "server_error"})],
        [say("a")],
        [say("a"), ServerSentEvent(data="{oops")],
        partial_text="a",
    )


# --- the recorded streams -----------------------------------------------------------------


def recorded(name: str) -> Message:
    return final_message(openai_chat.Interpreter, read_recording("openai_chat", name))


@pytest.mark.parametrize("path", stream_params("openai_chat"))
def test_recording_is_the_same_whole_or_cut_anywhere(path: Path) -> None:
    whole = assert_same_cut_anywhere(openai_chat.Interpreter, path.read_bytes())
    assert not isinstance(whole, str), whole


@pytest.mark.parametrize("path", stream_params("openai_chat"))
def test_recording_events_agree_with_the_message(path: Path) -> None:
    events, message = interpret(openai_chat.Interpreter(), [path.read_bytes()])
    assert_events_agree(events, message)
    assert message.usage is not None
    assert message.stop_reason is not None


def test_xai_recording() -> None:
    message = recorded("xai-text")
    assert message == Message(
        id="7327b9f5-1c2f-0a15-3fef-c14a71c460d3",
        model="grok-3-mini",
        content=(ThinkingBlock("First, the user said"), TextBlock("Hello")),
        stop_reason="stop",
        usage=Usage(12, 1, cache_read_input_tokens=11, reasoning_tokens=290, total_input_tokens=12),
        provider="openai-chat",
    )


def test_tool_call_recordings() -> None:
    message = recorded("groq-tool-call")
    assert message.content == (ToolCall("tk85n1k4m", "weather", {}, "{}"),)
    assert (message.stop_reason, message.usage) == (
        "tool_calls",
        Usage(210, 15, total_input_tokens=210),
    )
    message = recorded("deepseek-tool-call")
    assert message.thinking == (
        "The user is asking for the weather in San Francisco. I need to use the weather tool to"
        " get this information. Let me invoke the weather tool with the location parameter set"
        ' to "San Francisco".'
    )
    raw = '{"location": "San Francisco"}'
    assert message.tool_calls == (
        ToolCall("call_00_ioIn7yN9p1ZOMNpDLwd4MgAF", "weather", {"location": "San Francisco"}, raw),
    )
    assert [type(b) for b in message.content] == [ThinkingBlock, ToolCall]
    assert message.usage == Usage(
        339, 83, cache_read_input_tokens=320, reasoning_tokens=39, total_input_tokens=339
    )


def test_text_recordings() -> None:
    message = recorded("openai-text")
    assert message.text.startswith("**Holiday Name:** Harmony Day\n\n**Date:** Celebrated annually")
    assert message.text.endswith("ed human experiences and mutual respect.")
    assert len(message.text) == 1724
    assert (message.model, message.stop_reason) == ("gpt-4.1-nano-2025-04-14", "stop")
    assert message.usage == Usage(
        16, 300, cache_read_input_tokens=0, reasoning_tokens=0, total_input_tokens=16
    )
    message = recorded("deepseek-text")
    assert (message.stop_reason, message.usage) == (
        "length",
        Usage(13, 400, 0, total_input_tokens=13),
    )
    message = recorded("groq-reasoning")
    assert message.text.endswith('in "strawberry".\n\n**Final Answer**: $\\boxed{3}$')
    assert message.thinking.startswith("Okay, let me try to figure out")
    assert message.usage == Usage(17, 1107, reasoning_tokens=963, total_input_tokens=17)
