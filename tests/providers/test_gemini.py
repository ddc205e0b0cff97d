"""The Gemini interpreter: hand-written chunk sequences, then the recordings."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from trio_sse import ServerSentEvent, SSEDecoder
from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    MalformedEventError,
    Message,
    MessageStart,
    MessageStop,
    OtherBlock,
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
    gemini,
)

from .feeding import (
    assert_errors_pickle_and_copy,
    assert_events_agree,
    assert_same_cut_anywhere,
    feed_all,
    interpret,
    read_recording,
    run_all,
    stream_params,
)

# --- building chunks ---------------------------------------------------------------------

META = {
    "promptTokenCount": 9,
    "candidatesTokenCount": 23,
    "thoughtsTokenCount": 185,
    "totalTokenCount": 217,
}


def sse(payload: dict[str, Any] | str) -> ServerSentEvent:
    """An event as Gemini frames it: ``data:`` only."""
    return ServerSentEvent(data=payload if isinstance(payload, str) else json.dumps(payload))


def chunk(
    *parts: dict[str, Any],
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    **fields: Any,
) -> ServerSentEvent:
    """A chunk of candidate 0; a final one with no parts given has the real shape's
    ``{"text": ""}`` part (Gemini's final chunks carry one)."""
    if finish is not None and not parts:
        parts = ({"text": ""},)
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-x"}
    payload["responseId"] = "r1"
    if usage is not None:
        payload["usageMetadata"] = usage
    return sse(payload | fields)


def call(name: str = "", **fields: Any) -> dict[str, Any]:
    return {"functionCall": ({"name": name} if name else {}) | fields}


def piece(path: str, more: bool = True, **value: Any) -> dict[str, Any]:
    """A ``functionCall`` part with one ``partialArgs`` value."""
    arg = {"jsonPath": path, **value} | (
        {"willContinue": True} if "stringValue" in value and more else {}
    )
    return call(partialArgs=[arg], willContinue=True)


def run(*events: ServerSentEvent) -> tuple[list[StreamEvent], Message]:
    return run_all(gemini.Interpreter(), events)


# --- the protocol, text and thinking ----------------------------------------------------------


def test_text_chunks_join_and_finish_reason_ends_the_reply() -> None:
    early = {"promptTokenCount": 9, "candidatesTokenCount": 5, "thoughtsTokenCount": 185}
    events, message = run(
        chunk({"text": "Hel"}, usage=early),
        chunk({"text": "lo"}, finish="STOP", usage=META),
    )
    usage = Usage(9, 208, reasoning_tokens=185, total_input_tokens=9)
    expected = Message("r1", "gemini-x", (TextBlock("Hello"),), "STOP", usage, provider="gemini")
    assert message == expected
    assert events == [
        MessageStart("r1", "gemini-x"),
        TextDelta(0, "Hel"),
        UsageUpdate(Usage(9, 190, reasoning_tokens=185, total_input_tokens=9)),
        TextDelta(0, "lo"),
        UsageUpdate(usage),
        MessageStop("STOP", expected),
    ]


def test_done_only_at_the_finish_reason_and_later_chunks_are_ignored() -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, chunk({"text": "a"}))
    before = interpreter.done
    feed_all(interpreter, chunk({"text": ""}, finish="MAX_TOKENS"))
    assert (before, interpreter.done) == (False, True)
    assert feed_all(interpreter, chunk({"text": "b"}, usage=META)) == []
    assert interpreter.finish() == Message(
        "r1", "gemini-x", (TextBlock("a"),), "MAX_TOKENS", provider="gemini"
    )


def test_message_is_a_fresh_snapshot() -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, chunk({"text": "a"}))
    first = interpreter.message
    feed_all(interpreter, chunk({"text": "b"}))
    assert (first.text, interpreter.message.text) == ("a", "ab")


