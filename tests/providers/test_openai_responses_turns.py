"""The Responses write side: the assistant turn, tool results and tool declarations."""

from __future__ import annotations

import doctest
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_sse import ServerSentEvent
from trio_sse.providers import (
    Message,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCall,
    ToolOutput,
    openai_responses,
)
from trio_sse.providers.openai_responses import (
    assistant_turn,
    tool_declarations,
    tool_results_turn,
)

from .feeding import interpret, read_recording, run_all, run_docs_page, stream_params
from .responses_events import added, call_item, completed, created, ev, item_done, message_item
from .test_openai_responses_raw import terminal_response

# --- the assistant turn: the recordings ------------------------------------------------------


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_assistant_turn_is_the_terminal_output(path: Path) -> None:
    body = path.read_bytes()
    _, message = interpret(openai_responses.Interpreter(), [body])
    assert assistant_turn(message) == terminal_response(body)["output"]


def test_assistant_turn_keeps_what_the_audit_found_lost() -> None:
    body = read_recording("openai_responses", "github-copilot-id-rotation.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    reasoning, answer = assistant_turn(message)
    assert set(reasoning) == {"type", "id", "summary", "content", "encrypted_content"}
    assert reasoning["summary"] == [
        {"type": "summary_text", "text": "**Counting character occurrences**"}
    ]
    assert (answer["id"], answer["phase"]) == ("capture-id-71", "final_answer")
    body = read_recording("openai_responses", "programmatic-tool-calling.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    *_, call = assistant_turn(message)
    assert set(call) == {"type", "id", "call_id", "name", "arguments", "caller", "status"}


# --- the assistant turn: by hand --------------------------------------------------------------


def reply(*blocks: Any) -> Message:
    return Message(content=blocks, provider="openai-responses")


def test_parts_of_one_message_item_go_back_as_that_item() -> None:
    item = message_item("one", "two", refusal="no") | {"phase": "final_answer", "x": 1}
    other = message_item("three") | {"id": "msg_2"}
    _, message = run_all(
        openai_responses.Interpreter(), [created(), completed([item, other, item | {"id": "m3"}])]
    )
    assert len(message.content) == 7
    assert assistant_turn(message) == [item, other, item | {"id": "m3"}]


def test_blocks_without_raw_are_built_from_their_neutral_fields() -> None:
    citation = {"type": "url_citation", "url": "u", "title": "t", "start_index": 0, "end_index": 1}
    turn = assistant_turn(
        Message(
            content=(
                TextBlock("plain", phase="commentary"),
                TextBlock("a", id="msg_1", citations=(citation,)),
                TextBlock("b", refusal=True, id="msg_1"),
                TextBlock("no", refusal=True),
                ThinkingBlock("why", signature="enc", id="rs_1"),
                ThinkingBlock("", id="rs_2", summary=("s1", "s2")),
                ToolCall("call_1", "get", {"a": 1}, "", item_id="fc_1"),
                ToolCall("call_2", "get", {}, '{"b": 2}'),
                OtherBlock("web_search_call", {"type": "web_search_call", "id": "ws"}),
            )
        )
    )
    assert turn == [
        {"type": "message", "role": "assistant", "content": "plain", "phase": "commentary"},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": "a", "annotations": [citation]},
                {"type": "refusal", "refusal": "b"},
            ],
        },
        {"type": "message", "role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "why"}],
            "encrypted_content": "enc",
        },
        {
            "type": "reasoning",
            "id": "rs_2",
            "summary": [
                {"type": "summary_text", "text": "s1"},
                {"type": "summary_text", "text": "s2"},
            ],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get",
            "arguments": '{"a": 1}',
            "id": "fc_1",
        },
        {"type": "function_call", "call_id": "call_2", "name": "get", "arguments": '{"b": 2}'},
        {"type": "web_search_call", "id": "ws"},
    ]


