"""The OpenAI Chat Completions stream (and compatible servers), interpreted. Sans-IO.

Feed :class:`Interpreter` every SSE event of one ``POST /v1/chat/completions`` stream
(``"stream": true``), in order: OpenAI's, and the compatible ones of DeepSeek, Groq,
xAI and others. It returns the neutral events each one carried and keeps the
:class:`~trio_sse.providers.Message` so far.

What it does with each part of the format:

- Events are data-only chunks; ``data: [DONE]`` is the terminator: every tool call not
  yet ended ends, then a :class:`MessageStop`, then :attr:`done`. Events after it are
  logged and ignored. EOF before it is an incomplete stream.
- ``id`` and ``model``: the first non-empty value the chunks carry. The first chunk gives
  a :class:`MessageStart`.
- One reply: with ``n > 1`` the chunks interleave several choices, but a
  :class:`Message` is one reply, so only the choice with ``index`` 0 is interpreted; the
  others are ignored (logged once). Ask for one choice per stream to get them all.
- ``delta.content`` grows a :class:`TextBlock`, ``delta.refusal`` a ``TextBlock`` with
  ``refusal=True``, ``delta.reasoning_content`` (DeepSeek, xAI) or ``delta.reasoning``
  (Groq; used only when ``reasoning_content`` is absent, as some servers send both) a
  :class:`ThinkingBlock`. A new block starts whenever the kind changes; the stream
  events' ``index`` is the block's position in ``Message.content``.
- ``delta.tool_calls[]`` fragments are merged by their ``index`` (any integer: some
  servers start at 1; a fragment without one takes its place in the list). ``id``,
  ``type`` and ``function.name`` are set once, by the first non-empty value (servers that
  repeat them must not produce ``"callcall"``); only ``function.arguments`` is joined.
  :class:`ToolCallStart` comes once the name is known; ``finish_reason`` (or ``[DONE]``)
  ends every tool call, whose arguments are then parsed (``{}`` if empty or unparseable,
  ``raw_arguments`` kept).
- ``finish_reason`` is the ``stop_reason``. ``usage`` (on a chunk with empty ``choices``
  or on the last one) keeps the last non-null value: chunks without usage never wipe it.
  ``prompt_tokens`` -> ``input_tokens``, ``completion_tokens`` -> ``output_tokens``,
  ``prompt_tokens_details.cached_tokens`` -> ``cache_read_input_tokens``,
  ``completion_tokens_details.reasoning_tokens`` -> ``reasoning_tokens``.
- A chunk with a top-level ``error`` (even beside ``choices``), or an ``event: error``,
  raises :class:`APIStreamError` (``error.type``, else ``error.code``).

A field of the wrong JSON type raises :class:`MalformedEventError`; unknown fields are
logged at DEBUG on ``trio_sse.providers`` and ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from httpx_sse import ServerSentEvent

from ._base import BaseInterpreter, logger
from ._errors import APIStreamError
from ._json import (
    Malformed,
    get_int,
    get_list,
    get_object,
    get_str,
    load_object,
    objects,
    parse_arguments,
)
from ._vocabulary import (
    MessageStop,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
)

__all__ = ["Interpreter"]

PROVIDER = "openai-chat"

_CHUNK_FIELDS = {"id", "object", "created", "model", "choices", "usage", "error"}
_CHUNK_FIELDS.update(("system_fingerprint", "service_tier"))
_DELTA_FIELDS = {"role", "content", "refusal", "reasoning_content", "reasoning", "tool_calls"}


def _log_unknown(where: str, obj: Mapping[str, Any], known: set[str]) -> None:
    if logger.isEnabledFor(logging.DEBUG) and obj.keys() - known:
        logger.debug("openai-chat: %s: unknown fields %s", where, sorted(obj.keys() - known))


@dataclass(slots=True)
class _Text:
    kind: str  # "text", "refusal" or "thinking": a new block starts when it changes
    parts: list[str] = field(default_factory=list[str])

    def snapshot(self) -> TextBlock | ThinkingBlock:
        text = "".join(self.parts)
        return (
            ThinkingBlock(text)
            if self.kind == "thinking"
            else TextBlock(text, self.kind == "refusal")
        )


@dataclass(slots=True)
class _Tool:
    id: str = ""
    type: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list[str])
    started: bool = False  # ToolCallStart sent (once the name is known)
    call: ToolCall | None = None  # set when the call ends

    def snapshot(self) -> ToolCall:
        if self.call is not None:
            return self.call
        raw = "".join(self.parts)
        return ToolCall(self.id, self.name, parse_arguments(raw), raw)


_Block: TypeAlias = _Text | _Tool


class Interpreter(BaseInterpreter[_Block]):
    """Chat Completions chunks in, neutral stream events out. One per stream."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "[DONE]"

    def __init__(self) -> None:
        super().__init__()
        self._tools: dict[int, int] = {}  # the tool call's index -> position in content
        self._other_choices_seen = False

    # --- chunks ---------------------------------------------------------------------

    def _feed(self, event: ServerSentEvent) -> None:
        self._emit(*self._chunk(event))

    def _chunk(self, event: ServerSentEvent) -> list[StreamEvent]:
        if event.event == "error":
            raise self._api_error(event, None)
        if event.data.strip() == "[DONE]":
            ending = self._end_tool_calls()
            self._done = True
            return [*ending, MessageStop(self._stop_reason, self.message)]
        if not event.data.strip():
            logger.debug("openai-chat: empty event ignored")
            return []
        chunk = load_object(event.data)
        if chunk.get("error") is not None:
            raise self._api_error(event, chunk)
        _log_unknown("chunk", chunk, _CHUNK_FIELDS)
        events: list[StreamEvent] = []
        self._id = self._id or get_str(chunk, "id", "chunk") or None
        self._model = self._model or get_str(chunk, "model", "chunk") or None
        self._start()
        for choice in objects(get_list(chunk, "choices", "chunk"), "choice"):
            if (get_int(choice, "index", "choice") or 0) == 0:
                events.extend(self._choice(choice))
            elif not self._other_choices_seen:
                self._other_choices_seen = True
                logger.debug("openai-chat: choices other than index 0 (n > 1) are ignored")
        usage = get_object(chunk, "usage", "chunk")
        if usage is not None:
            self._usage = _usage(usage)
            events.append(UsageUpdate(self._usage))
        return events

    def _api_error(self, event: ServerSentEvent, chunk: dict[str, Any] | None) -> APIStreamError:
        if chunk is None:
            try:
                chunk = load_object(event.data)
            except Malformed:  # an error is an error, JSON or not
                chunk = {"message": event.data[:200]}
        error: Any = chunk.get("error", chunk)
        if not isinstance(error, dict):
            error = {"message": str(error)}
        error = cast("dict[str, Any]", error)
        kind = error.get("type") or error.get("code")
        text = error.get("message")
        return APIStreamError(
            provider=PROVIDER,
            partial=self.message,
            error_type="" if kind is None else str(kind),
            error_message=text if isinstance(text, str) else json.dumps(error)[:200],
        )

    def _choice(self, choice: dict[str, Any]) -> list[StreamEvent]:
        delta = get_object(choice, "delta", "choice") or {}
        _log_unknown("delta", delta, _DELTA_FIELDS)
        events: list[StreamEvent] = []
        reasoning = delta.get("reasoning_content")
        if reasoning is None:
            reasoning = delta.get("reasoning")
        if isinstance(reasoning, str):
            events.extend(self._append("thinking", reasoning))
        elif reasoning is not None:
            logger.debug("openai-chat: reasoning of type %s ignored", type(reasoning).__name__)
        events.extend(self._append("text", get_str(delta, "content", "delta") or ""))
        events.extend(self._append("refusal", get_str(delta, "refusal", "delta") or ""))
        fragments = objects(get_list(delta, "tool_calls", "delta"), "tool call")
        for order, fragment in enumerate(fragments):
            events.extend(self._tool_fragment(order, fragment))
        finish_reason = get_str(choice, "finish_reason", "choice")
        if finish_reason:
            self._stop_reason = finish_reason
            events.extend(self._end_tool_calls())
        return events

    def _append(self, kind: str, text: str) -> list[StreamEvent]:
        if not text:
            return []
        last = self._blocks[-1] if self._blocks else None
        if not (isinstance(last, _Text) and last.kind == kind):
            last = _Text(kind)
            self._blocks.append(last)
        last.parts.append(text)
        position = len(self._blocks) - 1
        if kind == "thinking":
            return [ThinkingDelta(position, text)]
        return [TextDelta(position, text, refusal=kind == "refusal")]

    def _tool_fragment(self, order: int, fragment: dict[str, Any]) -> list[StreamEvent]:
        index = get_int(fragment, "index", "tool_call")
        index = order if index is None else index
        function = get_object(fragment, "function", "tool_call") or {}
        call_id, kind = get_str(fragment, "id", "tool_call"), get_str(fragment, "type", "tool_call")
        name, arguments = (
            get_str(function, "name", "function"),
            get_str(function, "arguments", "function"),
        )
        if index not in self._tools:
            self._tools[index] = len(self._blocks)
            self._blocks.append(_Tool())
        position = self._tools[index]
        tool = cast("_Tool", self._blocks[position])
        if tool.call is not None:
            logger.debug("openai-chat: fragment for tool call %d after it ended, ignored", index)
            return []
        # Set once: some servers repeat id, type and name in every fragment.
        tool.id = tool.id or call_id or ""
        tool.type = tool.type or kind or ""
        tool.name = tool.name or name or ""
        if arguments:
            tool.parts.append(arguments)
        if tool.started:
            return [ToolCallDelta(position, arguments)] if arguments else []
        return self._start_call(position, tool) if tool.name else []

    def _start_call(self, position: int, tool: _Tool) -> list[StreamEvent]:
        tool.started = True
        events: list[StreamEvent] = [ToolCallStart(position, tool.id, tool.name)]
        if tool.parts:  # fragments that came before the name
            events.append(ToolCallDelta(position, "".join(tool.parts)))
        return events

    def _end_tool_calls(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for position in sorted(self._tools.values()):
            tool = cast("_Tool", self._blocks[position])
            if tool.call is None:
                if not tool.started:
                    events.extend(self._start_call(position, tool))
                tool.call = tool.snapshot()
                events.append(ToolCallEnd(position, tool.call))
        return events


def _usage(usage: Mapping[str, Any]) -> Usage:
    prompt = get_object(usage, "prompt_tokens_details", "usage") or {}
    completion = get_object(usage, "completion_tokens_details", "usage") or {}
    return Usage(
        input_tokens=get_int(usage, "prompt_tokens", "usage") or 0,
        output_tokens=get_int(usage, "completion_tokens", "usage") or 0,
        cache_read_input_tokens=get_int(prompt, "cached_tokens", "prompt_tokens_details"),
        reasoning_tokens=get_int(completion, "reasoning_tokens", "completion_tokens_details"),
    )
