"""What the Gemini interpreter keeps for the next turn: each part as assembled (``raw``),
the reply-level fields (``Message.raw``), the call's ``complete`` flag, the usage; and the
costs: linear accumulation, a bad ``jsonPath`` a typed error."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from trio_sse import ServerSentEvent
from trio_sse.providers import (
    MalformedEventError,
    MessageStop,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallEnd,
    gemini,
)

from .feeding import feed_all, interpret, stream_params
from .test_gemini import META, call, chunk, piece, run, sse


def candidate(*parts: dict[str, Any], **fields: Any) -> ServerSentEvent:
    """A chunk whose candidate 0 carries ``fields`` beside its parts."""
    content = {"role": "model", "parts": list(parts)}
    return sse({"candidates": [{"content": content, "index": 0, **fields}], "responseId": "r1"})


# --- blocks: each part as finally assembled ----------------------------------------------------


def test_text_parts_keep_their_fields_and_join_only_when_alike() -> None:
    meta = {"partMetadata": {"k": 1}}
    _, message = run(
        chunk({"text": "a", **meta}, {"text": "b", **meta}),
        chunk({"text": "c"}, {"text": "d", "thought": True, "future": [1]}),
        chunk({"text": "e", "thought": True, "future": [1]}, finish="STOP"),
    )
    assert message.content == (TextBlock("ab"), TextBlock("c"), ThinkingBlock("de"))
    assert [block.raw for block in message.content] == [
        {"text": "ab", **meta},
        {"text": "c"},
        {"text": "de", "thought": True, "future": [1]},
    ]


def test_a_signed_part_is_never_merged_with_an_unsigned_one() -> None:
    """Google: never merge a part that has a signature with one that has not."""
    _, message = run(
        chunk({"text": "Hel"}, {"text": "lo"}),
        chunk({"text": "", "thoughtSignature": "s1"}),
        chunk({"text": "more"}, {"text": "!", "thoughtSignature": "s2"}, finish="STOP"),
    )
    assert [block.raw for block in message.content] == [
        {"text": "Hello"},
        {"text": "", "thoughtSignature": "s1"},
        {"text": "more"},
        {"text": "!", "thoughtSignature": "s2"},
    ]


def test_a_whole_call_keeps_its_id_and_every_field() -> None:
    part = {
        "functionCall": {"id": "c1", "name": "f", "args": {"a": [1]}, "future": True},
        "thoughtSignature": "sig",
        "partFuture": {"x": None},
    }
    events, message = run(chunk(part), chunk(finish="STOP"))
    (tool_call,) = message.tool_calls
    assert (tool_call.id, tool_call.signature, tool_call.complete) == ("c1", "sig", True)
    assert tool_call.raw == part
    assert next(e.call for e in events if isinstance(e, ToolCallEnd)).raw == part


def test_streamed_arguments_are_assembled_into_args_and_later_fields_win() -> None:
    _, message = run(
        chunk(call("write", id="c9", willContinue=True) | {"thoughtSignature": "early"}),
        chunk(piece("$.items[0].name", stringValue="ap")),
        chunk(piece("$.items[0].name", more=False, stringValue="ple")),
        chunk(piece("$.items[1]", numberValue=2) | {"thoughtSignature": "late", "extra": 1}),
        chunk(call(), finish="STOP"),
    )
    (tool_call,) = message.tool_calls
    assert tool_call.raw == {
        "functionCall": {"name": "write", "id": "c9", "args": {"items": [{"name": "apple"}, 2]}},
        "thoughtSignature": "late",
        "extra": 1,
    }
    assert (tool_call.id, tool_call.complete) == ("c9", True)


def test_a_call_cut_by_max_tokens_is_not_complete() -> None:
    events, message = run(
        chunk(call("write", willContinue=True)),
        chunk(piece("$.text", stringValue="half a sen")),
        chunk(finish="MAX_TOKENS"),
    )
    (tool_call,) = message.tool_calls
    assert (tool_call.arguments, tool_call.complete) == ({"text": "half a sen"}, False)
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert end.call.complete is False


@pytest.mark.parametrize("args", [[1], "text", 3])
def test_a_call_whose_arguments_are_not_an_object_is_not_complete(args: object) -> None:
    _, message = run(chunk(call("f", args=args)), chunk(finish="STOP"))
    (tool_call,) = message.tool_calls
    assert (tool_call.arguments, tool_call.complete) == ({}, False)
    assert tool_call.raw == {"functionCall": {"name": "f", "args": args}}


def test_a_call_the_stream_left_open_is_not_complete() -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, chunk(call("f", willContinue=True)), chunk(piece("$.a", numberValue=1)))
    (tool_call,) = interpreter.message.tool_calls
    assert (tool_call.raw_arguments, tool_call.complete) == ('{"a":1', False)
    assert "args" not in tool_call.raw["functionCall"]


def test_unknown_parts_are_kept_whole() -> None:
    part = {"futurePart": {"a": 1}, "thoughtSignature": "s"}
    _, message = run(chunk(part, {"text": "x"}), chunk(finish="STOP"))
    assert message.content[0] == OtherBlock("futurePart", part)
    assert message.content[0].raw == part


@pytest.mark.parametrize("path", stream_params("gemini"))
def test_recorded_calls_are_complete_and_keep_their_args(path: Any) -> None:
    _, message = interpret(gemini.Interpreter(), [path.read_bytes()])
    for tool_call in message.tool_calls:
        assert tool_call.complete
        assert tool_call.raw["functionCall"].get("args", {}) == tool_call.arguments
        assert tool_call.raw.get("thoughtSignature") == tool_call.signature


# --- the reply: Message.raw, usage ------------------------------------------------------------


def test_reply_level_fields_are_kept_in_message_raw() -> None:
    first = {"uri": "https://a.example", "startIndex": 0, "endIndex": 3}
    second = {"uri": "https://b.example", "startIndex": 4, "endIndex": 9}
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]
    grounding = {
        "searchEntryPoint": {"renderedContent": "<div>chips</div>"},
        "webSearchQueries": ["weather"],
    }
    _, message = run(
        candidate(
            {"text": "abc "}, citationMetadata={"citationSources": [first]}, safetyRatings=[]
        ),
        candidate(
            {"text": "defgh"},
            citationMetadata={"citationSources": [second, first], "citations": [first]},
            safetyRatings=safety,
        ),
        sse(
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": ""}], "role": "model"},
                        "finishReason": "STOP",
                        "finishMessage": "done",
                        "groundingMetadata": grounding,
                        "index": 0,
                    }
                ],
                "usageMetadata": META,
                "createTime": "2026-05-04T20:01:02Z",
                "futureField": {"x": 1},
            }
        ),
    )
    assert message.raw == {
        "responseId": "r1",
        "usageMetadata": META,
        "createTime": "2026-05-04T20:01:02Z",
        "futureField": {"x": 1},
        "candidate": {
            "index": 0,
            "citationMetadata": {"citationSources": [first, second], "citations": [first]},
            "safetyRatings": safety,
            "finishReason": "STOP",
            "finishMessage": "done",
            "groundingMetadata": grounding,
        },
    }
    assert gemini.grounding_metadata(message) == grounding
    assert gemini.continuation_token(message) is None


def test_the_grounding_metadata_is_a_copy() -> None:
    grounding = {"searchEntryPoint": {"renderedContent": "<div/>"}, "webSearchQueries": ["q"]}
    _, message = run(candidate({"text": "a"}, finishReason="STOP", groundingMetadata=grounding))
    metadata = gemini.grounding_metadata(message)
    assert metadata == grounding
    metadata["webSearchQueries"].append("changed")
    metadata["searchEntryPoint"] = None
    assert gemini.grounding_metadata(message) == grounding
    assert message.raw["candidate"]["groundingMetadata"] == grounding


def test_a_continuation_token_is_kept() -> None:
    events, message = run(
        candidate({"text": "part one"}, finishReason="CONTINUATION", continuationToken="Y3Q=")
    )
    assert (message.stop_reason, gemini.continuation_token(message)) == ("CONTINUATION", "Y3Q=")
    assert gemini.grounding_metadata(message) is None
    assert events[-1] == MessageStop("CONTINUATION", message)
    assert events[-1].message.raw == message.raw


def test_message_raw_is_a_snapshot() -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, candidate({"text": "a"}, safetyRatings=[1], citationMetadata={}))
    before = interpreter.message.raw
    feed_all(interpreter, candidate({"text": "b"}, safetyRatings=[2]))
    assert before["candidate"]["safetyRatings"] == [1]
    assert interpreter.message.raw["candidate"]["safetyRatings"] == [2]


def test_usage_keeps_the_total_input_and_its_raw_counts() -> None:
    meta = META | {"cachedContentTokenCount": 4, "toolUsePromptTokenCount": 2, "trafficType": "X"}
    _, message = run(chunk({"text": "a"}, usage=META), chunk(finish="STOP", usage=meta))
    assert message.usage is not None
    assert (message.usage.input_tokens, message.usage.total_input_tokens) == (11, 11)
    assert message.usage.raw == meta


# --- costs and limits -----------------------------------------------------------------------------


def _peak_bytes_of_one_delta(interpreter: gemini.Interpreter, event: ServerSentEvent) -> int:
    tracemalloc.start()
    try:
        interpreter.feed(event)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("opening", "delta"),
    [
        (None, chunk({"text": "x" * 64})),
        (None, chunk({"text": "x" * 64, "thought": True})),
        (chunk(call("f", willContinue=True)), chunk(piece("$.a", stringValue="x" * 64))),
    ],
    ids=["text", "thought", "streamed-arguments"],
)
def test_the_cost_of_a_delta_stays_flat_as_the_block_grows(
    opening: ServerSentEvent | None, delta: ServerSentEvent
) -> None:
    """Nothing streamed so far is copied on a delta: the memory one delta allocates is
    the same for a 64 KB block as for a 1 MB one (a copy would allocate the block)."""
    peaks = []
    for deltas in (1_000, 16_000):
        interpreter = gemini.Interpreter()
        feed_all(interpreter, *([opening] if opening else []))
        for _ in range(deltas):
            interpreter.feed(delta)
        peaks.append(_peak_bytes_of_one_delta(interpreter, delta))
    assert max(peaks) < 32_000, peaks


def test_a_json_path_index_too_long_for_int_is_malformed_with_the_partial_message() -> None:
    interpreter = gemini.Interpreter()
    feed_all(interpreter, chunk({"text": "kept"}), chunk(call("f", willContinue=True)))
    event = chunk(piece("$.a[" + "9" * 5_000 + "]", numberValue=1))
    with pytest.raises(MalformedEventError) as info:
        interpreter.feed(event)
    assert "jsonPath index of 5000 digits" in str(info.value)
    assert info.value.partial.text == "kept"
    assert info.value.partial.tool_calls[0].complete is False
    assert len(str(info.value)) < 1_000
    assert json.loads(event.data)  # the event itself is valid JSON
