"""The OpenAI Responses interpreter: hand-written event sequences, then the recordings."""

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
    ContentBlock,
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
    openai_responses,
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
from .responses_events import (
    added,
    arguments,
    call_item,
    completed,
    created,
    ev,
    item_done,
    message_item,
    response,
    run,
    sse,
    text,
    text_done,
)

THE_USAGE = Usage(30, 20, cache_read_input_tokens=10, reasoning_tokens=5, total_input_tokens=30)

# --- the protocol, text and usage ----------------------------------------------------------


def test_text_message_events_and_message() -> None:
    events, message = run(
        created(),
        ev("in_progress", response=response()),
        added(0, message_item()),
        ev("content_part.added", output_index=0, content_index=0, part={"type": "output_text"}),
        text(0, "Hel"),
        text(0, "lo"),
        text_done(0, "Hello"),
        item_done(0, message_item("Hello")),
        completed([message_item("Hello")]),
    )
    expected = Message(
        "resp_1",
        "gpt-x",
        (TextBlock("Hello", id="msg_1"),),
        "completed",
        THE_USAGE,
        provider="openai-responses",
    )
    assert message == expected
    assert events == [
        MessageStart("resp_1", "gpt-x"),
        TextDelta(0, "Hel"),
        TextDelta(0, "lo"),
        UsageUpdate(THE_USAGE),
        MessageStop("completed", expected),
    ]


def test_usage_maps_every_count_and_copilots_cache_writes() -> None:
    usage = {
        "input_tokens": 19,
        "input_tokens_details": {"cache_write_tokens": 4, "cached_tokens": 2},
        "output_tokens": 105,
        "output_tokens_details": {"reasoning_tokens": 44},
    }
    _, message = run(created(), ev("completed", response=response("completed", usage=usage)))
    assert message.usage == Usage(19, 105, 2, 4, 44, 19)
    assert message.usage.raw == usage
    _, message = run(created(), ev("completed", response=response("completed", usage=None)))
    assert message.usage is None


def test_done_only_at_the_terminal_event_and_later_events_are_ignored() -> None:
    interpreter = openai_responses.Interpreter()
    feed_all(interpreter, created(), added(0, message_item()), text(0, "a"))
    before = interpreter.done
    feed_all(interpreter, completed([message_item("a")]))
    assert (before, interpreter.done) == (False, True)
    final = interpreter.message
    assert feed_all(interpreter, created(), added(1, message_item()), text(1, "b")) == []
    assert interpreter.message == final == interpreter.finish()


def test_message_is_a_fresh_snapshot() -> None:
    interpreter = openai_responses.Interpreter()
    feed_all(interpreter, created(), added(0, message_item()), text(0, "a"))
    first = interpreter.message
    feed_all(interpreter, text(0, "b"))
    assert first.text == "a"
    assert interpreter.message.text == "ab"


def test_parts_and_items_are_blocks_in_order_of_appearance() -> None:
    events, message = run(
        created(),
        added(0, message_item()),
        text(0, "one"),
        text(0, "two", part=1),
        ev("refusal.delta", output_index=0, content_index=2, delta="no"),
        added(1, call_item()),
        completed([message_item("one", "two", refusal="no"), call_item()]),
    )
    assert message.content[:3] == (
        TextBlock("one", id="msg_1"),
        TextBlock("two", id="msg_1"),
        TextBlock("no", True, id="msg_1"),
    )
    assert message.text == "onetwo"
    assert message.refusal == "no"
    assert TextDelta(2, "no", refusal=True) in events
    assert ToolCallStart(3, "call_1", "get") in events


def test_annotations_are_the_text_blocks_citations_as_last_stated() -> None:
    first = {"type": "url_citation", "url": "https://a", "start_index": 0, "end_index": 2}
    second = first | {"url": "https://b"}
    older = {"type": "output_text", "text": "", "annotations": [second]}
    interpreter = openai_responses.Interpreter()
    events = feed_all(
        interpreter,
        created(),
        added(0, message_item()),
        ev("content_part.added", output_index=0, content_index=0, part=older),
        text(0, "hi"),
        ev("output_text.annotation.added", output_index=0, content_index=0, annotation=first),
    )
    assert interpreter.message.content == (TextBlock("hi", id="msg_1"),)  # only whole forms
    whole = {"type": "output_text", "text": "hi", "annotations": [first, "junk", {}]}
    events += feed_all(
        interpreter, ev("content_part.done", output_index=0, content_index=0, part=whole)
    )
    assert interpreter.message.content == (TextBlock("hi", citations=(first,), id="msg_1"),)
    final = message_item("hi")
    final["content"][0]["annotations"] = [first, second]
    events += feed_all(interpreter, completed([final]))
    assert interpreter.finish().content == (TextBlock("hi", citations=(first, second), id="msg_1"),)
    assert [type(e) for e in events] == [MessageStart, TextDelta, UsageUpdate, MessageStop]


