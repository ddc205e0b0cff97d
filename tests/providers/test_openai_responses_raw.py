"""The Responses interpreter loses nothing the next turn needs: every block's ``raw``, the
ids, phases, reasoning parts, call fields and ``complete``; and it reads in linear time."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from trio_sse import SSEDecoder
from trio_sse.providers import (
    IncompleteStreamError,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    ToolCall,
    ToolCallEnd,
    openai_responses,
)

from .feeding import interpret, read_recording, stream_params
from .responses_events import (
    USAGE,
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
    text,
)

# --- the recordings: every block's raw is its item as the terminal response states it ---------


def terminal_response(body: bytes) -> dict[str, Any]:
    """The first terminal event's ``response``, read straight from the recording."""
    for event in SSEDecoder().feed(body):
        data = json.loads(event.data)
        if data["type"] in ("response.completed", "response.incomplete"):
            return dict(data["response"])
    raise AssertionError("no terminal event")


def raws_of(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documented ``raw`` of each block an ``output`` gives: a message item once per
    part, holding that part; any other item whole."""
    raws = []
    for item in output:
        if item["type"] == "message":
            raws += [item | {"content": [part]} for part in item["content"]]
        else:
            raws.append(item)
    return raws


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_every_block_raw_is_its_item_as_finally_stated(path: Path) -> None:
    body = path.read_bytes()
    _, message = interpret(openai_responses.Interpreter(), [body])
    final = terminal_response(body)
    assert [dict(block.raw) for block in message.content] == raws_of(final["output"])
    assert message.raw == {key: value for key, value in final.items() if key != "output"}
    assert message.usage is not None
    assert message.usage.raw == final["usage"]
    assert message.usage.total_input_tokens == final["usage"]["input_tokens"]


def test_phase_recording_keeps_each_message_item_id_and_phase() -> None:
    body = read_recording("openai_responses", "openai-phase.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    texts = [block for block in message.content if isinstance(block, TextBlock)]
    assert [(block.id, block.phase) for block in texts] == [
        ("msg_0a63f40a2632b74300699f8819a5e08196ac270722d369af5a", "commentary"),
        ("msg_0a63f40a2632b74300699f881bfbc88196aec38f30c3dd24b0", "final_answer"),
    ]


def test_programmatic_and_namespaced_calls_keep_caller_and_namespace() -> None:
    body = read_recording("openai_responses", "programmatic-tool-calling.1")
    (call,) = interpret(openai_responses.Interpreter(), [body])[1].tool_calls
    assert call.raw["caller"]["type"] == "program"
    assert call.raw["status"] == "in_progress"  # as recorded: the program is still running
    assert call.complete
    body = read_recording("openai_responses", "openai-tool-search.1")
    (call,) = interpret(openai_responses.Interpreter(), [body])[1].tool_calls
    assert "namespace" in call.raw


def test_reasoning_items_without_a_summary_carry_their_id() -> None:
    body = read_recording("openai_responses", "openai-code-interpreter-tool.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    thinking = [block for block in message.content if isinstance(block, ThinkingBlock)]
    assert len(thinking) == 4
    for block in thinking:
        assert (block.thinking, block.summary) == ("", ())
        assert block.id is not None
        assert block.id.startswith("rs_")
        assert block.raw == {"id": block.id, "type": "reasoning", "summary": []}


# --- by hand: each loss the audit found --------------------------------------------------------


def test_a_reasoning_item_with_no_summary_keeps_its_id_and_encrypted_content() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"}
    _, message = run(created(), added(0, item | {"encrypted_content": None}), completed([item]))
    (block,) = message.content
    assert block == ThinkingBlock("", signature="enc", id="rs_1")
    assert block.raw == item


def test_reasoning_parts_stay_parts_and_raw_has_them_as_streamed() -> None:
    extra = {"type": "summary_text", "text": "", "novel": 1}
    opened = {"type": "reasoning", "id": "rs_1", "summary": [extra], "status": "in_progress"}
    interpreter = openai_responses.Interpreter()
    for event in (
        created(),
        added(0, opened),
        ev("reasoning_summary_text.delta", output_index=0, summary_index=0, delta="A"),
        ev("reasoning_summary_text.delta", output_index=0, summary_index=0, delta="b"),
        ev("reasoning_summary_text.delta", output_index=0, summary_index=1, delta="C"),
        ev("reasoning_text.delta", output_index=0, content_index=0, delta="raw"),
    ):
        interpreter.feed(event)
    (block,) = interpreter.message.content  # a partial message: the deltas so far
    assert isinstance(block, ThinkingBlock)
    assert (block.thinking, block.summary, block.id) == ("Ab\n\nC\n\nraw", ("Ab", "C"), "rs_1")
    assert block.raw == {
        "type": "reasoning",
        "id": "rs_1",
        "status": "in_progress",
        "summary": [extra | {"text": "Ab"}, {"type": "summary_text", "text": "C"}],
        "content": [{"type": "reasoning_text", "text": "raw"}],
    }
    with pytest.raises(IncompleteStreamError) as info:
        interpreter.finish()
    assert info.value.partial.content[0].raw == block.raw


def test_a_message_item_keeps_its_id_phase_and_fields_on_each_part() -> None:
    item = message_item("one", "two") | {"phase": "commentary", "status": "completed"}
    item["content"][1]["annotations"] = [{"type": "url_citation", "url": "u"}]
    _, message = run(created(), added(0, message_item()), text(0, "o"), completed([item]))
    first, second = message.content
    assert (first, second) == (
        TextBlock("one", id="msg_1", phase="commentary"),
        TextBlock(
            "two", id="msg_1", phase="commentary", citations=({"type": "url_citation", "url": "u"},)
        ),
    )
    assert first.raw == item | {"content": [item["content"][0]]}
    assert second.raw == item | {"content": [item["content"][1]]}


def test_a_function_call_keeps_its_item_id_namespace_caller_and_status() -> None:
    fields: dict[str, Any] = {
        "namespace": "crm",
        "caller": {"type": "program", "caller_id": "p1"},
        "novel": [1],
    }
    whole = call_item('{"a": 1}', status="completed", **fields)
    events, message = run(
        created(),
        added(0, call_item(status="in_progress", **fields)),
        arguments(0, '{"a": '),
        arguments(0, "1}"),
        ev("function_call_arguments.done", output_index=0, arguments='{"a": 1}'),
        item_done(0, whole),
        completed([whole]),
    )
    (call,) = message.tool_calls
    assert call == ToolCall("call_1", "get", {"a": 1}, '{"a": 1}', item_id="fc_1")
    assert call.raw == whole
    (end,) = [event for event in events if isinstance(event, ToolCallEnd)]
    assert end.call == call
    assert end.call.raw["arguments"] == '{"a": 1}'


def test_a_call_cut_off_by_max_output_tokens_is_not_complete() -> None:
    cut = call_item('{"city": "Par', status="incomplete")
    incomplete = response("incomplete", [cut], incomplete_details={"reason": "max_output_tokens"})
    interpreter = openai_responses.Interpreter()
    events = []
    for event in (created(), added(0, call_item()), arguments(0, '{"city": "Par')):
        events += interpreter.feed(event)
    assert interpreter.message.tool_calls[0].complete is False  # streaming, not finished
    events += interpreter.feed(ev("incomplete", response=incomplete))
    (call,) = interpreter.finish().tool_calls
    assert (call.complete, call.raw_arguments, call.arguments) == (False, '{"city": "Par', {})
    assert [event.call for event in events if isinstance(event, ToolCallEnd)] == [call]


@pytest.mark.parametrize(
    ("status", "raw", "complete"),
    [
        ("completed", '{"a": 1}', True),
        ("completed", "", True),  # no arguments: {}
        ("completed", '{"a": ', False),  # finished, but does not parse
        ("completed", "[1]", False),  # not an object
        ("incomplete", '{"a": 1}', False),
    ],
)
def test_complete_needs_a_finished_call_with_object_arguments(
    status: str, raw: str, complete: bool
) -> None:
    whole = call_item(raw, status=status)
    _, message = run(created(), added(0, call_item()), item_done(0, whole), completed([whole]))
    assert message.tool_calls[0].complete is complete


def test_a_call_its_own_done_never_ended_is_complete_only_in_a_completed_response() -> None:
    for status, complete in (("completed", True), ("incomplete", False)):
        body = response(status, [call_item("{}")])
        _, message = run(created(), added(0, call_item()), ev(status, response=body))
        assert message.tool_calls[0].complete is complete


def test_a_custom_tool_call_keeps_its_free_form_input_in_raw() -> None:
    item = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c", "name": "sql", "input": ""}
    _, message = run(
        created(),
        added(0, item),
        ev("custom_tool_call_input.delta", output_index=0, delta="SELECT "),
        ev("custom_tool_call_input.done", output_index=0, input="SELECT 1"),
        completed([item | {"input": "SELECT 1", "status": "completed"}]),
    )
    (call,) = message.tool_calls
    assert (call.item_id, call.complete) == ("ctc_1", True)
    assert call.raw == item | {"input": "SELECT 1", "status": "completed"}


def test_unknown_items_parts_and_fields_are_kept_whole() -> None:
    novel_item = {"type": "hologram_call", "id": "h1", "frames": [{"x": 1}]}
    novel_part = {"type": "output_audio", "data": "AAA", "transcript": "hi"}
    item = message_item("a") | {"novel": {"deep": True}}
    item["content"] = [item["content"][0] | {"novel": 1}, novel_part]
    _, message = run(created(), added(0, novel_item), completed([novel_item, item]))
    assert message.content == (
        OtherBlock("hologram_call", novel_item),
        TextBlock("a", id="msg_1"),
        OtherBlock("output_audio", item | {"content": [novel_part]}),
    )
    assert message.content[1].raw == item | {"content": [item["content"][0]]}
    assert openai_responses.assistant_turn(message) == [novel_item, item]  # back unchanged


def test_a_part_form_that_does_not_say_its_type_leaves_the_deltas_theirs() -> None:
    interpreter = openai_responses.Interpreter()
    for event in (
        created(),
        added(0, message_item()),
        ev("content_part.added", output_index=0, content_index=0, part={"text": ""}),
        text(0, "kept"),
    ):
        interpreter.feed(event)
    assert interpreter.message.content == (TextBlock("kept", id="msg_1"),)


def test_message_raw_is_the_response_without_its_output() -> None:
    interpreter = openai_responses.Interpreter()
    interpreter.feed(created(novel=1))
    opened = dict(response(novel=1))
    del opened["output"]
    assert interpreter.message.raw == opened
    _, message = run(created(), completed([message_item("a")], store=False))
    final = dict(response("completed", store=False, usage=USAGE))
    del final["output"]
    assert message.raw == final


# --- linear time ------------------------------------------------------------------------------

DELTAS = [
    ("output_text.delta", message_item(), {"content_index": 0}),
    ("refusal.delta", message_item(), {"content_index": 0}),
    ("function_call_arguments.delta", call_item(), {}),
    (
        "custom_tool_call_input.delta",
        {"type": "custom_tool_call", "call_id": "c", "name": "n", "input": ""},
        {},
    ),
    (
        "reasoning_summary_text.delta",
        {"type": "reasoning", "id": "r", "summary": []},
        {"summary_index": 0},
    ),
    ("reasoning_text.delta", {"type": "reasoning", "id": "r", "summary": []}, {"content_index": 0}),
]


def peak_bytes_per_delta(kind: str, item: dict[str, Any], where: dict[str, Any], size: int) -> int:
    """The most memory one 32-character delta takes, once the block holds ``size`` characters.

    A delta that copies the block (``str +=``) allocates the whole block again; one that
    costs the same whatever the block holds allocates only the event's own objects.
    """
    interpreter = openai_responses.Interpreter()
    interpreter.feed(created())
    interpreter.feed(added(0, item))
    interpreter.feed(ev(kind, output_index=0, delta="x" * size, **where))
    deltas = [ev(kind, output_index=0, delta="y" * 32, **where) for _ in range(64)]
    peak = 0
    tracemalloc.start()
    try:
        for delta in deltas:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            interpreter.feed(delta)
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()
    assert interpreter.message.content[0].raw  # the block holds all of it
    return peak


@pytest.mark.parametrize(("kind", "item", "where"), DELTAS, ids=[d[0] for d in DELTAS])
def test_the_cost_of_a_delta_stays_flat_as_the_block_grows(
    kind: str, item: dict[str, Any], where: dict[str, Any]
) -> None:
    small = peak_bytes_per_delta(kind, item, where, 1_000)
    large = peak_bytes_per_delta(kind, item, where, 4_000_000)
    assert large < 64_000  # nowhere near the 4 MB a copy of the block would take
    assert large < small + 16_000
