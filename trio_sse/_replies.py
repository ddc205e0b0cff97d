"""Provider replies as their real SSE bytes, built from neutral values; for tests.

The inverse of the interpreters in :mod:`trio_sse.providers`: a
:class:`~trio_sse.providers.Message` of text, thinking, tool calls, usage and a stop
reason goes in; the events the provider would stream for it come out, one ``bytes`` per
SSE event, shaped as the provider really sends them (the recordings in the project's
fixtures were the model). Text, thinking and tool arguments are cut into deltas of
``delta_size`` characters. Interpreting the bytes gives the message back (the tests check
that as a property).

Sans-IO, synchronous, no Trio: the events can go into a
:class:`~trio_sse.testing.ScriptedResponse` body, a real server, or a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Final

from .providers._json import compact
from .providers._request import ProviderName
from .providers._vocabulary import (
    Message,
    TextBlock,
    ThinkingBlock,
    ToolCall,
    Usage,
)

__all__ = ["provider_reply"]

_MODEL: Final = "test-model"


def provider_reply(
    provider: ProviderName, message: Message, *, delta_size: int = 16
) -> list[bytes]:
    """The SSE events ``provider`` would stream for ``message``, one ``bytes`` each.

    ``message.stop_reason`` ``None`` means the provider's own end of a turn: a tool call's
    stop reason when the message holds a call, the plain end otherwise. ``id`` and
    ``model`` ``None`` are filled in. Blocks a provider cannot carry raise
    :class:`ValueError` (OpenAI Chat has one text and one thinking part: no text after a
    tool call); :class:`~trio_sse.providers.OtherBlock` goes out as its ``data``, for the
    providers with blocks or items of their own kind.

    Raises:
        ValueError: an unknown provider, a ``delta_size`` below 1, or a message the
            provider's stream cannot carry.
    """
    if delta_size < 1:
        raise ValueError(f"delta_size must be 1 or more, got {delta_size}")
    encoders: dict[str, Callable[[Message, int], Iterator[str]]] = {
        "anthropic": _anthropic,
        "openai-chat": _openai_chat,
        "openai-responses": _openai_responses,
        "gemini": _gemini,
    }
    encode = encoders.get(provider)
    if encode is None:
        raise ValueError(f"unknown provider {provider!r}")
    return [text.encode() for text in encode(message, delta_size)]


def _cut(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _arguments(call: ToolCall) -> str:
    return call.raw_arguments or compact(dict(call.arguments))


def _event(kind: str | None, data: object) -> str:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = "" if kind is None else f"event: {kind}\n"
    return f"{head}data: {payload}\n\n"


# --- Anthropic -----------------------------------------------------------------------------


def _anthropic(message: Message, size: int) -> Iterator[str]:
    def event(kind: str, **fields: Any) -> str:
        return _event(kind, {"type": kind, **fields})

    usage = message.usage or Usage()
    start_usage: dict[str, Any] = {"input_tokens": usage.input_tokens, "output_tokens": 0}
    for name in ("cache_read_input_tokens", "cache_creation_input_tokens"):
        if getattr(usage, name) is not None:
            start_usage[name] = getattr(usage, name)
    yield event(
        "message_start",
        message={
            "id": message.id or "msg_test",
            "type": "message",
            "role": "assistant",
            "model": message.model or _MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        },
    )
    yield event("ping")
    for index, block in enumerate(message.content):
        if isinstance(block, TextBlock):
            yield event(
                "content_block_start", index=index, content_block={"type": "text", "text": ""}
            )
            for part in _cut(block.text, size):
                yield event(
                    "content_block_delta", index=index, delta={"type": "text_delta", "text": part}
                )
        elif isinstance(block, ThinkingBlock) and block.redacted:
            data = {"type": "redacted_thinking", "data": block.signature or ""}
            yield event("content_block_start", index=index, content_block=data)
        elif isinstance(block, ThinkingBlock):
            start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            yield event("content_block_start", index=index, content_block=start)
            for part in _cut(block.thinking, size):
                delta = {"type": "thinking_delta", "thinking": part}
                yield event("content_block_delta", index=index, delta=delta)
            if block.signature is not None:
                delta = {"type": "signature_delta", "signature": block.signature}
                yield event("content_block_delta", index=index, delta=delta)
        elif isinstance(block, ToolCall):
            kind = "server_tool_use" if block.provider_executed else "tool_use"
            start = {"type": kind, "id": block.id, "name": block.name, "input": {}}
            yield event("content_block_start", index=index, content_block=start)
            for part in _cut(_arguments(block), size):
                delta = {"type": "input_json_delta", "partial_json": part}
                yield event("content_block_delta", index=index, delta=delta)
        else:
            yield event("content_block_start", index=index, content_block=dict(block.data))
        yield event("content_block_stop", index=index)
    stop = message.stop_reason or ("tool_use" if message.tool_calls else "end_turn")
    yield event(
        "message_delta",
        delta={"stop_reason": stop, "stop_sequence": None},
        usage={"output_tokens": usage.output_tokens},
    )
    yield event("message_stop")


# --- OpenAI Chat Completions ---------------------------------------------------------------


def _openai_chat(message: Message, size: int) -> Iterator[str]:
    head = {
        "id": message.id or "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": message.model or _MODEL,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _event(None, {**head, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""})
    calls = 0
    for block in message.content:
        if isinstance(block, ToolCall):
            start = {"index": calls, "id": block.id, "type": "function"}
            yield chunk(
                {"tool_calls": [{**start, "function": {"name": block.name, "arguments": ""}}]}
            )
            for part in _cut(_arguments(block), size):
                yield chunk({"tool_calls": [{"index": calls, "function": {"arguments": part}}]})
            calls += 1
            continue
        if calls:
            raise ValueError("OpenAI Chat streams no text or thinking after a tool call")
        if isinstance(block, TextBlock):
            key = "refusal" if block.refusal else "content"
            for part in _cut(block.text, size):
                yield chunk({key: part})
        elif isinstance(block, ThinkingBlock):
            for part in _cut(block.thinking, size):
                yield chunk({"reasoning_content": part})
        else:
            raise ValueError(f"OpenAI Chat has no block of type {block.type!r}")  # noqa: TRY004
    yield chunk({}, message.stop_reason or ("tool_calls" if calls else "stop"))
    if message.usage is not None:
        counts = _openai_usage(message.usage, "prompt", "completion")
        yield _event(None, {**head, "choices": [], "usage": counts})
    yield "data: [DONE]\n\n"


def _openai_usage(usage: Usage, prompt: str, completion: str) -> dict[str, Any]:
    """OpenAI's usage object: Chat names its counts ``prompt`` / ``completion``, Responses
    ``input`` / ``output``; the rest is alike."""
    counts: dict[str, Any] = {
        f"{prompt}_tokens": usage.input_tokens,
        f"{completion}_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_input_tokens is not None:
        counts[f"{prompt}_tokens_details"] = {"cached_tokens": usage.cache_read_input_tokens}
    if usage.reasoning_tokens is not None:
        counts[f"{completion}_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return counts


# --- OpenAI Responses ----------------------------------------------------------------------


def _openai_responses(message: Message, size: int) -> Iterator[str]:
    sequence = 0

    def event(kind: str, **fields: Any) -> str:
        nonlocal sequence
        sequence += 1
        return _event(kind, {"type": kind, "sequence_number": sequence - 1, **fields})

    response: dict[str, Any] = {
        "id": message.id or "resp_test",
        "object": "response",
        "created_at": 0,
        "status": "in_progress",
        "model": message.model or _MODEL,
        "output": [],
    }
    yield event("response.created", response=response)
    output: list[dict[str, Any]] = []
    for block in message.content:
        at = len(output)
        if isinstance(block, TextBlock):
            key = "refusal" if block.refusal else "text"
            kind = "refusal" if block.refusal else "output_text"
            part: dict[str, Any] = {"type": kind, key: ""}
            if not block.refusal:
                part["annotations"] = []
            item: dict[str, Any] = {
                "id": block.id or f"msg_{at}",
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            if block.phase is not None:
                item["phase"] = block.phase
            yield event("response.output_item.added", output_index=at, item=item)
            where = {"item_id": item["id"], "output_index": at, "content_index": 0}
            yield event("response.content_part.added", **where, part=part)
            delta_kind = "response.refusal.delta" if block.refusal else "response.output_text.delta"
            for piece in _cut(block.text, size):
                yield event(delta_kind, **where, delta=piece)
            done_kind = "response.refusal.done" if block.refusal else "response.output_text.done"
            yield event(done_kind, **where, **{key: block.text})
            part = {**part, key: block.text}
            yield event("response.content_part.done", **where, part=part)
            item = {**item, "status": "completed", "content": [part]}
        elif isinstance(block, ThinkingBlock):
            item = {"id": block.id or f"rs_{at}", "type": "reasoning", "summary": []}
            yield event("response.output_item.added", output_index=at, item=item)
            summary = block.summary or ((block.thinking,) if block.thinking else ())
            for index, text in enumerate(summary):
                where = {"item_id": item["id"], "output_index": at, "summary_index": index}
                empty = {"type": "summary_text", "text": ""}
                yield event("response.reasoning_summary_part.added", **where, part=empty)
                for piece in _cut(text, size):
                    yield event("response.reasoning_summary_text.delta", **where, delta=piece)
                yield event("response.reasoning_summary_text.done", **where, text=text)
                full = {"type": "summary_text", "text": text}
                yield event("response.reasoning_summary_part.done", **where, part=full)
            item = {**item, "summary": [{"type": "summary_text", "text": t} for t in summary]}
            if block.signature is not None:
                item["encrypted_content"] = block.signature
        elif isinstance(block, ToolCall):
            arguments = _arguments(block)
            item = {
                "id": block.item_id or f"fc_{at}",
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": block.id,
                "name": block.name,
            }
            yield event("response.output_item.added", output_index=at, item=item)
            where = {"item_id": item["id"], "output_index": at}
            for piece in _cut(arguments, size):
                yield event("response.function_call_arguments.delta", **where, delta=piece)
            yield event("response.function_call_arguments.done", **where, arguments=arguments)
            item = {**item, "status": "completed", "arguments": arguments}
        else:
            item = dict(block.data)
            yield event("response.output_item.added", output_index=at, item=item)
        yield event("response.output_item.done", output_index=at, item=item)
        output.append(item)
    final: dict[str, Any] = {**response, "output": output}
    stop = message.stop_reason or "completed"
    if stop == "completed":
        final["status"] = "completed"
        kind = "response.completed"
    else:
        final["status"] = "incomplete"
        final["incomplete_details"] = {"reason": stop}
        kind = "response.incomplete"
    if message.usage is not None:
        final["usage"] = _openai_usage(message.usage, "input", "output")
    yield event(kind, response=final)


# --- Gemini --------------------------------------------------------------------------------


def _gemini(message: Message, size: int) -> Iterator[str]:
    head = {"modelVersion": message.model or _MODEL, "responseId": message.id or "gemini-test"}

    def chunk(parts: list[dict[str, Any]], **extra: Any) -> str:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        usage = extra.pop("usageMetadata", None)
        body = {"candidates": [{**candidate, **extra}], **head}
        return _event(None, body if usage is None else {**body, "usageMetadata": usage})

    for block in message.content:
        if isinstance(block, TextBlock | ThinkingBlock):
            text = block.text if isinstance(block, TextBlock) else block.thinking
            flag = {"thought": True} if isinstance(block, ThinkingBlock) else {}
            if block.signature is not None:  # a signed part is never cut: it goes whole
                yield chunk([{"text": text, **flag, "thoughtSignature": block.signature}])
                continue
            for piece in _cut(text, size):
                yield chunk([{"text": piece, **flag}])
        elif isinstance(block, ToolCall):
            call: dict[str, Any] = {"name": block.name, "args": dict(block.arguments)}
            if block.id:
                call["id"] = block.id
            part: dict[str, Any] = {"functionCall": call}
            if block.signature is not None:
                part["thoughtSignature"] = block.signature
            yield chunk([part])
        else:
            yield chunk([dict(block.data)])
    usage = message.usage or Usage()
    metadata: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - (usage.reasoning_tokens or 0),
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens is not None:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cache_read_input_tokens is not None:
        metadata["cachedContentTokenCount"] = usage.cache_read_input_tokens
    yield chunk([], finishReason=message.stop_reason or "STOP", usageMetadata=metadata)