# --- reasoning ------------------------------------------------------------------------------


def test_reasoning_summary_parts_join_with_a_blank_line_and_carry_the_signature() -> None:
    summary = [{"type": "summary_text", "text": "A1"}, {"type": "summary_text", "text": "B"}]
    item = {"type": "reasoning", "id": "rs_1", "summary": summary, "encrypted_content": "enc"}
    summary_delta = "reasoning_summary_text.delta"
    events, message = run(
        created(),
        added(0, {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "old"}),
        ev(summary_delta, output_index=0, summary_index=0, delta="A"),
        ev(summary_delta, output_index=0, summary_index=0, delta="1"),
        ev("reasoning_summary_text.done", output_index=0, summary_index=0, text="A1"),
        ev(summary_delta, output_index=0, summary_index=1, delta="B"),
        item_done(0, item),
        completed([item | {"encrypted_content": "final"}]),
    )
    assert message.content == (
        ThinkingBlock("A1\n\nB", signature="final", id="rs_1", summary=("A1", "B")),
    )
    assert [e for e in events if isinstance(e, ThinkingDelta)] == [
        ThinkingDelta(0, "A"),
        ThinkingDelta(0, "1"),
        ThinkingDelta(0, "\n\nB"),
        ThinkingDelta(0, signature="enc"),
        ThinkingDelta(0, signature="final"),
    ]


def test_raw_reasoning_text_is_thinking_too() -> None:
    content = [{"type": "reasoning_text", "text": "hmm"}]
    item = {"type": "reasoning", "summary": [], "content": content}
    events, message = run(
        created(),
        added(0, {"type": "reasoning", "summary": []}),
        ev("content_part.added", output_index=0, content_index=0, part=content[0] | {"text": ""}),
        ev("reasoning_text.delta", output_index=0, content_index=0, delta="hmm"),
        completed([item]),
    )
    assert message.content == (ThinkingBlock("hmm"),)
    assert ThinkingDelta(0, "hmm") in events


# --- tool calls -------------------------------------------------------------------------------


def test_function_call_id_is_the_call_id_and_arguments_parse_at_done() -> None:
    whole = '{"city": "Paris"}'
    events, message = run(
        created(),
        added(0, call_item()),
        arguments(0, '{"city": '),
        arguments(0, '"Paris"}'),
        ev("function_call_arguments.done", output_index=0, arguments=whole),
        item_done(0, call_item(whole)),
        completed([call_item(whole)]),
    )
    call = ToolCall("call_1", "get", {"city": "Paris"}, whole, item_id="fc_1")
    assert message.content == (call,)
    assert message.tool_calls == (call,)
    assert events[1:5] == [
        ToolCallStart(0, "call_1", "get"),
        ToolCallDelta(0, '{"city": '),
        ToolCallDelta(0, '"Paris"}'),
        ToolCallEnd(0, call),
    ]
    assert sum(isinstance(e, ToolCallEnd) for e in events) == 1


def test_a_call_with_no_argument_deltas_gets_them_from_its_whole_form() -> None:
    events, message = run(created(), added(0, call_item()), completed([call_item('{"a": 1}')]))
    assert message.tool_calls == (ToolCall("call_1", "get", {"a": 1}, '{"a": 1}', item_id="fc_1"),)
    assert ToolCallDelta(0, '{"a": 1}') in events


@pytest.mark.parametrize("raw", ['{"city": "Par', "[1, 2]", "nonsense", ""])
def test_arguments_that_are_no_json_object_are_kept_raw(raw: str) -> None:
    incomplete = response("incomplete", [call_item(raw)])
    incomplete["incomplete_details"] = {"reason": "max_output_tokens"}
    _, message = run(
        created(), added(0, call_item()), arguments(0, raw), ev("incomplete", response=incomplete)
    )
    assert message.tool_calls == (
        ToolCall("call_1", "get", {}, raw, complete=False, item_id="fc_1"),
    )
    assert message.stop_reason == "max_output_tokens"


