"""The Gemini write side: the model's turn from a Message, tool results, declarations;
and the property that no field of a part is lost between the stream and the turn."""

from __future__ import annotations

import doctest
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trio_sse.providers import (
    Message,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCall,
    ToolOutput,
    gemini,
)

from .feeding import interpret, read_recording, run_docs_page, stream_params
from .test_gemini import call, chunk, piece, run, sse


def turn_of(name: str) -> dict[str, Any]:
    return gemini.assistant_turn(
        interpret(gemini.Interpreter(), [read_recording("gemini", name)])[1]
    )[0]


# --- assistant_turn -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", stream_params("gemini"))
def test_every_recording_goes_back_as_its_blocks_parts(path: Path) -> None:
    _, message = interpret(gemini.Interpreter(), [path.read_bytes()])
    turn = gemini.assistant_turn(message)[0]
    assert turn == {"role": "model", "parts": [dict(block.raw) for block in message.content]}
    assert json.loads(json.dumps(turn)) == turn  # plain JSON values


def test_the_signature_goes_back_on_the_empty_part_that_carried_it() -> None:
    parts = turn_of("google-text")["parts"]
    assert parts[0] == {"text": 'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y'}
    assert (parts[1]["text"], parts[1]["thoughtSignature"][:10]) == ("", "EqsFCqgFAb")
    assert len(parts) == 2


def test_streamed_calls_go_back_with_args_and_their_signature() -> None:
    first, second = turn_of("google-stream-tool-call-arguments")["parts"]
    assert first["functionCall"] == {"name": "getWeather", "args": {"location": "Boston"}}
    assert first["thoughtSignature"].startswith("CiMBjz1rX2")
    assert second == {"functionCall": {"name": "getWeather", "args": {"location": "San Francisco"}}}


def test_a_call_with_no_arguments_goes_back_without_args() -> None:
    parts = turn_of("google-stream-no-args-tool-call")["parts"]
    assert parts[1]["functionCall"] == {"name": "read_theme"}
    assert [p["functionCall"]["args"] for p in parts[2:]] == [{"id": x} for x in "ABC"]


def test_unknown_parts_and_fields_come_back_unchanged() -> None:
    unknown = {"futurePart": {"deep": [1, {"x": None}]}, "thoughtSignature": "s"}
    text = {"text": "hi", "futureField": True}
    whole = {"functionCall": {"name": "f", "args": {}, "id": "c1", "later": 2}, "more": "x"}
    _, message = run(chunk(unknown, text, whole), chunk(finish="STOP"))
    assert gemini.assistant_turn(message)[0]["parts"] == [unknown, text, whole]


def test_the_turn_is_a_copy() -> None:
    part = {"functionCall": {"name": "f", "args": {"list": [1]}}}
    _, message = run(chunk(part), chunk(finish="STOP"))
    turn = gemini.assistant_turn(message)[0]
    turn["parts"][0]["functionCall"]["args"]["list"].append(2)
    assert message.tool_calls[0].raw == part
    assert gemini.assistant_turn(message)[0]["parts"] == [part]


def test_a_safety_stop_with_no_parts_is_no_turn() -> None:
    _, message = run(sse({"candidates": [{"finishReason": "SAFETY", "safetyRatings": []}]}))
    assert message.stop_reason == "SAFETY"
    assert gemini.assistant_turn(message) == []


def test_a_blocked_prompts_feedback_is_not_a_part() -> None:
    _, message = run(sse({"promptFeedback": {"blockReason": "OTHER"}}))
    assert gemini.assistant_turn(message) == []  # Gemini refuses a Content without parts


