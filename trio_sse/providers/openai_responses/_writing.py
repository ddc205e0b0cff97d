"""Writing the next Responses request: the assistant turn, tool results, tool declarations.

Sans-IO and synchronous: each function only builds plain JSON values (dicts, lists,
strings, numbers, booleans), fresh ones the caller may change.
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

_CALL_TYPES = ("function_call", "custom_tool_call")
_RAW_TYPES: dict[type[object], tuple[str, ...]] = {
    TextBlock: ("message",),
    ThinkingBlock: ("reasoning",),
    ToolCall: _CALL_TYPES,
}
"""The item types a block's ``raw`` may be (another provider's JSON is refused)."""


def user_turn(text: str) -> list[dict[str, Any]]:
    """The user's turn: ``[{"role": "user", "content": text}]``, the items to add to
    ``input``.

    >>> user_turn("Hi")
    [{'role': 'user', 'content': 'Hi'}]
    """
    return [{"role": "user", "content": text}]


def assistant_turn(message: Message) -> list[dict[str, Any]]:
    """The assistant's turn, as the output items to add to the next request's ``input``.

    Each block goes back as its ``raw`` item (lossless: ids, ``phase``, reasoning parts
    and ``encrypted_content``, call ``namespace`` and ``caller``, unknown fields and item
    types unchanged); neighbouring blocks of one ``message`` item (same ``id``) become
    that one item again, their parts in order. A block built by hand (``raw`` empty) is
    built from its neutral fields: a text without ``id`` becomes an assistant message
    ``{"type": "message", "role": "assistant", "content": text}`` (with its ``phase``),
    one with an ``id`` an output message item; a thinking block needs its ``id``; a
    tool call becomes a ``function_call`` (``call_id`` its ``id``, ``id`` its ``item_id``).
    The items are meant for a request without ``previous_response_id``; a reply with no
    item gives ``[]``.

    >>> turn = assistant_turn(Message(content=(TextBlock("Hi"),)))
    >>> turn == [{"type": "message", "role": "assistant", "content": "Hi"}]
    True

    Raises:
        ValueError: the message is another provider's (its signatures and ids mean
            nothing here), a block's ``raw`` is not a Responses item of its kind, or a
            thinking block has no ``id``.
    """
    if message.provider not in (None, PROVIDER):
        raise ValueError(
            f"a {message.provider!r} message cannot be a {PROVIDER!r} turn:"
            " its signatures and ids are that provider's"
        )
    items: list[dict[str, Any]] = []
    for block in message.content:
        item = _item(block)
        last = items[-1] if items else None
        if last is not None and _same_message(last, item):
            last["content"] = [*last["content"], *item["content"]]
        else:
            items.append(item)
    return items


def tool_results_turn(results: Iterable[tuple[ToolCall, ToolOutput]]) -> list[dict[str, Any]]:
    """The items answering tool calls, in order, to add to ``input`` after the calls
    (``[]`` for no results).

    A call to a custom tool (its ``raw`` is a ``custom_tool_call``) is answered with a
    ``custom_tool_call_output``, any other with a ``function_call_output``; each names
    the call's ``call_id`` and ``caller`` when it had one, and a ``function_call_output``
    its ``namespace`` too (``custom_tool_call_output`` has no such field). The output is
    text: a string as it is, a mapping as JSON, an exception as ``"TypeName: message"``
    (Responses has no error flag: the model reads the text).

    >>> call = ToolCall("call_1", "add", {"a": 1}, '{"a": 1}')
    >>> tool_results_turn([(call, {"sum": 1})])
    [{'type': 'function_call_output', 'call_id': 'call_1', 'output': '{"sum":1}'}]

    Raises:
        ValueError: a call the provider executed itself (nothing to answer), or another
            provider's (its ``raw`` is not a Responses tool call).
        TypeError: an output that is not text, a Mapping or an Exception.
    """
    items: list[dict[str, Any]] = []
    for call, output in results:
        own_call(call, "Responses", _is_responses)
        custom = call.raw.get("type") == "custom_tool_call"
        if call.provider_executed:
            raise ValueError(
                f"tool call {call.id!r} ({call.name}) ran on the provider's side: nothing to answer"
            )
        answer = "custom_tool_call_output" if custom else "function_call_output"
        item: dict[str, Any] = {"type": answer, "call_id": call.id, "output": _text(output)}
        for key in ("caller",) if custom else ("namespace", "caller"):
            if call.raw.get(key) is not None:
                item[key] = _plain(call.raw[key])
        items.append(item)
    return items


def tool_declarations(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The request's ``tools``: one ``function`` tool per :class:`Tool`.

    ``strict`` is ``False``: Responses makes function tools strict by default, and strict
    mode accepts only schemas that meet its rules (every property required,
    ``additionalProperties: false``); set it to ``True`` on a declaration whose schema does.
    An empty schema is declared ``{"type": "object", "properties": {}}``.

    >>> tool_declarations([Tool("add", "Adds.", {"type": "object"})])[0]["strict"]
    False
    """
    return [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": schema(tool.parameters),
            "strict": False,
        }
        for tool in tools
    ]