def test_custom_tool_call_input_is_the_raw_arguments() -> None:
    tools = [{"type": "custom", "name": "sql"}]
    item = {"type": "custom_tool_call", "call_id": "call_9", "name": "sql", "input": ""}
    events, message = run(
        created(tools=tools),
        added(0, item),
        ev("custom_tool_call_input.delta", output_index=0, delta="SELECT "),
        ev("custom_tool_call_input.delta", output_index=0, delta="1"),
        ev("custom_tool_call_input.done", output_index=0, input="SELECT 1"),
        completed([item | {"input": "SELECT 1"}], tools=tools),
    )
    call = ToolCall("call_9", "sql", {}, "SELECT 1")
    assert message.tool_calls == (call,)
    assert events[1:5] == [
        ToolCallStart(0, "call_9", "sql"),
        ToolCallDelta(0, "SELECT "),
        ToolCallDelta(0, "1"),
        ToolCallEnd(0, call),
    ]


@pytest.mark.parametrize(
    ("tools", "executed"),
    [
        ([{"type": "x_search"}], True),  # xAI: its own server-side search
        ([{"type": "custom", "name": "x_keyword_search"}], False),
        ([{"type": "function", "name": "x_keyword_search"}], False),
        ([], False),  # no tools listed: nothing to tell by
        (None, False),
        ([{"type": "function", "name": "other"}], False),  # no server-side tool listed
        ([{"type": "namespace", "name": "db", "tools": []}], False),
        (
            [
                {"type": "x_search"},
                {
                    "type": "namespace",
                    "name": "x",
                    "tools": [{"type": "custom", "name": "x_keyword_search"}],
                },
            ],
            False,  # declared inside a namespace tool
        ),
        (
            [
                {"type": "web_search"},
                {
                    "type": "namespace",
                    "name": "a",
                    "tools": [
                        {
                            "type": "namespace",
                            "name": "b",
                            "tools": [{"type": "function", "name": "x_keyword_search"}],
                        }
                    ],
                },
            ],
            False,  # namespaces in namespaces
        ),
    ],
)
def test_custom_tool_call_not_declared_is_provider_executed(
    tools: list[dict[str, Any]] | None, executed: bool
) -> None:
    item = {"type": "custom_tool_call", "call_id": "xs_1", "name": "x_keyword_search"}
    item |= {"input": '{"query": "q"}'}
    events, message = run(created(tools=tools), added(0, item), completed([item], tools=tools))
    call = ToolCall("xs_1", "x_keyword_search", {"query": "q"}, '{"query": "q"}', executed)
    assert message.tool_calls == (call,)
    assert ToolCallStart(0, "xs_1", "x_keyword_search", executed) in events


def test_a_custom_call_carrying_a_namespace_is_never_provider_executed() -> None:
    tools = [{"type": "x_search"}]
    item = {"type": "custom_tool_call", "call_id": "c1", "name": "sql", "namespace": "db"}
    item |= {"input": "SELECT 1"}
    _, message = run(created(tools=tools), added(0, item), completed([item], tools=tools))
    assert message.tool_calls[0].provider_executed is False


def test_a_custom_tool_loaded_by_tool_search_is_the_callers() -> None:
    tools = [{"type": "tool_search"}]  # a server-side tool: the xAI heuristic is on
    loaded: dict[str, Any] = {"type": "tool_search_output", "id": "tso_1", "execution": "server"}
    loaded |= {"tools": [{"type": "custom", "name": "sql", "description": "run sql"}]}
    item = {"type": "custom_tool_call", "call_id": "c1", "name": "sql", "input": "SELECT 1"}
    unknown = item | {"call_id": "c2", "name": "x_keyword_search"}
    _, message = run(
        created(tools=tools),
        added(0, loaded),
        item_done(0, loaded),
        added(1, item),
        added(2, unknown),
        completed([loaded, item, unknown], tools=tools),
    )
    assert [call.provider_executed for call in message.tool_calls] == [False, True]