def test_blocks_built_by_hand_become_parts() -> None:
    message = Message(
        content=(
            ThinkingBlock("plan", signature="t"),
            TextBlock("Hi"),
            ToolCall("c1", "f", {"a": 1}, '{"a":1}', signature="s"),
            ToolCall("", "g", {}, ""),
            OtherBlock("executableCode", {"executableCode": {"code": "1"}}),
        )
    )
    assert gemini.assistant_turn(message)[0]["parts"] == [
        {"text": "plan", "thought": True, "thoughtSignature": "t"},
        {"text": "Hi"},
        {"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}, "thoughtSignature": "s"},
        {"functionCall": {"name": "g", "args": {}}},
        {"executableCode": {"code": "1"}},
    ]


@pytest.mark.parametrize("provider", ["anthropic", "openai-chat", "openai-responses"])
def test_another_providers_message_is_refused(provider: str) -> None:
    message = Message(content=(ThinkingBlock("x", signature="theirs"),), provider=provider)
    with pytest.raises(ValueError, match=f"a '{provider}' message cannot be sent to Gemini"):
        gemini.assistant_turn(message)[0]


def test_redacted_thinking_is_refused() -> None:
    message = Message(content=(ThinkingBlock("", signature="data", redacted=True),))
    with pytest.raises(ValueError, match="redacted"):
        gemini.assistant_turn(message)[0]


def test_a_raw_value_that_is_not_json_is_refused() -> None:
    message = Message(content=(TextBlock("x", raw={"text": "x", "when": object()}),))
    with pytest.raises(TypeError, match="not a JSON value"):
        gemini.assistant_turn(message)[0]


# --- tool results and declarations ----------------------------------------------------------


def test_tool_results_are_function_responses_in_a_user_turn() -> None:
    with_id = ToolCall("c1", "weather", {}, "{}")
    without_id = ToolCall("", "clock", {}, "{}")
    outputs: list[tuple[ToolCall, ToolOutput]] = [
        (with_id, {"celsius": 21, "sky": ["clear"]}),
        (without_id, "12:00"),
        (with_id, TimeoutError("no answer in 5 s")),
    ]
    assert gemini.tool_results_turn(outputs)[0] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "id": "c1",
                    "name": "weather",
                    "response": {"output": {"celsius": 21, "sky": ["clear"]}},
                }
            },
            {"functionResponse": {"name": "clock", "response": {"output": "12:00"}}},
            {
                "functionResponse": {
                    "id": "c1",
                    "name": "weather",
                    "response": {"error": "TimeoutError: no answer in 5 s"},
                }
            },
        ],
    }


def test_a_loop_answering_every_call_answers_each_function_call_part() -> None:
    """Gemini wants as many functionResponse parts as functionCall parts: a call cut off
    by MAX_TOKENS is answered too, with an exception."""
    _, message = run(
        chunk(call("a", args={"x": 1}) | {"thoughtSignature": "c2ln"}),
        chunk(call("b", willContinue=True)),
        chunk(piece("$.q", stringValue="par")),
        chunk(finish="MAX_TOKENS"),
    )
    assert [c.complete for c in message.tool_calls] == [True, False]
    (turn,) = gemini.assistant_turn(message)
    results = [
        (c, "ok" if c.complete else ValueError("the call was cut off")) for c in message.tool_calls
    ]
    (answer,) = gemini.tool_results_turn(results)
    assert sum("functionCall" in part for part in turn["parts"]) == len(answer["parts"]) == 2
    assert answer["parts"][1]["functionResponse"]["response"] == {
        "error": "ValueError: the call was cut off"
    }


def test_no_tool_results_are_no_turn_and_a_bad_output_is_refused() -> None:
    assert gemini.tool_results_turn([]) == []
    bad: Any = 3
    with pytest.raises(TypeError, match="text, a mapping or an Exception"):
        gemini.tool_results_turn([(ToolCall("", "f", {}, ""), bad)])[0]


def test_tool_declarations_use_the_full_json_schema_field() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "when": {"$ref": "#/$defs/day"}},
        "$defs": {"day": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        "additionalProperties": False,
    }
    tools = [Tool("weather", "Weather in a city.", schema), Tool("now", "The time.", {})]
    assert gemini.tool_declarations(tools) == [
        {
            "functionDeclarations": [
                {
                    "name": "weather",
                    "description": "Weather in a city.",
                    "parametersJsonSchema": schema,
                },
                {  # an empty schema: an object with no properties
                    "name": "now",
                    "description": "The time.",
                    "parametersJsonSchema": {"type": "object", "properties": {}},
                },
            ]
        }
    ]
    assert gemini.tool_declarations([]) == []


@pytest.mark.parametrize(
    "function",
    [
        gemini.assistant_turn,
        gemini.tool_results_turn,
        gemini.tool_declarations,
        gemini.continuation_token,
        gemini.grounding_metadata,
    ],
)
def test_docstring_examples_run(function: Any) -> None:
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(function, globs={function.__name__: function}):
        runner.run(test)
    assert (runner.failures, runner.tries > 0) == (0, True)


# --- property: no field of a part is lost -------------------------------------------------------