def test_a_thinking_block_without_an_id_cannot_go_back() -> None:
    with pytest.raises(ValueError, match="needs its id"):
        assistant_turn(Message(content=(ThinkingBlock("hmm"),)))


@pytest.mark.parametrize("provider", ["anthropic", "openai-chat", "gemini"])
def test_another_providers_message_is_refused(provider: str) -> None:
    with pytest.raises(ValueError, match=f"a '{provider}' message cannot be"):
        assistant_turn(Message(content=(TextBlock("hi"),), provider=provider))


@pytest.mark.parametrize(
    "block",
    [
        TextBlock("hi", raw={"type": "text", "text": "hi"}),  # Anthropic's
        ThinkingBlock("hm", "sig", raw={"type": "thinking", "thinking": "hm", "signature": "s"}),
        ToolCall("t", "f", {}, "{}", raw={"type": "tool_use", "id": "t", "name": "f"}),
        TextBlock("hi", raw={"text": "hi", "thoughtSignature": "s"}),  # Gemini's part
    ],
)
def test_a_hand_built_message_holding_another_providers_block_is_refused(block: Any) -> None:
    with pytest.raises(ValueError, match="another provider's"):
        assistant_turn(Message(content=(block,)))


def test_the_turn_is_fresh_plain_json() -> None:
    body = read_recording("openai_responses", "openai-reasoning-encrypted-content.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    turn = assistant_turn(message)
    assert json.loads(json.dumps(turn)) == turn
    turn[0]["summary"].clear()
    turn[1]["caller"] = "x"
    assert assistant_turn(message) != turn
    assert message.content[0].raw["summary"]


def test_a_compatible_servers_reasoning_item_without_summary_gets_an_empty_one() -> None:
    item = {"type": "reasoning", "id": "rs_1"}
    _, message = run_all(openai_responses.Interpreter(), [created(), completed([item])])
    assert assistant_turn(message) == [{"type": "reasoning", "id": "rs_1", "summary": []}]


# --- tool results -------------------------------------------------------------------------------


def test_tool_results_are_function_call_outputs_in_order() -> None:
    calls = [ToolCall(f"call_{n}", "f", {}, "{}", item_id=f"fc_{n}") for n in range(3)]
    outputs: list[ToolOutput] = ["sunny", {"temp": 21, "unit": "°C"}, KeyError("city")]
    assert tool_results_turn(zip(calls, outputs, strict=True)) == [
        {"type": "function_call_output", "call_id": "call_0", "output": "sunny"},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temp":21,"unit":"°C"}'},
        {"type": "function_call_output", "call_id": "call_2", "output": "KeyError: 'city'"},
    ]


def test_a_custom_tool_is_answered_with_a_custom_tool_call_output() -> None:
    body = read_recording("openai_responses", "openai-custom-tool.1")
    _, message = interpret(openai_responses.Interpreter(), [body])
    (call,) = message.tool_calls
    assert tool_results_turn([(call, "3 rows")]) == [
        {"type": "custom_tool_call_output", "call_id": "call_custom_sql_001", "output": "3 rows"}
    ]


def test_a_result_names_the_calls_namespace_and_caller() -> None:
    caller = {"type": "program", "caller_id": "p"}
    item = call_item("{}", namespace="crm", caller=caller)
    _, message = run_all(openai_responses.Interpreter(), [created(), completed([item])])
    assert tool_results_turn([(message.tool_calls[0], "ok")]) == [
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": "ok",
            "namespace": "crm",
            "caller": caller,
        }
    ]


def test_a_custom_tool_call_output_carries_no_namespace() -> None:
    """``namespace`` is a ``function_call_output`` field only: the API refuses it on a
    ``custom_tool_call_output`` (the SDK's param type has no such key)."""
    item: dict[str, Any] = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_1"}
    item |= {"name": "sql", "namespace": "db", "input": "SELECT 1", "caller": {"type": "direct"}}
    _, message = run_all(openai_responses.Interpreter(), [created(), completed([item])])
    assert tool_results_turn([(message.tool_calls[0], "1 row")]) == [
        {
            "type": "custom_tool_call_output",
            "call_id": "call_1",
            "output": "1 row",
            "caller": {"type": "direct"},
        }
    ]