def test_consecutive_parts_with_the_same_thought_flag_join() -> None:
    events, message = run(
        chunk({"text": "think ", "thought": True}, {"text": "more", "thought": True}),
        chunk({"text": "say "}, {"text": "it"}, {"text": "", "thought": True}),
        chunk({"text": "again", "thought": True}, {"text": "!"}, finish="STOP"),
    )
    assert message.content == (
        ThinkingBlock("think more"),
        TextBlock("say it"),
        ThinkingBlock("again"),
        TextBlock("!"),
    )
    assert [e for e in events if isinstance(e, ThinkingDelta)] == [
        ThinkingDelta(0, "think "),
        ThinkingDelta(0, "more"),
        ThinkingDelta(2, "again"),
    ]


def test_a_signed_thought_part_is_a_block_of_its_own() -> None:
    events, message = run(
        chunk(
            {"text": "a", "thought": True}, {"text": "b", "thought": True, "thoughtSignature": "s1"}
        ),
        chunk({"text": "c", "thought": True}, finish="STOP"),
    )
    assert message.content == (
        ThinkingBlock("a"),
        ThinkingBlock("b", signature="s1"),
        ThinkingBlock("c"),
    )
    assert events[1:4] == [
        ThinkingDelta(0, "a"),
        ThinkingDelta(1, "b"),
        ThinkingDelta(1, signature="s1"),
    ]


def test_a_signed_text_part_is_a_block_of_its_own_without_an_event() -> None:
    events, message = run(
        chunk({"text": "one"}, {"text": " two", "thoughtSignature": "s1"}),
        chunk({"text": "three"}, {"text": "", "thoughtSignature": "s2"}),
        chunk({"text": "", "thoughtSignature": "s3"}, {"text": ""}, finish="STOP"),
    )
    assert message.content == (
        TextBlock("one"),
        TextBlock(" two", signature="s1"),
        TextBlock("three"),
        TextBlock("", signature="s2"),
        TextBlock("", signature="s3"),
    )
    assert (message.text, message.thinking) == ("one twothree", "")
    assert events[1:-1] == [TextDelta(0, "one"), TextDelta(1, " two"), TextDelta(2, "three")]


# --- function calls ------------------------------------------------------------------------


def test_a_whole_function_call_starts_streams_and_ends_in_one_chunk() -> None:
    interpreter = gemini.Interpreter()
    events = feed_all(
        interpreter,
        chunk(call("weather", args={"city": "Zürich", "days": 2}, id="c1"), thoughtSignature="x"),
    )
    raw = '{"city":"Zürich","days":2}'
    expected = ToolCall("c1", "weather", {"city": "Zürich", "days": 2}, raw)
    assert events == [
        MessageStart("r1", "gemini-x"),
        ToolCallStart(0, "c1", "weather"),
        ToolCallDelta(0, raw),
        ToolCallEnd(0, expected),
    ]
    assert interpreter.message.tool_calls == (expected,)


def test_function_calls_without_id_or_arguments() -> None:
    events, message = run(chunk(call("a"), call("b", args={})), chunk(finish="STOP"))
    assert message.tool_calls == (ToolCall("", "a", {}, ""), ToolCall("", "b", {}, "{}"))
    assert [type(e) for e in events[1:]] == [
        *(ToolCallStart, ToolCallEnd),
        *(ToolCallStart, ToolCallDelta, ToolCallEnd),
        MessageStop,
    ]


def test_a_signature_on_a_function_call_is_the_calls_and_ends_with_it() -> None:
    part = call("weather", args={}) | {"thoughtSignature": "sig"}
    events, message = run(chunk(part, call("other", args={})), chunk(finish="STOP"))
    signed = ToolCall("", "weather", {}, "{}", signature="sig")
    assert message.content == (signed, ToolCall("", "other", {}, "{}"))
    assert ToolCallEnd(0, signed) in events
    assert not [e for e in events if isinstance(e, ThinkingDelta)]


def test_a_signature_on_a_part_streaming_arguments_is_that_calls() -> None:
    events, message = run(
        chunk(call("f", willContinue=True)),
        chunk(piece("$.a", numberValue=1) | {"thoughtSignature": "late"}),
        chunk(call() | {"thoughtSignature": "bare"}),  # ends f: no call is open after it
        chunk(call() | {"thoughtSignature": "none open"}, finish="STOP"),
    )
    signed = ToolCall("", "f", {"a": 1}, '{"a":1}', signature="bare")
    assert message.content == (signed,)
    assert ToolCallEnd(0, signed) in events