def test_built_in_tool_items_are_other_blocks_as_last_stated() -> None:
    searching = {"type": "web_search_call", "id": "ws_1", "status": "in_progress"}
    found = searching | {"status": "completed", "action": {"type": "search", "query": "q"}}
    events, message = run(
        created(),
        added(0, searching),
        ev("web_search_call.searching", output_index=0, item_id="ws_1"),
        item_done(0, found),
        added(1, {"type": "apply_patch_call", "call_id": "c", "operation": {}}),
        completed([found, {"type": "apply_patch_call", "call_id": "c", "operation": {"x": 1}}]),
    )
    assert message.content == (
        OtherBlock("web_search_call", found),
        OtherBlock(
            "apply_patch_call", {"type": "apply_patch_call", "call_id": "c", "operation": {"x": 1}}
        ),
    )
    assert message.tool_calls == ()
    assert [type(e) for e in events] == [MessageStart, UsageUpdate, MessageStop]


# --- which statement wins ------------------------------------------------------------------------


def test_a_whole_form_that_extends_the_deltas_adds_a_delta() -> None:
    events, message = run(
        created(),
        added(0, message_item()),
        text(0, "Got"),
        text_done(0, "Got it"),
        completed([message_item("Got it!")]),
    )
    assert message.text == "Got it!"
    assert [e for e in events if isinstance(e, TextDelta)] == [
        TextDelta(0, "Got"),
        TextDelta(0, " it"),
        TextDelta(0, "!"),
    ]


def test_a_whole_form_that_contradicts_the_deltas_wins_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="trio_sse.providers"):
        events, message = run(
            created(),
            added(0, message_item()),
            text(0, "Hello."),
            completed([message_item("Help")]),
        )
    assert message.text == "Help"
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta(0, "Hello.")]
    assert "disagrees" in caplog.text


def test_the_terminal_response_wins_for_id_and_model_and_pairs_items_in_order() -> None:
    # GitHub Copilot rotates every id, the response's and the items' included.
    rotated = [message_item("hi") | {"id": "other"}]
    events, message = run(
        created(),
        added(0, message_item()),
        text(0, "hi"),
        ev("completed", response=response("completed", rotated, id="resp_2", model="gpt-y")),
    )
    assert events[0] == MessageStart("resp_1", "gpt-x")
    assert (message.id, message.model, message.text) == ("resp_2", "gpt-y", "hi")


def test_items_only_in_the_terminal_response_are_added_with_their_events() -> None:
    events, message = run(created(), completed([message_item("hi"), call_item("{}")]))
    call = ToolCall("call_1", "get", {}, "{}", item_id="fc_1")
    assert message.content == (TextBlock("hi", id="msg_1"), call)
    assert events[:5] == [
        MessageStart("resp_1", "gpt-x"),
        TextDelta(0, "hi"),
        ToolCallStart(1, "call_1", "get"),
        ToolCallDelta(1, "{}"),
        ToolCallEnd(1, call),
    ]


def test_when_the_counts_differ_items_pair_by_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trio_sse.providers"):
        _, message = run(
            created(),
            added(3, message_item() | {"id": "msg_b"}),
            text(3, "b"),
            completed([message_item("a") | {"id": "msg_a"}, message_item("b!") | {"id": "msg_b"}]),
        )
    assert message.content == (TextBlock("b!", id="msg_b"), TextBlock("a", id="msg_a"))
    assert "output items" in caplog.text


def test_a_call_that_changes_after_it_ended_takes_the_later_form() -> None:
    events, message = run(
        created(),
        added(0, call_item()),
        item_done(0, call_item('{"a": 1}')),
        completed([call_item('{"a": 2}', call_id="call_2")]),
    )
    assert message.tool_calls == (ToolCall("call_2", "get", {"a": 2}, '{"a": 2}', item_id="fc_1"),)
    assert sum(isinstance(e, ToolCallEnd) for e in events) == 1


# --- stop reasons and errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("details", "stop_reason"),
    [({"reason": "content_filter"}, "content_filter"), (None, "incomplete")],
)
def test_incomplete_stop_reason(details: dict[str, str] | None, stop_reason: str) -> None:
    body = response("incomplete", incomplete_details=details)
    events, message = run(created(), ev("incomplete", response=body))
    assert message.stop_reason == stop_reason
    assert events[-1] == MessageStop(stop_reason, message)


