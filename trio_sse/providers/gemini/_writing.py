"""The next request's turns, sans-IO: the model's turn from a :class:`Message`, the tool
results, the tool declarations; plain JSON values (dicts, lists, strings, numbers, bools)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from .._turns import EMPTY_SCHEMA, checked_output, error_text, own_call
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


def user_turn(text: str) -> list[dict[str, Any]]:
    """The user's turn, as the entries to add to ``contents``:
    ``[{"role": "user", "parts": [{"text": text}]}]``.

    >>> user_turn("Hi")
    [{'role': 'user', 'parts': [{'text': 'Hi'}]}]
    """
    return [{"role": "user", "parts": [{"text": text}]}]


def assistant_turn(message: Message) -> list[dict[str, Any]]:
    """The entries that send ``message`` back in the next request's ``contents``: one
    ``model`` Content, ``[{"role": "model", "parts": [...]}]``, or ``[]`` when the reply
    has no part to send (a ``SAFETY`` stop, a blocked prompt): Gemini refuses a Content
    without parts.

    Each block is one part: its ``raw`` (the part as streamed, every field kept, each
    ``thoughtSignature`` on the part that carried it), or, for a block built by hand
    (``raw`` empty), a part made from its neutral fields. The ``"promptFeedback"`` block
    of a blocked prompt is not a part and is left out. A call with ``complete=False`` goes
    back as it was streamed (with ``args`` only if they parse): answer it with an
    exception, as every call (Gemini wants as many ``functionResponse`` parts as
    ``functionCall`` parts). A new value each call: changing it changes nothing in
    ``message``.

    >>> from trio_sse.providers import Message, TextBlock
    >>> assistant_turn(Message(content=(TextBlock("Hi", signature="c2ln"),)))
    [{'role': 'model', 'parts': [{'text': 'Hi', 'thoughtSignature': 'c2ln'}]}]

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
    return [{"role": "model", "parts": parts}] if parts else []


def tool_results_turn(results: Iterable[tuple[ToolCall, ToolOutput]]) -> list[dict[str, Any]]:
    """The entries answering tool calls: one ``user`` Content with one
    ``functionResponse`` part per call, in the order given, with the call's ``id`` (when
    it had one) and ``name``; ``[]`` for no results. Answer every call of the turn, one
    that is not complete with an exception: Gemini wants as many ``functionResponse``
    parts as the turn had ``functionCall`` parts.

    The output goes in ``response`` as Google documents: ``{"output": ...}`` for text or
    a JSON object, ``{"error": "TypeName: message"}`` for an exception.

    >>> from trio_sse.providers import ToolCall
    >>> call = ToolCall("c1", "weather", {"city": "Paris"}, '{"city":"Paris"}')
    >>> (turn,) = tool_results_turn([(call, {"celsius": 21})])
    >>> turn["role"], turn["parts"][0]["functionResponse"]
    ('user', {'id': 'c1', 'name': 'weather', 'response': {'output': {'celsius': 21}}})

    Raises:
        ValueError: another provider's call (its ``raw`` is not a ``functionCall`` part).
        TypeError: an output that is not text, a Mapping or an Exception.
    """
    parts = [{"functionResponse": _function_response(call, out)} for call, out in results]
    return [{"role": "user", "parts": parts}] if parts else []


def tool_declarations(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The request's ``tools`` value declaring ``tools``: one ``functionDeclarations``
    entry, each schema as ``parametersJsonSchema`` (full JSON Schema; ``parameters``
    takes only Google's OpenAPI subset); an empty schema is declared ``{"type": "object",
    "properties": {}}``. No tools give ``[]``.

    >>> from trio_sse.providers import Tool
    >>> (tools,) = tool_declarations([Tool("now", "The time.", {"type": "object"})])
    >>> tools["functionDeclarations"]
    [{'name': 'now', 'description': 'The time.', 'parametersJsonSchema': {'type': 'object'}}]
    """
    declarations = [
        {
            "name": tool.name,
            "description": tool.description,
            "parametersJsonSchema": _plain(tool.parameters or EMPTY_SCHEMA),
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
    own_call(call, "Gemini", _is_gemini)
    value = checked_output(output)  # checked at run time: a caller may pass anything
    response: dict[str, Any]
    if isinstance(value, Exception):
        response = {"error": error_text(value)}
    elif isinstance(value, str):
        response = {"output": value}
    else:
        response = {"output": _object(value)}
    return ({"id": call.id} if call.id else {}) | {"name": call.name, "response": response}


def _is_gemini(call: ToolCall) -> bool:
    return "functionCall" in call.raw


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