def test_a_message_item_without_parts_goes_back_whole() -> None:
    reasoning: dict[str, Any] = {"type": "reasoning", "id": "rs_1", "summary": []}
    reasoning["encrypted_content"] = "e"
    empty: dict[str, Any] = {"type": "message", "id": "msg_1", "role": "assistant"}
    empty["status"] = "completed"
    empty |= {"content": []}
    events = [created()]
    for index, item in enumerate([reasoning, empty]):
        events += [added(index, item), item_done(index, item)]
    _, message = run_all(openai_responses.Interpreter(), [*events, completed([reasoning, empty])])
    assert message.content[1] == OtherBlock("message", empty)
    assert openai_responses.assistant_turn(message) == [reasoning, empty]


def test_a_message_item_whose_parts_come_later_is_no_other_block() -> None:
    opened = {"type": "message", "id": "msg_1", "role": "assistant", "content": []}
    whole = opened | {"content": [{"type": "output_text", "text": "Hi", "annotations": []}]}
    _, message = run_all(
        openai_responses.Interpreter(),
        [created(), added(0, opened), item_done(0, whole), completed([whole])],
    )
    assert [type(block) for block in message.content] == [TextBlock]
    assert openai_responses.assistant_turn(message) == [whole]


def test_a_provider_executed_or_foreign_call_cannot_be_answered() -> None:
    executed = ToolCall("xs_1", "x_search", {}, "{}", provider_executed=True)
    with pytest.raises(ValueError, match="ran on the provider's side"):
        tool_results_turn([(executed, "x")])
    foreign = ToolCall("t", "f", {}, "{}", raw={"type": "tool_use"})
    with pytest.raises(ValueError, match="another provider's"):
        tool_results_turn([(foreign, "x")])


# --- tool declarations ----------------------------------------------------------------------------


def test_tool_declarations_are_non_strict_function_tools() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ("city",)}
    assert tool_declarations([Tool("weather", "The weather.", schema)]) == [
        {
            "type": "function",
            "name": "weather",
            "description": "The weather.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
            "strict": False,
        }
    ]


# --- property: no field of an item is lost between the stream and the turn ----------------------