def test_response_done_is_a_terminal_event_too() -> None:
    body = response("completed", [message_item("a")])
    events, message = run(created(), ev("done", response=body))
    assert (message.text, message.stop_reason) == ("a", "completed")
    assert events[-1] == MessageStop("completed", message)


def test_failed_response_raises_with_the_partial_message_and_stays_spent() -> None:
    interpreter = openai_responses.Interpreter()
    feed_all(interpreter, created(), added(0, message_item()), text(0, "so far"))
    failed = response("failed", error={"code": "server_error", "message": "boom"})
    with pytest.raises(APIStreamError) as info:
        interpreter.feed(ev("failed", response=failed))
    error = info.value
    assert (error.error_type, error.error_message, error.provider) == (
        "server_error",
        "boom",
        "openai-responses",
    )
    assert error.partial.text == "so far"
    with pytest.raises(APIStreamError):
        interpreter.feed(text(0, "more"))
    with pytest.raises(APIStreamError):
        interpreter.finish()


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        (
            {"type": "error", "code": "rate_limit_exceeded", "message": "slow", "param": None},
            "rate_limit_exceeded",
        ),
        (
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "code": None, "message": "slow"},
            },
            "invalid_request_error",
        ),
        ({"type": "error", "message": "slow"}, ""),
        ({"error": {"code": "server_error", "message": "slow"}}, "server_error"),
    ],
)
def test_error_events_raise(payload: dict[str, Any], error_type: str) -> None:
    with pytest.raises(APIStreamError) as info:
        run(created(), sse(payload, "error"))
    assert (info.value.error_type, info.value.error_message) == (error_type, "slow")


def test_eof_without_the_terminal_event_is_incomplete() -> None:
    with pytest.raises(IncompleteStreamError) as info:
        run(created(), added(0, message_item()), text(0, "cut"))
    assert info.value.partial.text == "cut"
    assert info.value.partial.id == "resp_1"
    assert info.value.expected == "response.completed"


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (ev("output_text.delta", output_index=0, delta=3), "'delta' is not a string"),
        (ev("output_text.delta", output_index="0", delta="a"), "'output_index' is not an integer"),
        (ev("output_item.added", output_index=0), "'item' is not an object"),
        (ev("completed", response=[]), "'response' is not an object"),
        (arguments(0, "{"), "is a 'message', not a 'function_call'"),
        (sse("[1]", "response.created"), "expected a JSON object"),
    ],
)
def test_type_violations_are_malformed(event: ServerSentEvent, words: str) -> None:
    with pytest.raises(MalformedEventError) as info:
        run(created(), added(0, message_item()), event)
    assert words in str(info.value)


def test_unknown_events_and_fields_are_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="trio_sse.providers"):
        events, message = run(
            created(novel=1),
            ev("novel.thing", x=1),
            ev("novel.thing", x=2),
            added(0, message_item() | {"novel": True}),
            text(0, "a"),
            ev("output_text.annotation.added", output_index=0, annotation={}),
            completed([message_item("a")]),
        )
    assert message.text == "a"
    assert len(events) == 4
    assert caplog.text.count("'response.novel.thing'") == 1
    assert "annotation" not in caplog.text


def test_errors_pickle_and_copy_with_their_attributes() -> None:
    start = [created(), added(0, message_item()), text(0, "a")]
    assert_errors_pickle_and_copy(
        run,
        [*start, sse({"type": "error", "code": "c", "message": "m"})],
        start,
        [*start, sse("{oops", "x")],
        partial_text="a",
    )


# --- the recorded streams --------------------------------------------------------------------

# The one recording whose deltas contradict its own whole text (it was written by hand):
# the message follows the whole text, so the deltas do not add up to it.
CONTRADICTED = frozenset({"openai-shell-container.1"})


def recording(name: str) -> bytes:
    return read_recording("openai_responses", name)


def terminal_response(body: bytes) -> dict[str, Any]:
    """The first terminal event's ``response``, read straight from the recording."""
    for event in SSEDecoder().feed(body):
        data = json.loads(event.data)
        if data["type"] in ("response.completed", "response.incomplete"):
            return dict(data["response"])
    raise AssertionError("no terminal event")


