"""The Chat Completions request side: the assistant turn, tool results, tool declarations.

Sans-IO and pure: each function returns fresh plain JSON (dicts, lists, strings, numbers,
bools, ``None``), none is a checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .._json import compact
from .._turns import checked_output, error_text, own_call, schema
from .._vocabulary import Message, TextBlock, ThinkingBlock, Tool, ToolCall, ToolOutput
from ._fragments import Fragments
from ._reading import LEGACY, PROVIDER

__all__ = ["assistant_turn", "tool_declarations", "tool_results_turn", "user_turn"]

_OUTPUT_ONLY = frozenset({"role", "annotations"})  # message fields a request does not take
_REASONING = ("reasoning_content", "reasoning")


def user_turn(text: str) -> list[dict[str, Any]]:
    """The user's turn: ``[{"role": "user", "content": text}]``, to add to ``messages``.

    ::

        messages = openai_chat.user_turn("Weather in Paris?")
    """
    return [{"role": "user", "content": text}]


def assistant_turn(message: Message, *, include_reasoning: bool = True) -> list[dict[str, Any]]:
    """The entries to add to the next request's ``messages``: ``[assistant message]``,
    exactly as the server streamed it (one message even for an empty reply, with
    ``content`` ``""``, which Chat Completions takes).

    ::

        messages += openai_chat.assistant_turn(reply.message)
        messages += openai_chat.tool_results_turn(results)

    Built from each block's ``raw`` (joined in order: ``content``, ``refusal``,
    ``reasoning_content``/``reasoning``, ``reasoning_details`` merged by ``index``,
    ``tool_calls`` each whole with its ``extra_content``, the legacy ``function_call``)
    and the fields of ``Message.raw["message"]`` no block holds (unknown ones included),
    less what only a response has: ``annotations``, and ``audio`` but its ``id``. A
    block built by hand (``raw`` empty) is written from its neutral fields (a
    :class:`ThinkingBlock` as ``reasoning_content``). ``content`` is ``""`` when there is
    nothing else to send. A call that is not :attr:`~ToolCall.complete` (a partial message,
    a reply cut by ``max_tokens``) goes back as it was streamed: check it first.

    Args:
        message: a reply of this provider's, or one built by hand (``provider`` None).
        include_reasoning: ``False`` leaves out ``reasoning_content`` and ``reasoning``,
            for servers that reject them (Groq, Cerebras); signatures
            (``reasoning_details``, ``extra_content``) stay.

    Raises:
        ValueError: ``message`` is another provider's (its signatures must not go to
            this one), or holds an :class:`OtherBlock`, which Chat Completions has no
            form for.
    """
    if message.provider not in (None, PROVIDER):
        raise ValueError(
            f"a {message.provider!r} message cannot be an openai-chat turn: its signatures"
            " and ids belong to that provider"
        )
    turn = Fragments()
    leftovers = _plain(message.raw.get("message"))  # the fields no block holds
    if not isinstance(leftovers, dict):
        leftovers = {}
    for key, value in cast("dict[str, Any]", leftovers).items():
        if key == "audio" and isinstance(value, Mapping) and "id" in value:
            turn.merge_field("audio", {"id": value["id"]})
        elif key not in _OUTPUT_ONLY and key != "audio":
            turn.merge_field(key, value)
    tool_calls: list[Any] = []
    for block in message.content:
        if isinstance(block, ToolCall):
            if is_legacy(block):
                turn.merge_field("function_call", _plain(block.raw))
            else:
                tool_calls.append(_tool_call(block))
        elif isinstance(block, TextBlock):
            key = "refusal" if block.refusal else "content"
            turn.merge(_plain(block.raw) or {key: block.text})
        elif isinstance(block, ThinkingBlock):
            turn.merge(_plain(block.raw) or {"reasoning_content": block.thinking})
        else:
            raise ValueError(  # noqa: TRY004 (a value this provider has no form for)
                f"an OtherBlock ({block.type!r}) has no Chat Completions form"
            )
    fields = turn.value()
    if not include_reasoning:
        for key in _REASONING:
            fields.pop(key, None)
    if tool_calls:
        fields["tool_calls"] = tool_calls
    elif "content" not in fields and LEGACY not in fields:
        fields["content"] = ""
    return [{"role": "assistant", **fields}]


def tool_results_turn(results: Iterable[tuple[ToolCall, ToolOutput]]) -> list[dict[str, Any]]:
    """The messages that answer tool calls, one per call, in order, to add after the
    assistant turn (``[]`` for no results).

    ::

        results = [(call, run(call)) for call in reply.message.tool_calls]
        messages += openai_chat.tool_results_turn(results)

    Each is ``{"role": "tool", "tool_call_id": call.id, "content": text}`` (a legacy
    ``function_call``: ``{"role": "function", "name": ..., "content": ...}``). A ``str``
    output is the text; a Mapping is its JSON. Chat Completions has no error flag: an
    exception is sent as the text ``"TypeName: message"``, which the model reads as the
    tool's answer.

    Raises:
        ValueError: a call has no ``id`` to answer (and is no legacy function call), or
            is another provider's (its ``raw`` is not a ``tool_calls`` entry).
        TypeError: an output that is not text, a Mapping or an Exception, or a Mapping
            that is not JSON-serializable.
    """
    turn: list[dict[str, Any]] = []
    for call, output in results:
        own_call(call, "Chat Completions", _is_chat)
        content = _output_text(output)
        if is_legacy(call):
            turn.append({"role": "function", "name": call.name, "content": content})
        elif not call.id:
            raise ValueError(f"tool call {call.name!r} has no id to answer with")
        else:
            turn.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return turn


def tool_declarations(tools: Iterable[Tool]) -> list[dict[str, Any]]:
    """The value of the request's ``tools`` field: one function tool per :class:`Tool`.

    ::

        weather = Tool("weather", "The weather in a city.", {"type": "object", ...})
        body = {"model": ..., "messages": messages, "tools": tool_declarations([weather])}

    Each is ``{"type": "function", "function": {"name", "description", "parameters"}}``;
    an empty schema is declared ``{"type": "object", "properties": {}}``.
    """
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": schema(tool.parameters),
            },
        }
        for tool in tools
    ]


def is_legacy(call: ToolCall) -> bool:
    """``call`` came from the deprecated ``delta.function_call`` (its raw JSON is
    ``{"name", "arguments"}``, not a ``tool_calls`` entry)."""
    raw = call.raw
    return bool(raw) and "name" in raw and not raw.keys() & {"id", "type", "function", "custom"}


def _tool_call(call: ToolCall) -> dict[str, Any]:
    if call.raw:
        return {key: value for key, value in _plain(call.raw).items() if key != "index"}
    arguments = call.raw_arguments or compact(_plain(call.arguments))
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def _is_chat(call: ToolCall) -> bool:
    """``call.raw`` is a ``tool_calls`` entry (or a legacy ``function_call``)."""
    entry = call.raw.get("function", call.raw.get("custom"))
    return is_legacy(call) or isinstance(entry, Mapping)


def _output_text(output: ToolOutput) -> str:
    output = checked_output(output)
    if isinstance(output, str):
        return output
    if isinstance(output, Exception):
        return error_text(output)
    return json.dumps(_plain(output), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """``value`` as fresh plain JSON: Mappings as dicts, tuples and lists as lists."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        return {str(key): _plain(item) for key, item in mapping.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in cast("Iterable[object]", value)]
    return value