# --- one block ------------------------------------------------------------------------------


def _item(block: ContentBlock) -> dict[str, Any]:
    """The output item a block goes back as (for a text part: its message, that part only)."""
    if isinstance(block, OtherBlock):
        return cast("dict[str, Any]", _plain(block.data))
    if block.raw:
        _raw_type(block)
        item = cast("dict[str, Any]", _plain(block.raw))
        if isinstance(block, ThinkingBlock):
            item.setdefault("summary", [])  # required; a compatible server may leave it out
        return item
    if isinstance(block, TextBlock):
        return _text_item(block)
    if isinstance(block, ThinkingBlock):
        return _reasoning_item(block)
    call = {"type": "function_call", "call_id": block.id, "name": block.name}
    call["arguments"] = block.raw_arguments or json.dumps(block.arguments, ensure_ascii=False)
    return call | ({"id": block.item_id} if block.item_id else {})


def _text_item(block: TextBlock) -> dict[str, Any]:
    if block.refusal:
        part: dict[str, Any] = {"type": "refusal", "refusal": block.text}
    else:
        citations = [_plain(citation) for citation in block.citations]
        part = {"type": "output_text", "text": block.text, "annotations": citations}
    item: dict[str, Any]
    if block.id is not None:
        item = {"type": "message", "id": block.id, "role": "assistant", "status": "completed"}
        item["content"] = [part]
    elif block.refusal:
        item = {"type": "message", "role": "assistant", "content": [part]}
    else:
        item = {"type": "message", "role": "assistant", "content": block.text}
    return item | ({"phase": block.phase} if block.phase is not None else {})


def _reasoning_item(block: ThinkingBlock) -> dict[str, Any]:
    if block.id is None:
        raise ValueError("a reasoning item needs its id: a ThinkingBlock without one cannot go")
    texts = block.summary or ((block.thinking,) if block.thinking else ())
    summary = [{"type": "summary_text", "text": text} for text in texts]
    item: dict[str, Any] = {"type": "reasoning", "id": block.id, "summary": summary}
    if block.signature is not None:
        item["encrypted_content"] = block.signature
    return item


def _same_message(last: dict[str, Any], item: dict[str, Any]) -> bool:
    """``item`` is more parts of the message item ``last`` (one ``id``, both listing parts)."""
    return (
        last.get("type") == item.get("type") == "message"
        and bool(last.get("id"))
        and last.get("id") == item.get("id")
        and isinstance(last.get("content"), list)
        and isinstance(item.get("content"), list)
    )


def _raw_type(block: TextBlock | ThinkingBlock | ToolCall) -> str:
    """The item type of ``block.raw`` (``""`` when empty), checked to be one of its kind's."""
    if not block.raw:
        return ""
    kind = block.raw.get("type")
    allowed = _RAW_TYPES[type(block)]
    if kind not in allowed:
        raise ValueError(
            f"a {type(block).__name__}'s raw is a {kind!r}, not a Responses {' or '.join(allowed)}"
            " item: is it another provider's?"
        )
    return str(kind)


def _is_responses(call: ToolCall) -> bool:
    return call.raw.get("type") in _CALL_TYPES


# --- values -----------------------------------------------------------------------------------


def _text(output: ToolOutput) -> str:
    output = checked_output(output)
    if isinstance(output, Exception):
        return error_text(output)
    if isinstance(output, str):
        return output
    return json.dumps(_plain(output), ensure_ascii=False, separators=(",", ":"))


def _plain(value: object) -> object:
    """``value`` as fresh plain JSON values: every mapping a dict, every sequence a list."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {str(key): _plain(item) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in cast("Iterable[object]", value)]
    return value