def blocks_of(response: dict[str, Any]) -> tuple[ContentBlock, ...]:
    """The documented reading of a whole response's ``output``, item by item."""
    tools = response.get("tools") or []
    declared = {t.get("name") for t in tools if t.get("type") in ("custom", "function")}
    blocks: list[ContentBlock] = []
    for item in response["output"]:
        if item["type"] == "message":
            for part in item["content"]:
                refusal = part["type"] == "refusal"
                whole = part["refusal" if refusal else "text"]
                citations = tuple(part.get("annotations", ()))
                phase = item.get("phase")
                blocks.append(TextBlock(whole, refusal, None, citations, item["id"], phase))
        elif item["type"] == "reasoning":
            parts = [*item.get("content", []), *item["summary"]]
            thinking = "\n\n".join(p["text"] for p in parts if p["text"])
            summary = tuple(p["text"] for p in item["summary"])
            signature = item.get("encrypted_content")
            blocks.append(ThinkingBlock(thinking, signature, id=item["id"], summary=summary))
        elif item["type"] in ("function_call", "custom_tool_call"):
            raw = item["arguments" if item["type"] == "function_call" else "input"]
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {}
            executed = item["type"] == "custom_tool_call" and bool(tools)
            executed = executed and item["name"] not in declared
            args = parsed if isinstance(parsed, dict) else {}
            complete = item.get("status") != "incomplete"
            call = ToolCall(item["call_id"], item["name"], args, raw, executed, None, complete)
            blocks.append(replace(call, item_id=item["id"]))
        else:
            blocks.append(OtherBlock(item["type"], item))
    return tuple(blocks)


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_recording_is_the_same_whole_or_cut_anywhere(path: Path) -> None:
    whole = assert_same_cut_anywhere(openai_responses.Interpreter, path.read_bytes())
    assert not isinstance(whole, str), whole


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_recording_message_agrees_with_the_terminal_response(path: Path) -> None:
    body = path.read_bytes()
    _, message = interpret(openai_responses.Interpreter(), [body])
    final = terminal_response(body)
    assert message.content == blocks_of(final)
    assert (message.id, message.model, message.stop_reason) == (
        final["id"],
        final["model"],
        final["status"],
    )
    usage = final["usage"]
    assert message.usage is not None
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        usage["input_tokens"],
        usage["output_tokens"],
    )
    assert message.usage.reasoning_tokens == usage["output_tokens_details"]["reasoning_tokens"]


@pytest.mark.parametrize("path", stream_params("openai_responses", leave_out=CONTRADICTED))
def test_recording_events_agree_with_the_message(path: Path) -> None:
    events, message = interpret(openai_responses.Interpreter(), [path.read_bytes()])
    assert_events_agree(events, message)


