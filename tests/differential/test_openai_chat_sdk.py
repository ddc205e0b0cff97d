"""trio-sse's Chat Completions interpreter against the official SDK, offline, on the same bytes.

The SDK side: ``client.chat.completions.create(..., stream=True)`` over an
``httpx2.MockTransport``, each chunk fed to ``ChatCompletionStreamState.handle_chunk``, then
``current_completion_snapshot`` (``get_final_completion()`` would raise on
``finish_reason == "length"``, which a recording has).

Every recording agrees: id, model, text, refusal, reasoning, tool calls (id, name, parsed
arguments), finish reason, usage. The SDK's mistakes show on streams the recordings do not
hold; each is written out below (:data:`SDK_DIFFERENCES`) and asserted both ways.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trio_sse.providers import (
    APIStreamError,
    IncompleteStreamError,
    Message,
    ToolCall,
    Usage,
    openai_chat,
)

from ..providers.feeding import final_message, stream_params
from .sdk import replaying

openai = pytest.importorskip("openai")
streaming = pytest.importorskip("openai.lib.streaming.chat")

# quirk -> what the SDK does, and what is right.
SDK_DIFFERENCES = {
    "repeated-id-and-name": (
        "a server that repeats id, type and name in every tool-call fragment: the SDK"
        " concatenates them ('call_0call_0', 'getget'); they are set once"
    ),
    "tool-index-from-1": "tool-call indexes starting at 1: the SDK raises IndexError",
    "usage-then-empty-chunk": (
        "a chunk with empty choices and no usage after the usage chunk: the SDK ends with"
        " usage None; the last non-null usage is kept"
    ),
    "eof-before-done": "EOF without [DONE]: the SDK returns the truncated completion",
}


def sdk_completion(body: bytes) -> Any:
    """The SDK's accumulated completion for a body, with no network."""
    state = streaming.ChatCompletionStreamState()
    with (
        replaying(body) as http,
        openai.OpenAI(api_key="t", max_retries=0, http_client=http) as client,
    ):
        messages = [{"role": "user", "content": "x"}]
        for chunk in client.chat.completions.create(model="m", messages=messages, stream=True):
            state.handle_chunk(chunk)
    return state.current_completion_snapshot


def sdk_view(completion: Any) -> dict[str, object]:
    """What the SDK's completion says (choice 0), in terms both can be compared in."""
    choice = completion.choices[0]
    message = choice.message
    extra = message.model_extra or {}
    usage = completion.usage
    return {
        "id": completion.id,
        "model": completion.model,
        "text": message.content or "",
        "refusal": message.refusal,
        "thinking": extra.get("reasoning_content") or extra.get("reasoning") or "",
        "tool_calls": [
            (call.id, call.function.name, json.loads(call.function.arguments or "{}"))
            for call in message.tool_calls or []
        ],
        "stop_reason": choice.finish_reason,
        "usage": None
        if usage is None
        else (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens,
            usage.completion_tokens_details and usage.completion_tokens_details.reasoning_tokens,
        ),
    }


def our_view(message: Message) -> dict[str, object]:
    usage = message.usage
    return {
        "id": message.id,
        "model": message.model,
        "text": message.text,
        "refusal": message.refusal,
        "thinking": message.thinking,
        "tool_calls": [(call.id, call.name, dict(call.arguments)) for call in message.tool_calls],
        "stop_reason": message.stop_reason,
        "usage": None
        if usage is None
        else (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens,
            usage.reasoning_tokens,
        ),
    }


def ours(body: bytes) -> Message:
    return final_message(openai_chat.Interpreter, body)


@pytest.mark.parametrize("path", stream_params("openai_chat"))
def test_sdk_and_trio_sse_agree(path: Path) -> None:
    body = path.read_bytes()
    assert our_view(ours(body)) == sdk_view(sdk_completion(body))


# --- streams the recordings do not hold ---------------------------------------------------


def chunk(*choices: dict[str, Any], **fields: Any) -> bytes:
    payload = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return b"data: " + json.dumps(payload | {"choices": list(choices)} | fields).encode() + b"\n\n"


def choice(index: int = 0, finish_reason: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish_reason}


def tool(index: int, arguments: str, **fields: Any) -> dict[str, Any]:
    function = {"arguments": arguments} | ({"name": fields.pop("name")} if "name" in fields else {})
    return {"index": index, "type": "function", "function": function} | fields


DONE = b"data: [DONE]\n\n"
STOP = chunk(choice(finish_reason="stop"))
USAGE = chunk(usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})


def test_repeated_id_and_name() -> None:
    body = (
        chunk(choice(tool_calls=[tool(0, '{"a"', id="call_0", name="get")]))
        + chunk(choice(tool_calls=[tool(0, ": 1}", id="call_0", name="get")]))
        + chunk(choice(finish_reason="tool_calls"))
        + DONE
    )
    assert sdk_view(sdk_completion(body))["tool_calls"] == [("call_0call_0", "getget", {"a": 1})]
    assert ours(body).tool_calls == (ToolCall("call_0", "get", {"a": 1}, '{"a": 1}'),)


def test_tool_index_from_1() -> None:
    body = chunk(choice(tool_calls=[tool(1, "{}", id="call_1", name="f")])) + STOP + DONE
    with pytest.raises(IndexError):
        sdk_completion(body)
    assert ours(body).tool_calls == (ToolCall("call_1", "f", {}, "{}"),)


def test_usage_then_empty_chunk() -> None:
    body = chunk(choice(content="a")) + STOP + USAGE + chunk() + DONE
    assert sdk_view(sdk_completion(body))["usage"] is None
    assert ours(body).usage == Usage(3, 4, total_input_tokens=3)


def test_eof_before_done() -> None:
    body = chunk(choice(content="a")) + STOP
    assert sdk_view(sdk_completion(body))["text"] == "a"
    with pytest.raises(IncompleteStreamError) as info:
        ours(body)
    assert info.value.partial.text == "a"


def test_every_difference_has_its_test() -> None:
    tests = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert {name.replace("-", "_") for name in SDK_DIFFERENCES} <= tests


# --- where both agree, beyond the recordings -----------------------------------------------


def test_several_choices_agree_on_choice_0() -> None:
    body = (
        chunk(choice(0, content="zero"), choice(1, content="one"))
        + chunk(choice(0, finish_reason="stop"), choice(1, finish_reason="length"))
        + USAGE
        + DONE
    )
    assert our_view(ours(body)) == sdk_view(sdk_completion(body))


def test_error_payload_both_raise() -> None:
    error = {"message": "boom", "type": "server_error"}
    body = chunk(choice(content="a")) + chunk(choice(content="b"), error=error) + DONE
    with pytest.raises(openai.APIError, match="boom"):
        sdk_completion(body)
    with pytest.raises(APIStreamError) as info:
        ours(body)
    assert (info.value.error_type, info.value.partial.text) == ("server_error", "a")


def test_refusal_agrees() -> None:
    body = chunk(choice(refusal="I can't")) + chunk(choice(refusal=" help.")) + STOP + DONE
    assert our_view(ours(body)) == sdk_view(sdk_completion(body))