_KNOWN = {"text", "thought", "thoughtSignature", "functionCall"}
_CALL_KNOWN = {"name", "args", "id", "partialArgs", "willContinue"}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars.filter(lambda v: v not in (float("inf"), float("-inf"))),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def extras(reserved: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(min_size=1, max_size=6).filter(lambda key: key not in reserved)
    return st.dictionaries(keys, json_values, max_size=2)


signatures = st.none() | st.text(min_size=1, max_size=8)


@st.composite
def text_parts(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A text part as sent back, and the parts that stream it."""
    text, thought, signature = draw(st.text()), draw(st.booleans()), draw(signatures)
    fields = ({"thought": True} if thought else {}) | draw(extras(_KNOWN | {"partMetadata"}))
    if signature is not None:
        fields["thoughtSignature"] = signature
    assume(text or fields.keys() - {"thought"})  # an empty bare part is dropped, by design
    if signature is not None:  # a signed part streams whole
        return {"text": text, **fields}, [{"text": text, **fields}]
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=3)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return {"text": text, **fields}, [{"text": piece, **fields} for piece in pieces]


@st.composite
def whole_calls(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    function_call: dict[str, Any] = {"name": draw(st.text(min_size=1, max_size=5))}
    function_call["args"] = draw(st.dictionaries(st.text(max_size=4), json_values, max_size=3))
    if (call_id := draw(st.none() | st.text(max_size=5))) is not None:
        function_call["id"] = call_id
    function_call |= draw(extras(_CALL_KNOWN))
    part = {"functionCall": function_call} | draw(extras(_KNOWN))
    if (signature := draw(signatures)) is not None:
        part["thoughtSignature"] = signature
    return part, [part]


leaf_values = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
arg_keys = st.text(max_size=4).filter(lambda key: "'" not in key)
streamed_args = st.recursive(
    leaf_values,
    lambda inner: (
        st.lists(inner, min_size=1, max_size=3)
        | st.dictionaries(arg_keys, inner, min_size=1, max_size=3)
    ),
    max_leaves=6,
)


def leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in leaves(item, f"{path}['{key}']")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in leaves(item, f"{path}[{i}]")]
    return [(path, value)]


def partial_args(path: str, value: Any, cut: int) -> list[dict[str, Any]]:
    """One leaf as ``partialArgs`` values: a string in two pieces, anything else whole."""
    if isinstance(value, str):
        head, tail = value[:cut], value[cut:]
        return [
            {"jsonPath": path, "stringValue": head, "willContinue": True},
            {"jsonPath": path, "stringValue": tail},
        ]
    if value is None:
        return [{"jsonPath": path, "nullValue": "NULL_VALUE"}]
    key = "boolValue" if isinstance(value, bool) else "numberValue"
    return [{"jsonPath": path, key: value}]


@st.composite
def streamed_calls(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A call as Vertex streams its arguments, and the part it goes back as."""
    args = draw(st.dictionaries(arg_keys, streamed_args, min_size=1, max_size=3))
    head = {"name": draw(st.text(min_size=1, max_size=5))} | draw(extras(_CALL_KNOWN))
    part_fields = draw(extras(_KNOWN))
    if (signature := draw(signatures)) is not None:
        part_fields["thoughtSignature"] = signature
    stream = [{"functionCall": head | {"willContinue": True}} | part_fields]
    for path, value in leaves(args, "$"):
        cut = draw(st.integers(0, 6))
        for arg in partial_args(path, value, cut):
            stream.append({"functionCall": {"partialArgs": [arg], "willContinue": True}})
    stream.append({"functionCall": {}})
    return {"functionCall": head | {"args": args}} | part_fields, stream


@st.composite
def unknown_parts(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = draw(
        st.text(min_size=1, max_size=6).filter(
            lambda k: k not in _KNOWN | {"partMetadata", "videoMetadata"}
        )
    )
    part = {kind: draw(json_values)} | draw(extras(_KNOWN))
    if (signature := draw(signatures)) is not None:
        part["thoughtSignature"] = signature
    return part, [part]


def mergeable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two text parts that would stream as one (unsigned, the same fields)."""
    rest_a, rest_b = ({k: v for k, v in p.items() if k != "text"} for p in (a, b))
    return "text" in a and "text" in b and "thoughtSignature" not in rest_a and rest_a == rest_b


@settings(deadline=None)  # what it checks is the parts, not how fast a loaded machine is
@given(
    st.lists(
        text_parts() | whole_calls() | streamed_calls() | unknown_parts(), min_size=1, max_size=5
    ),
    st.integers(1, 4),
)
def test_no_field_of_a_part_is_lost_between_the_stream_and_the_turn(
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]], per_chunk: int
) -> None:
    expected = [part for part, _ in blocks]
    assume(not any(mergeable(a, b) for a, b in itertools.pairwise(expected)))
    streamed = [part for _, stream in blocks for part in stream]
    chunks = [chunk(*streamed[i : i + per_chunk]) for i in range(0, len(streamed), per_chunk)]
    _, message = run(*chunks, chunk(finish="STOP"))
    assert gemini.assistant_turn(message)[0]["parts"] == expected
    assert all(c.complete for c in message.tool_calls)


# --- the user page's tool loop runs ---------------------------------------------------------------


def test_the_pages_tool_loop_runs() -> None:
    result = run_docs_page("gemini")
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "Clear and 21 °C in Paris.\n",
        "",
    )
