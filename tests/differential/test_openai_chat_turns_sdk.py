"""The Chat Completions turns against the official SDK, offline, on the same bytes.

The reference assistant turn is what a careful user builds from the SDK's own final
message (``ChatCompletionStreamState``'s snapshot, ``.to_dict()``): the fields it holds, less
those its own ``ChatCompletionAssistantMessageParam`` does not take (:data:`LEFT_OUT`).
Every recording and every stream below gives the same turn field by field, but where the
SDK is wrong (:data:`SDK_DIFFERENCES`, each asserted both ways).

The round trip: every turn, with the tool results and declarations, passes the SDK's own
request types (validated by pydantic, every nested iterable consumed), with no key those
types do not name but the compatible servers' documented ones (:data:`COMPATIBLE_EXTRAS`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from trio_sse import ServerSentEvent
from trio_sse.providers import Message, Tool, ToolCall, openai_chat

from ..providers.feeding import final_message, provider_streams
from ..providers.test_openai_chat_turns import replies
from .test_openai_chat_sdk import DONE, choice, chunk, sdk_completion, tool

pydantic = pytest.importorskip("pydantic")
chat_types = pytest.importorskip("openai.types.chat")
create_params = pytest.importorskip("openai.types.chat.completion_create_params")

LEFT_OUT = {
    "parsed": "the SDK's own parsing of structured output, not a message field",
    "annotations": "output only: the assistant param has no annotations (kept in Message.raw)",
    "audio": "output only but its id: the assistant param's audio is {id}",
    "index": "a tool call's streaming position: the tool-call params have none",
    "parsed_arguments": "the SDK's own parsing of strict tool arguments",
}

SDK_DIFFERENCES = {
    "repeated-id-and-name": (
        "a server that repeats id, type and name in every tool-call fragment: the SDK's"
        " message holds 'call_0call_0' and 'getget'; the turn sends them once"
    ),
    "empty-tool-calls": (
        "a server that sends tool_calls: [] in every delta (vLLM): the SDK's message keeps the"
        " empty array, which OpenAI rejects in a request (an array of at least one); the"
        " turn leaves it out"
    ),
    "no-content": (
        "a reply with no text and no tool call: the SDK's message has content null, which"
        " its param does not allow without tool_calls or function_call; the turn sends"
        " content ''"
    ),
    "role-repeated": (
        "a server that repeats role in every chunk: the SDK's message has role"
        " 'assistantassistant'; the turn's role is 'assistant'"
    ),
}

COMPATIBLE_EXTRAS = {
    "reasoning_content": "DeepSeek (required back after tool calls), xAI, vLLM, llama.cpp",
    "reasoning": "Groq, OpenRouter, vLLM",
    "reasoning_details": "OpenRouter: reasoning blocks and signatures, sent back unchanged",
    "extra_content": "Gemini's OpenAI endpoint: extra_content.google.thought_signature of a call",
}


def sdk_turn(body: bytes) -> dict[str, Any]:
    """The assistant turn a careful user builds from the SDK's final message. Its model has
    every field, null where the server sent none: nulls (there and in :func:`our_turn`)
    are not compared."""
    message = sdk_completion(body).choices[0].message.to_dict()
    left_out = {"parsed", "annotations", "audio"}
    turn = {k: v for k, v in message.items() if v is not None and k not in left_out}
    if message.get("audio"):
        turn["audio"] = {"id": message["audio"]["id"]}
    if "tool_calls" in turn:
        turn["tool_calls"] = [_call(call) for call in turn["tool_calls"]]
    return turn | {"role": "assistant"}


def _call(call: dict[str, Any]) -> dict[str, Any]:
    call = {k: v for k, v in call.items() if v is not None and k != "index"}
    if "function" in call:
        call["function"] = {k: v for k, v in call["function"].items() if k != "parsed_arguments"}
    return call


def message_of(body: bytes) -> Message:
    return final_message(openai_chat.Interpreter, body)


def our_turn(body: bytes) -> dict[str, Any]:
    """The native turn, with nulls left out where :func:`sdk_turn` leaves them out."""
    (turn,) = openai_chat.assistant_turn(message_of(body))
    turn = {key: value for key, value in turn.items() if value is not None}
    if "tool_calls" in turn:
        turn["tool_calls"] = [_call(call) for call in turn["tool_calls"]]
    return turn


# --- streams the recordings do not hold ---------------------------------------------------

THOUGHT = {"google": {"thought_signature": "c2ln"}}
DETAIL = {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0}
CITATION = {"url": "u", "title": "t", "start_index": 0, "end_index": 1}
STREAMS = {
    "gemini-signature": (
        chunk(choice(role="assistant", content=None))
        + chunk(
            choice(
                tool_calls=[
                    tool(0, '{"city":"Paris"}', id="f1", name="w") | {"extra_content": THOUGHT}
                ]
            )
        )
        + chunk(choice(finish_reason="tool_calls"))
        + DONE
    ),
    "openrouter-reasoning-details": (
        chunk(choice(reasoning="Th", reasoning_details=[DETAIL | {"text": "Th"}]))
        + chunk(
            choice(
                reasoning="ink",
                reasoning_details=[{"type": "reasoning.text", "text": "ink", "index": 0}],
            )
        )
        + chunk(
            choice(reasoning_details=[{"type": "reasoning.text", "signature": "S", "index": 0}])
        )
        + chunk(choice(content="Hi"))
        + chunk(
            choice(reasoning_details=[{"type": "reasoning.encrypted", "data": "e", "index": 1}])
        )
        + chunk(choice(finish_reason="stop"))
        + DONE
    ),
    "custom-tool-call": (
        chunk(
            choice(
                tool_calls=[
                    {
                        "index": 0,
                        "id": "c1",
                        "type": "custom",
                        "custom": {"name": "grep", "input": "a"},
                    }
                ]
            )
        )
        + chunk(choice(tool_calls=[{"index": 0, "custom": {"input": "bc"}}]))
        + chunk(choice(finish_reason="tool_calls"))
        + DONE
    ),
    "legacy-function-call": (
        chunk(choice(role="assistant", content=None, function_call={"name": "f", "arguments": ""}))
        + chunk(choice(function_call={"arguments": '{"a": 1}'}))
        + chunk(choice(finish_reason="function_call"))
        + DONE
    ),
    "audio-and-annotations": (
        chunk(
            choice(
                role="assistant",
                audio={"id": "au_1", "transcript": "He", "data": "AA", "expires_at": 5},
            )
        )
        + chunk(choice(audio={"transcript": "llo", "data": "BB"}))
        + chunk(
            choice(content="x", annotations=[{"type": "url_citation", "url_citation": CITATION}])
        )
        + chunk(choice(finish_reason="stop"))
        + DONE
    ),
    "refusal": chunk(choice(role="assistant", content=None, refusal="No"))
    + chunk(choice(refusal=".", finish_reason="stop"))
    + DONE,
    "text-reasoning-tools": (
        chunk(choice(role="assistant", reasoning_content="Hm"))
        + chunk(choice(content="Checking."))
        + chunk(
            choice(tool_calls=[tool(0, '{"x"', id="a", name="f"), tool(1, "", id="b", name="g")])
        )
        + chunk(
            choice(
                tool_calls=[
                    {"index": 0, "function": {"arguments": ": 1}"}},
                    {"index": 1, "function": {"arguments": "{}"}},
                ]
            )
        )
        + chunk(choice(finish_reason="tool_calls"))
        + DONE
    ),
}


def all_bodies() -> list[Any]:
    """Every recording of the provider, then the streams above."""
    recorded = [pytest.param(p.read_bytes(), id=p.stem) for p in provider_streams("openai_chat")]
    return recorded + [pytest.param(body, id=name) for name, body in STREAMS.items()]


@pytest.mark.parametrize("body", all_bodies())
def test_the_turn_is_the_sdk_message_as_a_param(body: bytes) -> None:
    assert our_turn(body) == sdk_turn(body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies())
def test_the_turn_is_the_sdk_message_on_generated_streams(
    reply: tuple[dict[str, Any], list[ServerSentEvent]],
) -> None:
    """Messages with arbitrary extra fields (on the message, the tool calls, OpenRouter's
    reasoning_details), streamed in pieces: the SDK and the turn agree, field by field."""
    message, events = reply
    assume("parsed" not in message)  # a field of the SDK's own, which a server never sends
    body = b"".join(b"data: " + event.data.encode() + b"\n\n" for event in events)
    expected = sdk_turn(body)
    if not {"content", "tool_calls", "function_call"} & expected.keys():
        expected["content"] = ""  # SDK_DIFFERENCES["no-content"]
    assert our_turn(body) == expected


def test_no_content() -> None:
    body = chunk(choice(role="assistant", reasoning_content="hm")) + DONE
    assert "content" not in sdk_turn(body)  # null in the SDK's message
    assert our_turn(body) == {"role": "assistant", "reasoning_content": "hm", "content": ""}


def test_repeated_id_and_name() -> None:
    body = (
        chunk(choice(tool_calls=[tool(0, '{"a"', id="call_0", name="get")]))
        + chunk(choice(tool_calls=[tool(0, ": 1}", id="call_0", name="get")]))
        + chunk(choice(finish_reason="tool_calls"))
        + DONE
    )
    (sdk_call,) = sdk_turn(body)["tool_calls"]
    assert (sdk_call["id"], sdk_call["function"]["name"]) == ("call_0call_0", "getget")
    assert our_turn(body)["tool_calls"] == [
        {"id": "call_0", "type": "function", "function": {"name": "get", "arguments": '{"a": 1}'}}
    ]


def test_role_repeated() -> None:
    body = (
        chunk(choice(role="assistant", content="a"))
        + chunk(choice(role="assistant", content="b"))
        + DONE
    )
    assert sdk_completion(body).choices[0].message.to_dict()["role"] == "assistantassistant"
    assert our_turn(body) == {"role": "assistant", "content": "ab"}


def test_empty_tool_calls() -> None:
    body = (
        chunk(choice(role="assistant", content="a", tool_calls=[]))
        + chunk(choice(content="b", tool_calls=[], finish_reason="stop"))
        + DONE
    )
    assert sdk_turn(body)["tool_calls"] == []
    assert our_turn(body) == {"role": "assistant", "content": "ab"}


def test_every_difference_has_its_test() -> None:
    tests = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert {name.replace("-", "_") for name in SDK_DIFFERENCES} <= tests


# --- the round trip: the SDK's own request types ---------------------------------------------


def consumed(value: Any) -> Any:
    """``value`` with every lazily validated iterable consumed (so validated) into a list."""
    if isinstance(value, dict):
        return {key: consumed(item) for key, item in value.items()}
    if isinstance(value, list | Iterator):
        return [consumed(item) for item in value]
    return value


def assert_no_unknown_keys(turn: dict[str, Any]) -> None:
    allowed = set(chat_types.ChatCompletionAssistantMessageParam.__annotations__)
    assert turn.keys() <= allowed | COMPATIBLE_EXTRAS.keys()
    for call in turn.get("tool_calls", []):
        kind = {
            "function": chat_types.ChatCompletionMessageFunctionToolCallParam,
            "custom": chat_types.ChatCompletionMessageCustomToolCallParam,
        }[call["type"]]
        assert call.keys() <= set(kind.__annotations__) | {"extra_content"}
        body = call[call["type"]]
        assert body.keys() <= {"name", "arguments", "input"}
    if "audio" in turn:
        assert turn["audio"].keys() == {"id"}
    if "function_call" in turn:
        assert turn["function_call"].keys() == {"name", "arguments"}


WEATHER = Tool("w", "The weather.", {"type": "object", "properties": {"city": {"type": "string"}}})


@pytest.mark.parametrize("body", all_bodies())
def test_the_next_request_passes_the_sdk_types(body: bytes) -> None:
    message = message_of(body)
    (turn,) = openai_chat.assistant_turn(message)
    assert_no_unknown_keys(turn)
    outputs: list[Any] = ["sunny", {"temp": 21}, ValueError("no such city")]
    results = [(call, outputs[i % 3]) for i, call in enumerate(message.tool_calls)]
    request = {
        "model": "m",
        "stream": True,
        "messages": [
            *openai_chat.user_turn("x"),
            turn,
            *openai_chat.tool_results_turn(results),
        ],
        "tools": openai_chat.tool_declarations([WEATHER]),
    }
    json.dumps(request)  # plain JSON
    adapter = pydantic.TypeAdapter(create_params.CompletionCreateParamsStreaming)
    validated = consumed(adapter.validate_python(request))
    assert validated["messages"][1]["role"] == "assistant"
    assert len(validated["messages"]) == 2 + len(message.tool_calls)


def test_a_hand_built_message_passes_too() -> None:
    message = Message(content=(ToolCall("c", "w", {"city": "Paris"}, ""),))
    (turn,) = openai_chat.assistant_turn(message)
    assert_no_unknown_keys(turn)
    adapter = pydantic.TypeAdapter(chat_types.ChatCompletionAssistantMessageParam)
    assert consumed(adapter.validate_python(turn))["tool_calls"][0]["function"] == {
        "name": "w",
        "arguments": '{"city":"Paris"}',
    }