def test_streamed_arguments_are_written_as_json_in_order() -> None:
    events, message = run(
        chunk(call("write", willContinue=True) | {"thoughtSignature": "sig"}),
        chunk(piece("$.ops[0].action", stringValue="ad")),
        chunk(piece("$.ops[0].action", more=False, stringValue="d")),
        chunk(piece("$.ops[0].price", numberValue=0.5)),
        chunk(piece("$.ops[1].action", more=False, stringValue='say "hi"\n')),
        chunk(piece("$.ops[1].tags[0]", more=False, stringValue="x")),
        chunk(piece("$.ops[1].tags[1]", boolValue=True)),
        chunk(piece("$.note", nullValue="NULL_VALUE")),
        chunk(piece("$['odd key']", numberValue=3)),
        chunk(call()),
        chunk({"text": ""}, finish="STOP"),
    )
    arguments = {
        "ops": [
            {"action": "add", "price": 0.5},
            {"action": 'say "hi"\n', "tags": ["x", True]},
        ],
        "note": None,
        "odd key": 3,
    }
    (tool_call,) = message.tool_calls
    assert tool_call.arguments == arguments
    assert tool_call.name == "write"
    fragments = [e.arguments for e in events if isinstance(e, ToolCallDelta)]
    assert "".join(fragments) == tool_call.raw_arguments
    assert fragments[:3] == ['{"ops":[{"action":"ad', 'd"', ',"price":0.5']
    assert (len(message.content), tool_call.signature) == (1, "sig")
    end = next(i for i, e in enumerate(events) if isinstance(e, ToolCallEnd))
    assert isinstance(events[end - 1], ToolCallDelta)  # the closing brackets, at ``{}``
    assert isinstance(events[end + 1], MessageStop)


@pytest.mark.parametrize(
    "ending",
    [
        [chunk(call(partialArgs=[{"jsonPath": "$.b", "numberValue": 1}]))],  # no willContinue
        [chunk({"text": "after"})],
        [chunk(call("next", args={}))],
        [],
    ],
)
def test_streamed_arguments_end_without_a_bare_function_call(ending: list[ServerSentEvent]) -> None:
    events, message = run(
        chunk(call("write", willContinue=True)),
        chunk(piece("$.a", stringValue="x")),  # a string left open, too
        *ending,
        chunk(finish="STOP"),
    )
    first = message.tool_calls[0]
    assert first.complete is bool(ending)  # ended by the final chunk's part: cut off
    assert first.arguments in ({"a": "x"}, {"a": "x", "b": 1})
    assert json.loads(first.raw_arguments) == first.arguments
    assert sum(isinstance(e, ToolCallEnd) for e in events) == len(message.tool_calls)
    kinds = [type(e) for e in events if not isinstance(e, ToolCallDelta)]
    assert kinds[:3] == [MessageStart, ToolCallStart, ToolCallEnd]  # before anything else


@pytest.mark.parametrize("reason", ["MAX_TOKENS", "STOP"])
def test_a_call_ended_by_the_final_chunks_empty_text_part_was_cut_off(reason: str) -> None:
    """Real final chunks carry ``parts: [{"text": ""}]`` beside the finishReason: that
    part ends a call still streaming, which the finish reason cut off."""
    events, message = run(
        chunk(call("search", willContinue=True)),
        chunk(piece("$.q", stringValue="par")),
        sse({"candidates": [{"content": {"parts": [{"text": ""}]}, "finishReason": reason}]}),
    )
    (cut,) = message.tool_calls
    assert (cut.complete, cut.arguments, message.stop_reason) == (False, {"q": "par"}, reason)
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert end.call.complete is False


