"""The Chat Completions write side: the assistant turn, tool results, tool declarations."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from types import MappingProxyType
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
    openai_chat,
)

from .feeding import final_message, read_recording
from .test_openai_chat import DONE, choice, chunk, finish, run, say, tool, tools


def assistant_turn(message: Message, *, include_reasoning: bool = True) -> dict[str, Any]:
    """The one assistant message of the turn."""
    (turn,) = openai_chat.assistant_turn(message, include_reasoning=include_reasoning)
    return turn


# --- the assistant turn, from a stream ------------------------------------------------------


def test_text_turn() -> None:
    _, message = run(chunk(choice(role="assistant", content="", refusal=None)), say("Hi"), DONE)
    assert assistant_turn(message) == {"role": "assistant", "content": "Hi", "refusal": None}


def test_deepseek_tool_turn_sends_the_reasoning_back() -> None:
    body = read_recording("openai_chat", "deepseek-tool-call")
    message = final_message(openai_chat.Interpreter, body)
    turn = assistant_turn(message)
    assert turn == {
        "role": "assistant",
        "content": "",
        "reasoning_content": message.thinking,
        "tool_calls": [
            {
                "id": "call_00_ioIn7yN9p1ZOMNpDLwd4MgAF",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"location": "San Francisco"}'},
            }
        ],
    }
    assert "reasoning_content" not in assistant_turn(message, include_reasoning=False)


def test_groq_turn_without_its_reasoning() -> None:
    body = read_recording("openai_chat", "groq-reasoning")
    message = final_message(openai_chat.Interpreter, body)
    assert assistant_turn(message)["reasoning"] == message.thinking
    assert assistant_turn(message, include_reasoning=False) == {
        "role": "assistant",
        "content": message.text,
    }


def test_gemini_thought_signature_goes_back_with_its_call() -> None:
    signature = {"google": {"thought_signature": "c2ln"}}
    _, message = run(
        tools(tool(0, "{}", id="f1", type="function", name="w") | {"extra_content": signature}),
        tools(tool(1, "{}", id="f2", type="function", name="w")),
        finish("tool_calls"),
        DONE,
    )
    first, second = assistant_turn(message)["tool_calls"]
    assert first["extra_content"] == signature
    assert "extra_content" not in second


def test_openrouter_reasoning_details_go_back_in_order() -> None:
    detail = {"type": "reasoning.text", "text": "Th", "format": "f", "index": 0}
    encrypted = {"type": "reasoning.encrypted", "data": "e", "index": 1}
    _, message = run(
        chunk(choice(reasoning="Th", reasoning_details=[detail])),
        say("Hi"),
        chunk(choice(reasoning="!", reasoning_details=[{"text": "!", "index": 0}, encrypted])),
        tools(tool(0, "{}", id="c", type="function", name="f")),
        finish("tool_calls"),
        DONE,
    )
    assert assistant_turn(message) == {
        "role": "assistant",
        "reasoning": "Th!",
        "reasoning_details": [detail | {"text": "Th!"}, encrypted],
        "content": "Hi",
        "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    turn = assistant_turn(message, include_reasoning=False)
    assert "reasoning" not in turn
    assert turn["reasoning_details"] == [detail | {"text": "Th!"}, encrypted]


def test_custom_and_unknown_tool_calls_come_back_unchanged() -> None:
    custom = {"id": "c1", "type": "custom", "custom": {"name": "grep", "input": "a b"}}
    unknown = {"id": "m1", "type": "mcp", "mcp": {"server": "s"}, "status": "done"}
    _, message = run(
        chunk(choice(tool_calls=[{"index": 0} | custom, {"index": 1} | unknown])),
        finish("tool_calls"),
        DONE,
    )
    assert assistant_turn(message)["tool_calls"] == [custom, unknown]


def test_the_legacy_function_call_goes_back_as_one() -> None:
    _, message = run(
        chunk(choice(role="assistant", content=None, function_call={"name": "f", "arguments": ""})),
        chunk(choice(function_call={"arguments": "{}"})),
        finish("function_call"),
        DONE,
    )
    assert assistant_turn(message) == {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "f", "arguments": "{}"},
    }


def test_refusal_audio_annotations_and_unknown_fields() -> None:
    audio = {"id": "au_1", "transcript": "Hi", "data": "AA", "expires_at": 1}
    annotation = {"type": "url_citation", "url_citation": {"url": "u"}}
    _, message = run(
        chunk(choice(role="assistant", audio=audio, provider_specific={"k": [1, {"a": None}]})),
        chunk(choice(refusal="No", annotations=[annotation])),
        DONE,
    )
    assert assistant_turn(message) == {
        "role": "assistant",
        "audio": {"id": "au_1"},
        "provider_specific": {"k": [1, {"a": None}]},
        "refusal": "No",
        "content": "",
    }
    assert message.raw["message"]["annotations"] == [annotation]


def test_an_empty_reply_sends_empty_content() -> None:
    _, message = run(DONE)
    assert assistant_turn(message) == {"role": "assistant", "content": ""}


def test_the_turn_is_fresh_json() -> None:
    _, message = run(tools(tool(0, "{}", id="c", type="function", name="f")), DONE)
    turn = assistant_turn(message)
    turn["tool_calls"][0]["function"]["name"] = "changed"
    assert assistant_turn(message)["tool_calls"][0]["function"]["name"] == "f"
    assert json.loads(json.dumps(turn)) == turn


# --- the assistant turn, built by hand --------------------------------------------------------


def test_hand_built_blocks_are_written_from_their_neutral_fields() -> None:
    message = Message(
        content=(
            ThinkingBlock("Hm."),
            TextBlock("Let me look."),
            ToolCall("c1", "w", {"city": "Paris"}, ""),
            ToolCall("c2", "w", {}, '{"city": "Rome"}'),
        )
    )
    assert assistant_turn(message) == {
        "role": "assistant",
        "reasoning_content": "Hm.",
        "content": "Let me look.",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "w", "arguments": '{"city":"Paris"}'},
            },
            {
                "id": "c2",
                "type": "function",
                "function": {"name": "w", "arguments": '{"city": "Rome"}'},
            },
        ],
    }
    refusal = Message(content=(TextBlock("No.", refusal=True),), provider="openai-chat")
    assert assistant_turn(refusal) == {"role": "assistant", "refusal": "No.", "content": ""}
    mapped = Message(content=(TextBlock("x", raw=MappingProxyType({"content": "x"})),))
    assert assistant_turn(mapped) == {"role": "assistant", "content": "x"}


def test_a_hand_built_raw_of_another_shape_is_ignored() -> None:
    message = Message(content=(TextBlock("a"),), raw={"message": "not an object"})
    assert assistant_turn(message) == {"role": "assistant", "content": "a"}


@pytest.mark.parametrize("provider", ["anthropic", "openai-responses", "gemini"])
def test_another_providers_message_is_refused(provider: str) -> None:
    message = Message(content=(TextBlock("x"),), provider=provider)
    with pytest.raises(ValueError, match=f"a '{provider}' message cannot be an openai-chat turn"):
        assistant_turn(message)


def test_an_other_block_has_no_form() -> None:
    message = Message(content=(OtherBlock("web_search_tool_result", {"type": "x"}),))
    with pytest.raises(ValueError, match="no Chat Completions form"):
        assistant_turn(message)


# --- tool results and declarations --------------------------------------------------------------


def test_tool_results_are_tool_messages() -> None:
    calls = [ToolCall(f"c{i}", "w", {}, "{}") for i in range(3)]
    outputs: list[Any] = ["sunny", {"temp": 21, "sky": "ciel bleu é"}, KeyError("city")]
    assert openai_chat.tool_results_turn(zip(calls, outputs, strict=True)) == [
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 21, "sky": "ciel bleu é"}'},
        {"role": "tool", "tool_call_id": "c2", "content": "KeyError: 'city'"},
    ]
    assert openai_chat.tool_results_turn([(calls[0], RuntimeError())]) == [
        {"role": "tool", "tool_call_id": "c0", "content": "RuntimeError"}
    ]


def test_a_legacy_call_is_answered_by_a_function_message() -> None:
    _, message = run(chunk(choice(function_call={"name": "f", "arguments": "{}"})), DONE)
    assert openai_chat.tool_results_turn([(message.tool_calls[0], "ok")]) == [
        {"role": "function", "name": "f", "content": "ok"}
    ]


def test_a_call_without_id_cannot_be_answered() -> None:
    with pytest.raises(ValueError, match="'w' has no id"):
        openai_chat.tool_results_turn([(ToolCall("", "w", {}, "{}"), "x")])


def test_tool_declarations() -> None:
    schema = MappingProxyType({"type": "object", "properties": {"c": {"type": "string"}}})
    declarations = openai_chat.tool_declarations([Tool("w", "Weather.", schema)])
    assert declarations == [
        {
            "type": "function",
            "function": {"name": "w", "description": "Weather.", "parameters": dict(schema)},
        }
    ]
    assert type(declarations[0]["function"]["parameters"]) is dict


# --- the docs page -------------------------------------------------------------------------

DOCS = Path(__file__).parent.parent.parent / "docs" / "providers" / "openai_chat.md"


def test_the_docs_page_loop_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    exec(compile(code, str(DOCS), "exec"), {"__name__": "docs"})
    text, roles, reasoning = capsys.readouterr().out.splitlines()
    assert text == "Sunny in Paris."
    assert roles == "['user', 'assistant', 'tool']"
    assert reasoning == "Need the weather."


# --- no field is lost: stream -> message -> turn ----------------------------------------------

_KNOWN_MESSAGE = {"role", "content", "refusal", "reasoning_content", "reasoning"}
_KNOWN_MESSAGE |= {"reasoning_details", "tool_calls", "function_call", "annotations", "audio"}
_KNOWN_CALL = {"id", "type", "function", "custom", "index"}

keys = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(lambda k: k != "index")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
texts = st.text(min_size=1, max_size=30)


@st.composite
def pieces(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut into non-empty pieces at random places."""
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=4)))
    bounds = [0, *(c for c in cuts if c < len(text)), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if text[a:b]]


