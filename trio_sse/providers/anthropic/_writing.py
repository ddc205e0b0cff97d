"""The Anthropic Messages request side: the assistant turn, tool results, tool declarations.

Sans-IO and synchronous: each function takes the neutral vocabulary and returns fresh plain
JSON values (dicts, lists, strings, numbers, booleans), which the caller may change (add a
``cache_control``, say) without touching the :class:`~trio_sse.providers.Message` they
came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .._turns import checked_output, error_text, own_call, schema
from .._vocabulary import (
    ContentBlock,
    Message,
    OtherBlock,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolCall,
    ToolOutput,
)
from ._reading import PROVIDER

__all__ = ["assistant_turn", "tool_declarations", "tool_results_turn", "user_turn"]


def _mapping(value: object) -> object:
    """``json.dumps``' fallback: a Mapping that is not a dict is written as one."""
    if isinstance(value, Mapping):
        return dict(cast("Mapping[str, Any]", value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain(value: object) -> Any:
    """A deep copy of ``value`` as plain JSON values (Mappings become dicts, tuples lists)."""
    return json.loads(json.dumps(value, default=_mapping, ensure_ascii=False))


def user_turn(text: str) -> list[dict[str, Any]]:
    """The user's turn that starts a conversation (or follows the assistant's):
    ``[{"role": "user", "content": text}]``.

    Example::

        messages = anthropic.user_turn("Weather in Paris?")
        messages += anthropic.assistant_turn(reply.message)
    """
    return [{"role": "user", "content": text}]


def assistant_turn(message: Message) -> list[dict[str, Any]]:
    """The entries to add to the next request's ``messages``: the assistant's turn,
    ``[{"role": "assistant", "content": [...]}]``, exactly as Anthropic takes it; ``[]``
    when the reply holds nothing Anthropic takes back (a refusal with no content, only
    whitespace text), since Anthropic refuses an empty turn.

    Each block is its ``raw`` JSON, as streamed (thinking with its signature, redacted
    thinking, ``tool_use`` with ``caller``, server and MCP tool use and their results,
    citations, compaction, fallback, and block types this version does not know), in the
    reply's order. A block built by hand (``raw`` empty) is written from its neutral
    fields: text (with its citations), thinking, redacted thinking, a ``tool_use`` (a
    ``server_tool_use`` if ``provider_executed``), an :class:`OtherBlock`'s ``data``.
    ``raw`` wins over the neutral fields when both are there: to change a streamed block,
    build a new one. A text block with no text but whitespace (and no citations) is left
    out: Anthropic streams such blocks but refuses them in a request. The reply's
    container is not in the turn: see :func:`container`.

    Raises:
        ValueError: ``message`` is another provider's (its signatures are no good here),
            or a thinking block built by hand has no signature (Anthropic refuses it).

    Example::

        messages += anthropic.assistant_turn(stream.message)
        # [{"role": "assistant", "content": [{"type": "text", "text": "Let me look."},
        #   {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "trio"}}]}]
    """
    if message.provider not in (None, PROVIDER):
        raise ValueError(
            f"a {message.provider!r} message cannot be an Anthropic turn"
            " (its signatures and block types are that provider's)"
        )
    content = [_block(block) for block in message.content if not _blank(block)]
    return [{"role": "assistant", "content": content}] if content else []


def _blank(block: ContentBlock) -> bool:
    """A text block with nothing to read: Anthropic streams them (before a tool call, say)
    but refuses them in a request (``text content blocks must be non-empty``)."""
    return isinstance(block, TextBlock) and not block.text.strip() and not block.citations


def _block(block: ContentBlock) -> dict[str, Any]:
    if block.raw:
        out = cast("dict[str, Any]", _plain(block.raw))
        if isinstance(block, OtherBlock):
            out.setdefault("type", block.type)
        return out
    if isinstance(block, TextBlock):
        text: dict[str, Any] = {"type": "text", "text": block.text}
        if block.citations:
            text["citations"] = _plain(block.citations)
        return text
    if isinstance(block, ThinkingBlock):
        if block.signature is None:
            raise ValueError(
                "a thinking block without its signature cannot go back to Anthropic"
                " (build it with the signature the reply carried, or leave it out)"
            )
        if block.redacted:
            return {"type": "redacted_thinking", "data": block.signature}
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if isinstance(block, ToolCall):
        return {
            "type": "server_tool_use" if block.provider_executed else "tool_use",
            "id": block.id,
            "name": block.name,
            "input": _plain(block.arguments),
        }
    return {"type": block.type}


def tool_results_turn(results: Iterable[tuple[ToolCall, ToolOutput]]) -> list[dict[str, Any]]:
    """The entries answering tool calls: one user turn with one ``tool_result`` block per
    pair, in order (``[]`` for no results).

    A ``str`` output is the result's text; a Mapping is sent as its JSON text; an
    exception is sent as ``"TypeName: message"`` with ``"is_error": true``, which tells
    the model the call failed. Answer every call of the assistant turn (Anthropic
    requires it), one that is not :attr:`~trio_sse.providers.ToolCall.complete` with an
    exception; provider-executed calls (server and MCP tools) have no result to send.

    Raises:
        ValueError: a call the provider executed itself, or another provider's call (its
            ``raw`` is not a ``tool_use`` block).
        TypeError: an output that is not text, a Mapping or an Exception.

    Example::

        messages += anthropic.tool_results_turn([(call, {"temperature": 21})])
        # [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
        #                                "content": "{\\"temperature\\": 21}"}]}]
    """
    content = [_result(call, output) for call, output in results]
    return [{"role": "user", "content": content}] if content else []


def _is_anthropic(call: ToolCall) -> bool:
    kind = call.raw.get("type")
    return isinstance(kind, str) and kind.endswith("tool_use")


def _result(call: ToolCall, output: ToolOutput) -> dict[str, Any]:
    own_call(call, "Anthropic", _is_anthropic)
    if call.provider_executed:
        raise ValueError(
            f"tool call {call.id!r} ({call.name}) ran on the provider's side: nothing to answer"
        )
    output = checked_output(output)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.id}
    if isinstance(output, Exception):
        block["content"] = error_text(output)
        block["is_error"] = True
    elif isinstance(output, str):
        block["content"] = output
    else:
        block["content"] = json.dumps(output, default=_mapping, ensure_ascii=False)
    return block


def tool_declarations(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The request's ``tools``: ``[{"name", "description", "input_schema"}, ...]``; an
    empty schema is declared ``{"type": "object", "properties": {}}`` (Anthropic refuses
    ``{}``).

    Example::

        request["tools"] = anthropic.tool_declarations(
            [Tool("search", "Search the web.", {"type": "object", "properties": {}})]
        )
    """
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "input_schema": schema(tool.parameters),
        }
        for tool in tools
    ]