def test_a_call_ended_before_the_final_chunk_stays_complete() -> None:
    _, message = run(
        chunk(call("search", willContinue=True)),
        chunk(piece("$.q", more=False, stringValue="trio")),
        chunk(call()),
        chunk(finish="STOP"),
    )
    assert message.tool_calls[0].complete is True


def test_an_empty_part_is_skipped() -> None:
    _, message = run(chunk({}, {"text": "a"}, {}), chunk({}, finish="STOP"))
    assert [type(block) for block in message.content] == [TextBlock]
    assert message.text == "a"
    assert message.stop_reason == "STOP"


def test_arguments_before_a_name_start_a_nameless_call() -> None:
    _, message = run(chunk(piece("$.a", numberValue=1)), chunk(call(), finish="STOP"))
    assert message.tool_calls == (ToolCall("", "", {"a": 1}, '{"a":1}'),)


def test_a_bare_function_call_with_none_open_is_nothing() -> None:
    events, message = run(chunk(call()), chunk(finish="STOP"))
    assert message.content == ()
    assert [type(e) for e in events] == [MessageStart, MessageStop]


# --- other parts, usage and outcomes -------------------------------------------------------------


def test_other_parts_are_kept_whole_and_other_candidates_ignored() -> None:
    code = {"executableCode": {"language": "PYTHON", "code": "1"}, "thoughtSignature": "s"}
    other = {"content": {"parts": [{"text": "second candidate"}]}, "index": 1}
    events, message = run(chunk(code), sse({"candidates": [other]}), chunk(finish="STOP"))
    assert message.content == (OtherBlock("executableCode", code),)
    assert [type(e) for e in events] == [MessageStart, MessageStop]


@pytest.mark.parametrize(
    ("meta", "usage"),
    [
        (
            META | {"cachedContentTokenCount": 4},
            Usage(9, 208, cache_read_input_tokens=4, reasoning_tokens=185, total_input_tokens=9),
        ),
        (
            {"promptTokenCount": 9, "toolUsePromptTokenCount": 3, "candidatesTokenCount": 2},
            Usage(12, 2, total_input_tokens=12),
        ),
        ({"trafficType": "ON_DEMAND"}, None),
    ],
)
def test_usage_metadata(meta: dict[str, Any], usage: Usage | None) -> None:
    events, message = run(chunk({"text": "a"}, usage=meta), chunk(finish="STOP", usage=meta))
    assert message.usage == usage
    assert [e for e in events if isinstance(e, UsageUpdate)] == (
        [UsageUpdate(usage)] if usage else []
    )
    if usage is not None and "totalTokenCount" in meta:
        assert usage.input_tokens + usage.output_tokens == meta["totalTokenCount"]


def test_a_safety_finish_is_a_stop_reason() -> None:
    events, message = run(
        chunk({"text": "Sure, "}), sse({"candidates": [{"finishReason": "SAFETY", "index": 0}]})
    )
    assert (message.text, message.stop_reason) == ("Sure, ", "SAFETY")
    assert events[-1] == MessageStop("SAFETY", message)


def test_a_blocked_prompt_ends_the_reply_with_its_feedback() -> None:
    feedback = {"blockReason": "PROHIBITED_CONTENT", "safetyRatings": []}
    events, message = run(
        sse({"promptFeedback": feedback, "usageMetadata": {"promptTokenCount": 7}})
    )
    assert message == Message(
        content=(OtherBlock("promptFeedback", feedback),),
        stop_reason="PROHIBITED_CONTENT",
        usage=Usage(7, 0, total_input_tokens=7),
        provider="gemini",
    )
    assert [type(e) for e in events] == [MessageStart, UsageUpdate, MessageStop]


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        ({"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"}, "RESOURCE_EXHAUSTED"),
        ({"code": 500, "message": "slow"}, "500"),
    ],
)
def test_an_error_chunk_raises_with_the_partial_message(
    error: dict[str, Any], error_type: str
) -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, chunk({"text": "so far"}))
    with pytest.raises(APIStreamError) as info:
        interpreter.feed(sse({"error": error}))
    assert (info.value.error_type, info.value.error_message) == (error_type, "slow")
    assert (info.value.provider, info.value.partial.text) == ("gemini", "so far")
    with pytest.raises(APIStreamError):
        interpreter.feed(chunk({"text": "more"}))
    with pytest.raises(APIStreamError):
        interpreter.finish()


