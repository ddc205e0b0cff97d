"""The Chat Completions stream, interpreted: chunks in, neutral events and a message out."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast

from httpx_sse import ServerSentEvent

from .._base import BaseInterpreter, logger
from .._errors import APIStreamError
from .._json import (
    Malformed,
    as_array,
    as_object,
    as_string,
    get_int,
    get_list,
    get_object,
    get_str,
    load_object,
    objects,
    parse_arguments,
)
from .._vocabulary import (
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
from ._fragments import Fragments

__all__ = ["LEGACY", "PROVIDER", "Interpreter"]

PROVIDER: Final = "openai-chat"

_CHUNK_FIELDS = {"id", "object", "created", "model", "choices", "usage", "error"}
_CHUNK_FIELDS.update(("system_fingerprint", "service_tier"))
_DELTA_FIELDS = {"role", "content", "refusal", "reasoning_content", "reasoning", "tool_calls"}
_DELTA_FIELDS.update(("reasoning_details", "function_call", "annotations"))
_CUT_OFF = frozenset({"length", "content_filter"})  # finish reasons that stop a reply mid-way
LEGACY: Final = "function_call"  # the legacy call's kind, and its key in Interpreter._tools


def _log_unknown(where: str, obj: Mapping[str, Any], known: set[str]) -> None:
    if logger.isEnabledFor(logging.DEBUG) and obj.keys() - known:
        logger.debug("openai-chat: %s: unknown fields %s", where, sorted(obj.keys() - known))


@dataclass(slots=True)
class _Text:
    kind: str  # "text", "refusal" or "thinking": a new block starts when it changes
    parts: list[str] = field(default_factory=list[str])  # the neutral text
    raw: Fragments = field(default_factory=Fragments)  # the delta fields the block holds
    citations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def snapshot(self) -> TextBlock | ThinkingBlock:
        text = "".join(self.parts)
        if len(self.parts) > 1:
            self.parts[:] = [text]
        raw = self.raw.value()
        if self.kind == "thinking":
            signature = _details_signature(as_array(raw.get("reasoning_details")))
            return ThinkingBlock(text, signature, raw=raw)
        return TextBlock(text, self.kind == "refusal", citations=tuple(self.citations), raw=raw)


def _details_signature(details: list[object]) -> str | None:
    """The last signature among OpenRouter's ``reasoning_details``: a ``reasoning.text``
    entry's ``signature``, or a ``reasoning.encrypted`` entry's ``data``."""
    for detail in map(as_object, reversed(details)):
        signature = as_string(detail.get("signature"))
        if not signature and detail.get("type") == "reasoning.encrypted":
            signature = as_string(detail.get("data"))
        if signature:
            return signature
    return None


@dataclass(slots=True)
class _Tool:
    kind: str  # "function", "custom", another tool-call type, or LEGACY
    raw: Fragments = field(default_factory=Fragments)  # the call as assembled, minus index
    started: bool = False  # ToolCallStart sent (once the name is known)
    call: ToolCall | None = None  # set when the call ends

    @property
    def body(self) -> str:
        """Where the name and arguments are: ``custom`` or ``function`` (or the call itself,
        for the legacy ``function_call``: ``""``)."""
        if self.kind == LEGACY:
            return ""
        return "custom" if self.kind == "custom" else "function"

    def snapshot(self, *, complete: bool = False) -> ToolCall:
        """The call as it stands (``complete`` says whether it may pass for a real one),
        or the call it ended as."""
        if self.call is not None:
            return self.call
        raw = self.raw.value()
        body = as_object(raw.get(self.body)) if self.body else raw
        raw_arguments = as_string(body.get(_arguments_key(self.kind)))
        google = as_object(as_object(raw.get("extra_content")).get("google"))
        return ToolCall(
            "" if self.kind == LEGACY else as_string(raw.get("id")),
            as_string(body.get("name")),
            {} if self.kind == "custom" else parse_arguments(raw_arguments),
            raw_arguments,
            signature=as_string(google.get("thought_signature")) or None,
            complete=complete,
            raw=raw,
        )


_Block: TypeAlias = _Text | _Tool


class Interpreter(BaseInterpreter[_Block]):
    """Chat Completions chunks in, neutral stream events out. One per stream."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "[DONE]"

    def __init__(self) -> None:
        super().__init__()
        self._tools: dict[int | str, int] = {}  # a tool call's index -> position in content
        self._other_choices_seen = False
        self._chunk_raw = Fragments()  # the chunk-level fields, but choices, usage, error
        self._usage_raw: dict[str, Any] | None = None
        self._choice_raw = Fragments()  # choice 0's fields, but index and delta
        self._message_raw = Fragments()  # the delta fields no block holds
        self._citations: list[dict[str, Any]] = []  # annotations that came before any text

    def _reply_raw(self) -> Mapping[str, Any]:
        raw = self._chunk_raw.value()
        if self._usage_raw is not None:
            raw["usage"] = self._usage_raw
        raw["choice"] = self._choice_raw.value()
        raw["message"] = self._message_raw.value()
        return raw

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
        choices = list(objects(get_list(chunk, "choices", "chunk"), "choice"))
        usage = get_object(chunk, "usage", "chunk")
        for key, value in chunk.items():
            if key not in ("choices", "usage", "error"):
                self._chunk_raw.merge_field(key, value)
        for choice in choices:
            if (get_int(choice, "index", "choice") or 0) == 0:
                events.extend(self._choice(choice))
            elif not self._other_choices_seen:
                self._other_choices_seen = True
                logger.debug("openai-chat: choices other than index 0 (n > 1) are ignored")
        if usage is not None:
            self._usage = _usage(usage)
            self._usage_raw = usage
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
        finish_reason = get_str(choice, "finish_reason", "choice")
        for key, value in choice.items():
            if key not in ("index", "delta"):
                self._choice_raw.merge_field(key, value)
        events: list[StreamEvent] = []
        taken: set[str] = set()  # the delta fields a block holds
        events.extend(self._thinking(delta, taken))
        for kind, key in (("text", "content"), ("refusal", "refusal")):
            text = get_str(delta, key, "delta")
            if text:
                taken.add(key)
                events.extend(self._append(kind, text, {key: text}))
        self._annotate(list(objects(get_list(delta, "annotations", "delta"), "annotation")))
        fragments = list(objects(get_list(delta, "tool_calls", "delta"), "tool call"))
        for order, fragment in enumerate(fragments):
            events.extend(self._tool_fragment(order, fragment))
        function_call = get_object(delta, "function_call", "delta")
        if function_call is not None:
            events.extend(self._function_call(function_call))
            taken.add("function_call")
        if "tool_calls" in delta:  # an empty list (vLLM sends one in every delta) holds nothing
            taken.add("tool_calls")
        for key, value in delta.items():
            if key not in taken:
                self._message_raw.merge_field(key, value)
        if finish_reason:
            self._stop_reason = finish_reason
            events.extend(self._end_tool_calls())
        return events

    def _annotate(self, annotations: list[dict[str, Any]]) -> None:
        """``annotations`` are the citations of the last text block (of the next, if none
        has come yet); ``Message.raw["message"]`` keeps them too."""
        texts = (b for b in reversed(self._blocks) if isinstance(b, _Text) and b.kind == "text")
        last = next(texts, None)
        (self._citations if last is None else last.citations).extend(annotations)

    def _thinking(self, delta: dict[str, Any], taken: set[str]) -> list[StreamEvent]:
        """The delta's reasoning: its text (``reasoning_content``, else ``reasoning``: some
        servers send both, the same text twice) and OpenRouter's ``reasoning_details``."""
        held: dict[str, Any] = {}
        for key in ("reasoning_content", "reasoning"):
            value = delta.get(key)
            if isinstance(value, str) and value:
                held[key] = value
            elif value is not None and not isinstance(value, str):
                logger.debug("openai-chat: %s of type %s ignored", key, type(value).__name__)
        text = held.get("reasoning_content") or held.get("reasoning") or ""
        details = list(objects(get_list(delta, "reasoning_details", "delta"), "reasoning detail"))
        if details:
            held["reasoning_details"] = details
        taken.update(held)
        return self._append("thinking", text, held, force=bool(details))

    def _append(
        self, kind: str, text: str, held: dict[str, Any], *, force: bool = False
    ) -> list[StreamEvent]:
        """Add ``text`` (and the delta fields ``held`` that carry it) to the last block if
        it is of ``kind``, else to a new one. Nothing is added for no text unless
        ``force`` (a thinking block may hold only ``reasoning_details``)."""
        if not (text or force):
            return []
        last = self._blocks[-1] if self._blocks else None
        if not (isinstance(last, _Text) and last.kind == kind):
            last = _Text(kind)
            self._blocks.append(last)
            if kind == "text" and self._citations:
                last.citations, self._citations = self._citations, []
        if text:
            last.parts.append(text)
        last.raw.merge(held)
        position = len(self._blocks) - 1
        if not text:
            return []
        if kind == "thinking":
            return [ThinkingDelta(position, text)]
        return [TextDelta(position, text, refusal=kind == "refusal")]

    # --- tool calls ------------------------------------------------------------------

    def _tool_fragment(self, order: int, fragment: dict[str, Any]) -> list[StreamEvent]:
        index = get_int(fragment, "index", "tool_call")
        index = order if index is None else index
        get_str(fragment, "id", "tool_call")
        kind = get_str(fragment, "type", "tool_call")
        for where in ("function", "custom"):  # the known fields: checked, not used here
            part = get_object(fragment, where, "tool_call") or {}
            get_str(part, "name", where)
            get_str(part, _arguments_key(where), where)
        position = self._tools.get(index)
        if position is None:
            position = self._tools[index] = len(self._blocks)
            self._blocks.append(_Tool(kind or ("custom" if "custom" in fragment else "function")))
        tool = cast("_Tool", self._blocks[position])
        if tool.call is not None:
            logger.debug("openai-chat: fragment for tool call %d after it ended, ignored", index)
            return []
        if kind and tool.kind != kind and "type" not in tool.raw:
            tool.kind = kind  # the first fragment with a type decides
        tool.raw.merge({key: value for key, value in fragment.items() if key != "index"})
        part = as_object(fragment.get(tool.body))
        return self._grow(position, tool, as_string(part.get(_arguments_key(tool.kind))))

    def _function_call(self, fragment: dict[str, Any]) -> list[StreamEvent]:
        get_str(fragment, "name", "function_call")
        arguments = get_str(fragment, "arguments", "function_call") or ""
        position = self._tools.get(LEGACY)
        if position is None:
            position = self._tools[LEGACY] = len(self._blocks)
            self._blocks.append(_Tool(LEGACY))
        tool = cast("_Tool", self._blocks[position])
        if tool.call is not None:
            logger.debug("openai-chat: function_call fragment after it ended, ignored")
            return []
        tool.raw.merge(fragment)
        return self._grow(position, tool, arguments)

    def _grow(self, position: int, tool: _Tool, arguments: str) -> list[StreamEvent]:
        if tool.started:
            return [ToolCallDelta(position, arguments)] if arguments else []
        return self._start_call(position, tool) if tool.snapshot().name else []

    def _start_call(self, position: int, tool: _Tool) -> list[StreamEvent]:
        tool.started = True
        call = tool.snapshot()
        events: list[StreamEvent] = [ToolCallStart(position, call.id, call.name)]
        if call.raw_arguments:  # fragments that came before the name
            events.append(ToolCallDelta(position, call.raw_arguments))
        return events

    def _end_tool_calls(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        last = len(self._blocks) - 1
        for position in sorted(self._tools.values()):
            tool = cast("_Tool", self._blocks[position])
            if tool.call is None:
                if not tool.started:
                    events.extend(self._start_call(position, tool))
                cut = position == last and self._stop_reason in _CUT_OFF
                call = tool.snapshot()
                tool.call = tool.snapshot(complete=not cut and _parses(tool.kind, call))
                events.append(ToolCallEnd(position, tool.call))
        return events


def _arguments_key(kind: str) -> str:
    return "input" if kind == "custom" else "arguments"


def _parses(kind: str, call: ToolCall) -> bool:
    """The call's arguments are a JSON object, or empty (a call without arguments); a
    custom tool's input is free-form, and other types have no arguments of ours to check."""
    if kind not in ("function", LEGACY) or not call.raw_arguments.strip():
        return True
    try:
        return isinstance(json.loads(call.raw_arguments), dict)
    except (ValueError, RecursionError):
        return False


def _usage(usage: Mapping[str, Any]) -> Usage:
    prompt = get_object(usage, "prompt_tokens_details", "usage") or {}
    completion = get_object(usage, "completion_tokens_details", "usage") or {}
    prompt_tokens = get_int(usage, "prompt_tokens", "usage")
    return Usage(
        input_tokens=prompt_tokens or 0,
        output_tokens=get_int(usage, "completion_tokens", "usage") or 0,
        cache_read_input_tokens=get_int(prompt, "cached_tokens", "prompt_tokens_details"),
        reasoning_tokens=get_int(completion, "reasoning_tokens", "completion_tokens_details"),
        total_input_tokens=prompt_tokens,
        raw=usage,
    )
