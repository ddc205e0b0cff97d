"""The next request's turns, sans-IO: the model's turn from a :class:`Message`, the tool
results, the tool declarations; plain JSON values (dicts, lists, strings, numbers, bools)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

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

__all__ = ["assistant_turn", "tool_declarations", "tool_results_turn"]


def assistant_turn(message: Message) -> dict[str, Any]:
    """The ``model`` Content that sends ``message`` back in the next request's ``contents``.

    Each block is one part: its ``raw`` (the part as streamed, every field kept, each
    ``thoughtSignature`` on the part that carried it), or, for a block built by hand
    (``raw`` empty), a part made from its neutral fields. The ``"promptFeedback"`` block
    of a blocked prompt is not a part and is left out. A call with ``complete=False`` goes
    back as it was streamed (with ``args`` only if they parse): leave it out, or the whole
    message, rather than answer it. A new value each call: changing it changes nothing in
    ``message``.

    >>> from trio_sse.providers import Message, TextBlock
    >>> assistant_turn(Message(content=(TextBlock("Hi", signature="c2ln"),)))
    {'role': 'model', 'parts': [{'text': 'Hi', 'thoughtSignature': 'c2ln'}]}

    Raises:
        ValueError: ``message`` is another provider's (its signatures would be refused,
            or worse, misread), or holds a redacted thinking block (Gemini has none).
    """
    if message.provider not in (None, PROVIDER):
        raise ValueError(
            f"a {message.provider!r} message cannot be sent to Gemini: its signatures and"
            " blocks are that provider's; build the turn with that provider's module"
        )
    parts = [_part(block) for block in message.content if not _is_feedback(block)]
    return {"role": "model", "parts": parts}


def tool_results_turn(results: Iterable[tuple[ToolCall, ToolOutput]]) -> dict[str, Any]:
    """The ``user`` Content answering tool calls: one ``functionResponse`` part per call,
    in the order given, with the call's ``id`` (when it had one) and ``name``.

    The output goes in ``response`` as Google documents: ``{"output": ...}`` for text or
    a JSON object, ``{"error": "<ExceptionType>: <message>"}`` for an exception.

    >>> from trio_sse.providers import ToolCall
    >>> call = ToolCall("c1", "weather", {"city": "Paris"}, '{"city":"Paris"}')
    >>> turn = tool_results_turn([(call, {"celsius": 21})])
    >>> turn["role"], turn["parts"][0]["functionResponse"]
    ('user', {'id': 'c1', 'name': 'weather', 'response': {'output': {'celsius': 21}}})

    Raises:
        ValueError: no results (Gemini refuses a turn without parts).
        TypeError: an output that is not text, a mapping or an exception.
    """
    parts = [{"functionResponse": _function_response(call, out)} for call, out in results]
    if not parts:
        raise ValueError("no tool results: a Gemini turn needs at least one part")
    return {"role": "user", "parts": parts}


def tool_declarations(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The request's ``tools`` value declaring ``tools``: one ``functionDeclarations``
    entry, each schema as ``parametersJsonSchema`` (full JSON Schema; ``parameters``
    takes only Google's OpenAPI subset). No tools give ``[]``.

    >>> from trio_sse.providers import Tool
    >>> (tools,) = tool_declarations([Tool("now", "The time.", {"type": "object"})])
    >>> tools["functionDeclarations"]
    [{'name': 'now', 'description': 'The time.', 'parametersJsonSchema': {'type': 'object'}}]
    """
    declarations = [
        {
            "name": tool.name,
            "description": tool.description,
            "parametersJsonSchema": _plain(tool.parameters),
        }
        for tool in tools
    ]
    return [{"functionDeclarations": declarations}] if declarations else []


# --- parts --------------------------------------------------------------------------------


def _is_feedback(block: ContentBlock) -> bool:
    return isinstance(block, OtherBlock) and block.type == "promptFeedback"


def _part(block: ContentBlock) -> dict[str, Any]:
    """One block as a part: its raw JSON, or one made from its neutral fields."""
    if isinstance(block, OtherBlock):
        return _object(block.data)
    if block.raw:
        return _object(block.raw)
    part: dict[str, Any]
    if isinstance(block, TextBlock):
        part = {"text": block.text}
    elif isinstance(block, ThinkingBlock):
        if block.redacted:
            raise ValueError("a redacted thinking block cannot be sent to Gemini (it has none)")
        part = {"text": block.thinking, "thought": True}
    else:
        call: dict[str, Any] = {"id": block.id} if block.id else {}
        call |= {"name": block.name, "args": _plain(block.arguments)}
        part = {"functionCall": call}
    if block.signature is not None:
        part["thoughtSignature"] = block.signature
    return part


def _function_response(call: ToolCall, output: ToolOutput) -> dict[str, Any]:
    value = cast(object, output)  # checked at run time too: a caller may pass anything
    response: dict[str, Any]
    if isinstance(value, BaseException):
        response = {"error": f"{type(value).__name__}: {value}"}
    elif isinstance(value, str):
        response = {"output": value}
    elif isinstance(value, Mapping):
        response = {"output": _object(cast("Mapping[str, Any]", value))}
    else:
        raise TypeError(f"a tool output is text, a mapping or an exception, not {value!r}")
    return ({"id": call.id} if call.id else {}) | {"name": call.name, "response": response}


def _object(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object copied as plain values (see :func:`_plain`)."""
    return {str(key): _plain(item) for key, item in value.items()}


def _plain(value: Any) -> Any:
    """``value`` copied as plain JSON values: mappings as dicts, sequences as lists.

    Raises:
        TypeError: something that is not a JSON value.
    """
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return _object(cast("Mapping[str, Any]", value))
    if isinstance(value, list | tuple):
        return [_plain(item) for item in cast("Iterable[Any]", value)]
    raise TypeError(f"not a JSON value: {value!r}")