def test_eof_without_a_finish_reason_is_incomplete() -> None:
    with pytest.raises(IncompleteStreamError) as info:
        run(
            chunk({"text": "cut"}),
            chunk(call("f", willContinue=True)),
            chunk(piece("$.a", stringValue="x")),
        )
    partial = info.value.partial
    assert (partial.id, partial.text, partial.stop_reason) == ("r1", "cut", None)
    assert partial.tool_calls == (ToolCall("", "f", {}, '{"a":"x', complete=False),)
    assert info.value.expected == "a finishReason"


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (sse('[{"candidates": []}]'), "expected a JSON object"),  # the non-SSE array format
        (chunk("text"), "a part is a JSON string, not an object"),  # type: ignore[arg-type]
        (chunk(piece("operations[0]", numberValue=1)), "unreadable jsonPath"),
        (chunk(piece("$.a..b", numberValue=1)), "unreadable jsonPath"),
    ],
)
def test_type_violations_are_malformed(event: ServerSentEvent, words: str) -> None:
    with pytest.raises(MalformedEventError) as info:
        run(chunk({"text": "a"}), event)
    assert words in str(info.value)


def test_other_candidates_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    two = [{"content": {"parts": [{"text": t}]}, "index": i} for i, t in enumerate("ab")]
    with caplog.at_level(logging.DEBUG, logger="trio_sse.providers"):
        _, message = run(sse({"candidates": two}), chunk(finish="STOP"))
    assert message.text == "a"
    assert "candidate 0 of 2" in caplog.text


def test_errors_pickle_and_copy_with_their_attributes() -> None:
    start = chunk({"text": "a", "thoughtSignature": "s"})
    assert_errors_pickle_and_copy(
        run,
        [start, sse({"error": {"code": 503, "status": "UNAVAILABLE"}})],
        [start],
        [start, sse("{oops")],
        partial_text="a",
    )


# --- the recorded streams --------------------------------------------------------------------


def recording(name: str) -> bytes:
    return read_recording("gemini", name)


@pytest.mark.parametrize("path", stream_params("gemini"))
def test_recording_is_the_same_whole_or_cut_anywhere(path: Path) -> None:
    body = path.read_bytes()
    crlf = body.replace(b"\n", b"\r\n")  # as Gemini frames it
    whole = assert_same_cut_anywhere(gemini.Interpreter, body, crlf)
    assert not isinstance(whole, str), whole


@pytest.mark.parametrize("path", stream_params("gemini"))
def test_recording_events_agree_with_the_message(path: Path) -> None:
    events, message = interpret(gemini.Interpreter(), [path.read_bytes()])
    assert_events_agree(events, message)
    last = json.loads(path.read_text().strip().split("\n\n")[-1].removeprefix("data: "))
    assert message.usage is not None
    total = message.usage.input_tokens + message.usage.output_tokens
    assert total == last["usageMetadata"]["totalTokenCount"]


def test_recording_cut_before_its_finish_reason_is_incomplete() -> None:
    body = recording("google-stream-tool-call-arguments")
    cut = body[: body.rindex(b"data: ")]
    with pytest.raises(IncompleteStreamError) as info:
        interpret(gemini.Interpreter(), [cut])
    assert [c.arguments for c in info.value.partial.tool_calls] == [{"location": "Boston"}, {}]


def test_text_recording() -> None:
    _, message = interpret(gemini.Interpreter(), [recording("google-text")])
    text_block, signed = message.content  # the signature came on an empty text part, last
    assert text_block == TextBlock('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y')
    assert isinstance(signed, TextBlock)
    assert signed.text == ""
    assert signed.signature is not None
    assert signed.signature.startswith("EqsFCqgFAb4+9vvtAF5n87lB4OGDOoTRMOqp35jW65Xs")
    assert (message.id, message.model, message.stop_reason) == (
        "bH6LaZW8Fp_3nsEPqtaSwQ4",
        "gemini-3-pro-preview",
        "STOP",
    )
    assert message.usage == Usage(9, 23 + 185, reasoning_tokens=185, total_input_tokens=9)