def test_contradicted_recording_keeps_the_whole_text(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trio_sse.providers"):
        events, message = interpret(
            openai_responses.Interpreter(), [recording("openai-shell-container.1")]
        )
    texts = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert texts == "The command ran successfully."
    assert message.text.startswith("The command ran successfully in the container.")
    assert "disagrees" in caplog.text
    assert [b.type for b in message.content if isinstance(b, OtherBlock)] == [
        "shell_call",
        "shell_call_output",
    ]


def test_copilot_recording_with_rotating_ids() -> None:
    events, message = interpret(
        openai_responses.Interpreter(), [recording("github-copilot-id-rotation.1")]
    )
    assert events[0] == MessageStart("capture-id-1", "gpt-5.3-codex")
    assert message == Message(
        id="capture-id-69",
        model="gpt-5.3-codex",
        content=(
            ThinkingBlock(
                "**Counting character occurrences**",
                id="capture-id-70",
                summary=("**Counting character occurrences**",),
            ),
            TextBlock(
                "There are **3** letter **\u201cr\u201d**s in **\u201cstrawberry.\u201d**\n\n"
                "Breakdown: **s t r a w b e r r y**  \n"
                "You can see **r** at positions **3, 8, and 9**.",
                id="capture-id-71",
                phase="final_answer",
            ),
        ),
        stop_reason="completed",
        usage=Usage(19, 105, 0, 0, 44, 19),
        provider="openai-responses",
    )


def test_recording_with_several_responses_gives_the_first() -> None:
    _, message = interpret(
        openai_responses.Interpreter(), [recording("openai-reasoning-encrypted-content.1")]
    )
    assert message.id == "resp_01830d662ab3856501693c321345c88190b0de00f3b9975691"
    thinking, call = message.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking.startswith("**Calculating step-by-step using calculator**\n\n")
    assert thinking.signature is not None
    assert thinking.signature.startswith("gAAAAABpPDIVYBwu")  # the terminal one
    assert call == ToolCall(
        "call_AB6AaRZ1FYZB2RwS6A5vbdqn",
        "calculator",
        {"a": 12, "b": 7, "op": "add"},
        '{"a":12,"b":7,"op":"add"}',
        item_id="fc_01830d662ab3856501693c32151234819091cfca267e98cc5f",
    )
    assert message.usage == Usage(134, 28, 0, None, 0, 134)


def test_custom_tool_recordings() -> None:
    _, message = interpret(openai_responses.Interpreter(), [recording("openai-custom-tool.1")])
    assert message.content == (
        ToolCall(
            "call_custom_sql_001",
            "write_sql",
            {},
            "SELECT * FROM users WHERE age > 25",
            item_id="ct_abc123def456",
        ),
    )
    assert (message.stop_reason, message.usage) == ("completed", Usage(50, 20, 0, None, 0, 50))
    _, message = interpret(openai_responses.Interpreter(), [recording("xai-x-search-tool")])
    assert [(c.name, c.arguments, c.provider_executed) for c in message.tool_calls] == [
        (
            "x_keyword_search",
            {"query": "from:xai filter:media", "limit": 20, "mode": "Latest"},
            True,
        ),
        (
            "view_x_video",
            {
                "video_url": "https://video.twimg.com/amplify_video/1991284765027364866"
                "/vid/avc1/468x270/kRkbodV96jk4PmbG.mp4"
            },
            True,
        ),
    ]
    assert [b.type for b in message.content if isinstance(b, OtherBlock)] == ["web_search_call"] * 4
    assert message.text.startswith("### Latest Videos and Images from xAI on X")
    assert message.usage == Usage(27236, 3077, 4585, None, 1091, 27236)


def test_function_call_recordings() -> None:
    for name, call_id in (
        ("openai-client-tool-search.2", "call_Q7pq6EfVGRnauPLWSSYBGJ1l"),
        ("openai-tool-search.1", "call_pddfxhfOx4gY56zn4vIIEbFp"),
    ):
        _, message = interpret(openai_responses.Interpreter(), [recording(name)])
        raw = '{"location":"San Francisco, CA","unit":"fahrenheit"}'
        (call,) = message.tool_calls
        assert call == ToolCall(call_id, "get_weather", json.loads(raw), raw, item_id=call.item_id)
        assert call.item_id is not None
        assert call.item_id.startswith("fc_")


def test_built_in_tool_recordings() -> None:
    _, message = interpret(
        openai_responses.Interpreter(), [recording("openai-client-tool-search.1")]
    )
    (block,) = message.content
    assert isinstance(block, OtherBlock)
    assert block.data["call_id"] == "call_RWTIIVfxsJW9fecsg6fy23Dy"  # done's, not added's
    _, message = interpret(
        openai_responses.Interpreter(), [recording("openai-mcp-tool-approval.4")]
    )
    assert [type(b).__name__ for b in message.content] == ["OtherBlock"] * 2 + ["TextBlock"]
    assert message.text == (
        "Done \u2014 here\u2019s your shortened link:\n\nhttps://zip1.io/UDKvlw\n\nDetails:\n"
        "- Original URL: https://ai-sdk.dev/\n- Max clicks: 100\n"
        "- Stats: https://zip1.io/stats/UDKvlw\n\n"
        "Would you like a custom alias or password protection added?"
    )
    assert message.usage == Usage(779, 69, 0, None, 0, 779)


def test_abridged_recording_gets_the_rest_of_its_text_as_deltas() -> None:
    events, message = interpret(openai_responses.Interpreter(), [recording("openai-phase.1")])
    first, second = message.content
    assert isinstance(first, TextBlock)
    assert isinstance(second, TextBlock)
    assert first.text.startswith("Got it \u2014 I\u2019ll quickly check")
    assert (len(first.text), len(second.text)) == (153, 1485)
    assert events[1:4] == [TextDelta(0, "Got"), TextDelta(0, " it"), TextDelta(0, first.text[6:])]