KNOWN = {"type", "id", "content", "summary", "text", "refusal", "arguments", "input", "status"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
extras = st.dictionaries(
    st.text(min_size=1, max_size=6).filter(lambda key: key not in KNOWN), json_values, max_size=3
)
texts = st.text(max_size=40)


@st.composite
def parts(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    key = "refusal" if kind == "refusal" else "text"
    return {**draw(extras), "type": kind, key: draw(texts)}


@st.composite
def items(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["message", "reasoning", "function_call", "custom", "novel"]))
    base = {**draw(extras), "id": f"item_{index}", "status": "completed"}
    if kind == "message":
        kinds = st.sampled_from(["output_text", "refusal"])
        content = draw(st.lists(kinds.flatmap(parts), min_size=1, max_size=3))
        return base | {"type": "message", "role": "assistant", "content": content}
    if kind == "reasoning":
        summary = draw(st.lists(parts("summary_text"), max_size=3))
        content = draw(st.lists(parts("reasoning_text"), max_size=2))
        return base | {"type": "reasoning", "summary": summary, "content": content}
    if kind == "function_call":
        arguments = json.dumps(draw(st.dictionaries(st.text(max_size=3), json_values, max_size=3)))
        return base | {
            "type": "function_call",
            "call_id": f"c{index}",
            "name": "f",
            "arguments": arguments,
        }
    if kind == "custom":
        return base | {
            "type": "custom_tool_call",
            "call_id": f"c{index}",
            "name": "g",
            "input": draw(texts),
        }
    return base | {"type": "hologram_call", "frames": draw(json_values)}


def cut(text: str, cuts: list[int]) -> list[str]:
    """``text`` in pieces at ``cuts`` (positions, taken modulo its length)."""
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def stream_of(item: dict[str, Any], oi: int, cuts: list[int]) -> list[ServerSentEvent]:
    """The events a Responses server sends for ``item`` at ``oi``: opened empty, filled by
    deltas cut at ``cuts``, stated whole by its ``.done`` events."""
    where = {"output_index": oi, "item_id": item["id"]}
    opened = dict(item) | {"status": "in_progress"}
    events = []
    if item["type"] == "message":
        events.append(added(oi, opened | {"content": []}))
        for ci, part in enumerate(item["content"]):
            key = "refusal" if part["type"] == "refusal" else "text"
            kind = "refusal" if key == "refusal" else "output_text"
            empty = part | {key: ""}
            events.append(ev("content_part.added", **where, content_index=ci, part=empty))
            for piece in cut(part[key], cuts):
                events.append(ev(f"{kind}.delta", **where, content_index=ci, delta=piece))
            events.append(ev(f"{kind}.done", **where, content_index=ci, **{key: part[key]}))
            events.append(ev("content_part.done", **where, content_index=ci, part=part))
    elif item["type"] == "reasoning":
        events.append(added(oi, opened | {"summary": [], "content": []}))
        for key, kind in (("summary", "reasoning_summary_text"), ("content", "reasoning_text")):
            for index, part in enumerate(item[key]):
                at = {f"{key}_index": index}
                for piece in cut(part["text"], cuts):
                    events.append(ev(f"{kind}.delta", **where, **at, delta=piece))
    elif item["type"] in ("function_call", "custom_tool_call"):
        key, kind = (
            ("arguments", "function_call_arguments")
            if item["type"] == "function_call"
            else ("input", "custom_tool_call_input")
        )
        events.append(added(oi, opened | {key: ""}))
        for piece in cut(item[key], cuts):
            events.append(ev(f"{kind}.delta", **where, delta=piece))
        events.append(ev(f"{kind}.done", **where, **{key: item[key]}))
    else:
        events.append(added(oi, opened))
    events.append(item_done(oi, item))
    return events


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10), max_size=4).flatmap(
        lambda sizes: st.tuples(*(items(n) for n in range(len(sizes))))
    ),
    st.lists(st.integers(0, 60), max_size=6),
    st.booleans(),
)
def test_no_field_is_lost_between_the_stream_and_the_turn(
    output: tuple[dict[str, Any], ...], cuts: list[int], terminal_repeats: bool
) -> None:
    events = [created()]
    for oi, item in enumerate(output):
        events += stream_of(item, oi, cuts)
    events.append(completed(list(output) if terminal_repeats else []))
    _, message = run_all(openai_responses.Interpreter(), events)
    assert assistant_turn(message) == list(output)
    assert assistant_turn(replace(message, provider=None)) == list(output)


@pytest.mark.parametrize("function", [assistant_turn, tool_results_turn, tool_declarations])
def test_the_docstring_examples_run(function: Any) -> None:
    names = {"Message": Message, "TextBlock": TextBlock, "ToolCall": ToolCall, "Tool": Tool}
    (test,) = doctest.DocTestFinder().find(function, globs=names | {function.__name__: function})
    assert test.examples
    result = doctest.DocTestRunner().run(test)
    assert result.failed == 0


# --- the user's page ---------------------------------------------------------------------------


def test_the_pages_tool_loop_runs_as_written() -> None:
    result = run_docs_page("openai_responses")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # nothing logged: the stand-in streams as a server does
    assert result.stdout.splitlines() == [
        "2 + 3 = 5",
        "['message', 'reasoning', 'function_call', 'function_call_output'] gAAA {\"sum\":5}",
    ]