def test_whole_tool_call_recordings() -> None:
    for name, usage, signature in (
        ("google-tool-call", Usage(29, 15 + 45, reasoning_tokens=45), "EqUCCqICAb"),
        ("google-tool-call-gemini3", Usage(29, 15 + 804, reasoning_tokens=804), "EpEgCo4gAb"),
    ):
        _, message = interpret(gemini.Interpreter(), [recording(name)])
        (tool_call,) = message.content
        assert isinstance(tool_call, ToolCall)
        raw = '{"location":"San Francisco"}'
        assert tool_call == ToolCall(
            "", "weather", {"location": "San Francisco"}, raw, signature=tool_call.signature
        )
        assert tool_call.signature is not None
        assert tool_call.signature.startswith(signature)
        assert (message.stop_reason, message.usage) == (
            "STOP",
            replace(usage, total_input_tokens=29),
        )


def test_streamed_argument_recordings() -> None:
    _, message = interpret(gemini.Interpreter(), [recording("google-stream-tool-call-arguments")])
    assert [(c.name, c.arguments) for c in message.tool_calls] == [
        ("getWeather", {"location": "Boston"}),
        ("getWeather", {"location": "San Francisco"}),
    ]
    signatures = [c.signature for c in message.tool_calls]
    assert signatures[1] is None
    assert signatures[0] is not None
    assert signatures[0].startswith("CiMBjz1rX2")
    assert message.usage == Usage(26, 23 + 132, reasoning_tokens=132, total_input_tokens=26)
    _, message = interpret(gemini.Interpreter(), [recording("google-stream-no-args-tool-call")])
    assert message.thinking.startswith("**Processing User Requests**")
    assert [(c.name, c.arguments, c.raw_arguments) for c in message.tool_calls] == [
        ("read_theme", {}, ""),
        ("read_screen", {"id": "A"}, '{"id":"A"}'),
        ("read_screen", {"id": "B"}, '{"id":"B"}'),
        ("read_screen", {"id": "C"}, '{"id":"C"}'),
    ]
    assert [type(b).__name__ for b in message.content] == ["ThinkingBlock"] + ["ToolCall"] * 4
    signatures = [c.signature for c in message.tool_calls]
    assert signatures[1:] == [None] * 3
    assert signatures[0] is not None
    assert signatures[0].startswith("AY89a18a8/")  # read_theme's


def test_recording_whose_last_arguments_have_no_terminal_function_call() -> None:
    name = "google-stream-tool-call-array-arguments-missing-terminal-function-call"
    events, message = interpret(gemini.Interpreter(), [recording(name)])
    (tool_call,) = message.tool_calls
    assert tool_call.name == "writeItems"
    assert tool_call.signature is not None
    assert tool_call.signature.startswith("AY89a19ZkX")
    assert tool_call.arguments == {
        "operations": [
            {
                "action": "add",
                "description": "Fresh red apple",
                "itemid": "apple_001",
                "price": 0.5,
            },
            {
                "action": "add",
                "description": "Ripe yellow banana",
                "itemid": "banana_001",
                "price": 0.3,
            },
        ]
    }
    end = next(i for i, e in enumerate(events) if isinstance(e, ToolCallEnd))
    assert events[end - 2 : end] == [ToolCallDelta(0, ',"price":0.3'), ToolCallDelta(0, "}]}")]
    assert message.stop_reason == "STOP"
    # The call ends with its last part (no willContinue), not at the finishReason after it.
    interpreter = gemini.Interpreter()
    fed = [interpreter.feed(sse) for sse in SSEDecoder().feed(recording(name))]
    assert [any(isinstance(e, ToolCallEnd) for e in out) for out in fed[-2:]] == [True, False]