@st.composite
def reasoning_details(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[ServerSentEvent]]:
    """OpenRouter's reasoning_details with arbitrary extra fields, and the chunks streaming
    them: each entry's text in pieces, its other fields with the first piece."""
    details: list[dict[str, Any]] = []
    events: list[ServerSentEvent] = []
    for index in range(draw(st.integers(0, 2))):
        extras = draw(
            st.dictionaries(keys.filter(lambda k: k not in {"text", "type"}), json_values)
        )
        text = draw(texts)
        details.append({"type": "reasoning.text", "index": index, **extras, "text": text})
        first, *rest = draw(pieces(text))
        entry = {"type": "reasoning.text", "index": index, **extras, "text": first}
        events.append(chunk(choice(reasoning_details=[entry])))
        events += [chunk(choice(reasoning_details=[{"index": index, "text": p}])) for p in rest]
    return details, events


@st.composite
def replies(draw: st.DrawFn) -> tuple[dict[str, Any], list[ServerSentEvent]]:
    """An assistant message with arbitrary extra fields, and the chunks that stream it."""
    extras = draw(st.dictionaries(keys.filter(lambda k: k not in _KNOWN_MESSAGE), json_values))
    expected: dict[str, Any] = {"role": "assistant", **extras}
    events = [chunk({"index": 0, "delta": {"role": "assistant", **extras}})]
    for key in ("reasoning_content", "reasoning_details", "content"):
        if key == "reasoning_details":
            details, detail_events = draw(reasoning_details())
            if details:
                expected[key] = details
                events += detail_events
            continue
        text = draw(st.none() | texts)
        if text is not None:
            expected[key] = text
            events += [chunk({"index": 0, "delta": {key: p}}) for p in draw(pieces(text))]
    calls = []
    for index in range(draw(st.integers(0, 3))):
        call_extras = draw(
            st.dictionaries(keys.filter(lambda k: k not in _KNOWN_CALL), json_values)
        )
        name = draw(st.text("abcxyz", min_size=1, max_size=5))
        arguments = json.dumps(draw(st.dictionaries(keys, json_values, max_size=3)))
        call = {
            "id": f"call_{index}",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        calls.append(call | call_extras)
        first, *rest = draw(pieces(arguments))
        events.append(
            tools(tool(index, first, id=call["id"], type="function", name=name) | call_extras)
        )
        events += [tools(tool(index, piece)) for piece in rest]
    if calls:
        expected["tool_calls"] = calls
    elif "content" not in expected:
        expected["content"] = ""
    return expected, [*events, finish("tool_calls" if calls else "stop"), DONE]


@settings(max_examples=150, deadline=None)
@given(replies())
def test_no_field_is_lost_between_the_stream_and_the_turn(
    reply: tuple[dict[str, Any], list[ServerSentEvent]],
) -> None:
    expected, events = reply
    _, message = run(*events)
    assert assistant_turn(message) == expected
    assert all(call.complete for call in message.tool_calls)
