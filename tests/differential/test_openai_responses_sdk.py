"""trio-sse's Responses interpreter against the official openai SDK, on the same bytes.

For every recorded Responses stream the SDK is driven offline (a mock transport returns
the recording) and its final ``Response`` is compared with trio-sse's final
:class:`Message`: text and its annotations, refusal, reasoning, tool calls, other items,
id, stop reason and usage. Where the SDK cannot read a recording, the table below says
what it does and why trio-sse's reading is the right one; those differences are
asserted, not skipped.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from trio_sse.providers import Message, OtherBlock, TextBlock, ThinkingBlock, openai_responses

from ..providers.feeding import final_message, provider_streams, read_recording, stream_params
from ..recorded import FIXTURES
from .sdk import replaying

openai = pytest.importorskip("openai")

# --- the expected differences --------------------------------------------------------------

SDK_REFUSES: dict[str, tuple[str, str]] = {
    "github-copilot-id-rotation.1": (
        "Lifecycle response identity changed",
        "GitHub Copilot gives every event a fresh id, the response's included; the SDK takes"
        " the in_progress event for another response and raises. trio-sse pairs items by"
        " position and takes the terminal response's id: the text, reasoning and usage are"
        " all there to read.",
    ),
    "openai-client-tool-search.1": (
        "Completed output item identity changed",
        "the client tool_search_call's call_id at output_item.done differs from the one at"
        " .added; the SDK raises. trio-sse keeps the later, whole form (call_RWTI...), the"
        " one the terminal response also has, which the caller must answer.",
    ),
    "openai-reasoning-encrypted-content.1": (
        "Lifecycle response identity changed",
        "four responses recorded back to back (an agent's four steps); the SDK raises at the"
        " second response.created. One HTTP response holds one response: trio-sse ends at"
        " the first terminal event and ignores what follows. Fed only the first response's"
        " bytes, the SDK agrees with trio-sse.",
    ),
}
SDK_WARNS: dict[str, str] = {
    "xai-x-search-tool": (
        "the SDK's tool union has no xAI 'x_search' tool, so pydantic warns"
        " (PydanticSerializationUnexpectedValue) when the SDK copies the echoed tools;"
        " the values it returns still agree with trio-sse's."
    ),
}

# --- driving both ---------------------------------------------------------------------------


def sdk_response(body: bytes) -> Any:
    """The SDK's final ``Response`` for a recorded body, read offline."""
    with (
        replaying(body) as http,
        openai.OpenAI(api_key="t", max_retries=0, http_client=http) as client,
        client.responses.stream(model="m", input="x") as stream,
    ):
        return stream.get_final_response()


def ours(body: bytes) -> Message:
    return final_message(openai_responses.Interpreter, body)


def assert_agree(final: Any, message: Message) -> None:
    """The SDK's ``Response`` and trio-sse's ``Message`` say the same things."""
    assert message.id == final.id
    assert message.model == final.model
    assert message.text == final.output_text
    refusals = [
        part.refusal
        for item in final.output
        if item.type == "message"
        for part in item.content
        if part.type == "refusal"
    ]
    assert message.refusal == ("".join(refusals) if refusals else None)
    annotations = [
        [annotation.to_dict() for annotation in part.annotations]
        for item in final.output
        if item.type == "message"
        for part in item.content
        if part.type == "output_text"
    ]
    citations = [
        list(b.citations) for b in message.content if isinstance(b, TextBlock) and not b.refusal
    ]
    assert citations == annotations
    reasoning = []
    for item in final.output:
        if item.type == "reasoning":
            texts = [p.text for p in [*(item.content or []), *item.summary] if p.text]
            reasoning.append(("\n\n".join(texts), item.encrypted_content))
    thinking = [(b.thinking, b.signature) for b in message.content if isinstance(b, ThinkingBlock)]
    assert thinking == reasoning
    items = [i for i in final.output if i.type in ("function_call", "custom_tool_call")]
    raw = [i.arguments if i.type == "function_call" else i.input for i in items]
    assert [(i.name, i.call_id, r) for i, r in zip(items, raw, strict=True)] == [
        (call.name, call.id, call.raw_arguments) for call in message.tool_calls
    ]
    for item, call in zip(items, message.tool_calls, strict=True):
        if item.type == "function_call":
            assert call.arguments == json.loads(item.arguments or "{}")
    known = ("message", "reasoning", "function_call", "custom_tool_call")
    others = [(i.type, i.to_dict()) for i in final.output if i.type not in known]
    assert others == [(b.type, b.data) for b in message.content if isinstance(b, OtherBlock)]
    details = final.incomplete_details
    assert message.stop_reason == (details.reason if details else final.status)
    assert message.usage is not None
    usage = final.usage
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        usage.input_tokens,
        usage.output_tokens,
    )
    assert message.usage.cache_read_input_tokens == usage.input_tokens_details.cached_tokens
    assert message.usage.reasoning_tokens == usage.output_tokens_details.reasoning_tokens


# --- the tests -------------------------------------------------------------------------------


def test_the_table_names_only_recordings_that_exist() -> None:
    names = {path.stem for path in provider_streams("openai_responses")}
    if not names:
        pytest.skip(f"{FIXTURES} is absent")
    assert set(SDK_REFUSES) | set(SDK_WARNS) <= names


@pytest.mark.parametrize("path", stream_params("openai_responses"))
def test_sdk_and_trio_sse_agree(path: Path) -> None:
    body = path.read_bytes()
    message = ours(body)
    if path.stem in SDK_REFUSES:
        words, _why = SDK_REFUSES[path.stem]
        with pytest.raises(RuntimeError, match=words):
            sdk_response(body)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        final = sdk_response(body)
    assert bool(caught) == (path.stem in SDK_WARNS), [str(w.message) for w in caught]
    assert_agree(final, message)


def test_sdk_agrees_on_the_first_of_several_recorded_responses() -> None:
    body = read_recording("openai_responses", "openai-reasoning-encrypted-content.1")
    first = body[: body.index(b"event: response.created", 1)]
    assert ours(first) == ours(body)
    assert_agree(sdk_response(first), ours(body))
