"""Provider replies built from neutral values: interpreting the bytes gives the message back."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_sse import SSEDecoder
from trio_sse._replies import provider_reply
from trio_sse.providers import (
    ContentBlock,
    Message,
    ProviderName,
    TextBlock,
    ThinkingBlock,
    ToolCall,
    Usage,
    anthropic,
    gemini,
    openai_chat,
    openai_responses,
)
from trio_sse.providers._json import compact

INTERPRETERS: dict[ProviderName, Any] = {
    "anthropic": anthropic.Interpreter,
    "openai-chat": openai_chat.Interpreter,
    "openai-responses": openai_responses.Interpreter,
    "gemini": gemini.Interpreter,
}
STOPS: dict[ProviderName, tuple[str, str]] = {  # (plain end, end on a tool call)
    "anthropic": ("end_turn", "tool_use"),
    "openai-chat": ("stop", "tool_calls"),
    "openai-responses": ("completed", "completed"),
    "gemini": ("STOP", "STOP"),
}


def interpret(provider: ProviderName, chunks: list[bytes], cuts: list[int]) -> Message:
    """The reply's bytes through the decoder (cut at ``cuts``) and the interpreter."""
    body = b"".join(chunks)
    decoder, interpreter = SSEDecoder(), INTERPRETERS[provider]()
    edges = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    for start, end in itertools.pairwise(edges):
        for event in decoder.feed(body[start:end]):
            interpreter.feed(event)
    return interpreter.finish()  # type: ignore[no-any-return]


def neutral(block: ContentBlock) -> tuple[object, ...]:
    """What a reader sees of a block; ids an encoder makes up are left out."""
    if isinstance(block, TextBlock):
        return ("text", block.text, block.refusal, block.signature)
    if isinstance(block, ThinkingBlock):
        return ("thinking", block.thinking, block.signature, block.redacted)
    if isinstance(block, ToolCall):
        arguments = dict(block.arguments)
        return ("call", block.id, block.name, arguments, block.provider_executed, block.signature)
    return ("other", block.type, dict(block.data))


words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)
ids = st.from_regex(r"[a-z]{2,4}_[A-Za-z0-9]{1,12}", fullmatch=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8,
)
arguments = st.dictionaries(words, json_values, max_size=4)


@st.composite
def tool_calls(draw: st.DrawFn, signed: bool) -> ToolCall:
    args = draw(arguments)
    signature = draw(st.none() | ids) if signed else None
    return ToolCall(draw(ids), draw(ids), args, compact(args), signature=signature)


def mergeless(provider: ProviderName, blocks: list[TextBlock | ThinkingBlock | ToolCall]) -> bool:
    """Whether the blocks survive as they are: Gemini joins unsigned text parts in a row."""
    return provider != "gemini" or not any(
        type(a) is type(b) and isinstance(a, TextBlock | ThinkingBlock)
        for a, b in itertools.pairwise(blocks)
    )


@st.composite
def messages(draw: st.DrawFn, provider: ProviderName) -> Message:
    signed = provider in ("gemini", "anthropic", "openai-responses")  # thinking signatures
    thinking = st.builds(ThinkingBlock, words, st.none() | ids if signed else st.none())
    text = st.builds(
        TextBlock, words, signature=st.none() | ids if provider == "gemini" else st.none()
    )
    parts: list[TextBlock | ThinkingBlock | ToolCall]
    if provider == "openai-chat":  # one thinking part, one text part, then the calls
        parts = [
            *draw(st.lists(thinking, max_size=1)),
            *draw(st.lists(text, max_size=1)),
            *draw(st.lists(tool_calls(False), max_size=3, unique_by=lambda c: c.id)),
        ]
    else:
        any_block = st.one_of(text, thinking, tool_calls(provider == "gemini"))
        parts = draw(
            st.lists(any_block, max_size=5).filter(lambda found: mergeless(provider, found))
        )
    blocks: list[ContentBlock] = [*parts]
    counts = st.integers(0, 10**6)
    usage = draw(st.builds(Usage, counts, counts))
    return Message(content=tuple(blocks), usage=usage)


@pytest.mark.parametrize("provider", list(INTERPRETERS))
@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_interpreting_a_built_reply_gives_the_message_back(
    provider: ProviderName, data: st.DataObject
) -> None:
    message = data.draw(messages(provider))
    size = data.draw(st.integers(1, 12))
    cuts = data.draw(st.lists(st.integers(0, 10**6), max_size=8))
    got = interpret(provider, provider_reply(provider, message, delta_size=size), cuts)
    assert [neutral(block) for block in got.content] == [neutral(b) for b in message.content]
    plain, tool = STOPS[provider]
    assert got.stop_reason == (tool if message.tool_calls else plain)
    assert got.usage is not None
    assert message.usage is not None
    assert (got.usage.input_tokens, got.usage.output_tokens) == (
        message.usage.input_tokens,
        message.usage.output_tokens,
    )
    assert got.provider == provider


@pytest.mark.parametrize("provider", list(INTERPRETERS))
def test_ids_model_and_stop_reason_given_are_kept(provider: ProviderName) -> None:
    message = Message("the-id", "the-model", (TextBlock("hi"),), "max_tokens", Usage(1, 2))
    if provider == "gemini":
        message = replace(message, stop_reason="MAX_TOKENS")
    elif provider == "openai-responses":
        message = replace(message, stop_reason="max_output_tokens")
    elif provider == "openai-chat":
        message = replace(message, stop_reason="length")
    got = interpret(provider, provider_reply(provider, message), [])
    assert (got.id, got.model, got.stop_reason) == (message.id, message.model, message.stop_reason)


def test_each_event_is_one_sse_event() -> None:
    message = Message(content=(TextBlock("a" * 40),))
    events = provider_reply("anthropic", message, delta_size=10)
    decoded = [SSEDecoder().feed(event) for event in events]
    assert all(len(one) == 1 for one in decoded)
    assert sum(1 for one in decoded if one[0].event == "content_block_delta") == 4


def test_what_a_provider_cannot_carry_is_refused() -> None:
    call = ToolCall("c1", "f", {}, "{}")
    with pytest.raises(ValueError, match="no text or thinking after a tool call"):
        provider_reply("openai-chat", Message(content=(call, TextBlock("after"))))
    with pytest.raises(ValueError, match="delta_size"):
        provider_reply("anthropic", Message(), delta_size=0)
    with pytest.raises(ValueError, match="unknown provider"):
        provider_reply("cohere", Message())  # type: ignore[arg-type]
