"""The Anthropic Messages stream (``POST /v1/messages``), interpreted. Sans-IO.

Feed :class:`Interpreter` every SSE event of one stream, in order; it returns the neutral
events each carried and keeps the :class:`~trio_sse.providers.Message` so far.

- ``message_start`` gives id, model and the first usage; ``message_delta``'s usage is
  cumulative: the fields it carries overwrite, those it leaves out keep their value.
- Blocks are keyed by the provider's ``index``: each ``content_block_start`` takes the
  next position in ``Message.content``, which is the stream events' ``index``. ``text``
  and ``thinking`` grow by their deltas (``signature_delta``: a :class:`ThinkingDelta`
  with ``signature``); ``redacted_thinking`` is ``ThinkingBlock(redacted=True)`` with
  its ``data`` as the signature.
- ``tool_use`` is a :class:`ToolCall`; ``server_tool_use`` and ``mcp_tool_use`` too, with
  ``provider_executed=True``. ``input_json_delta`` fragments are joined and parsed at
  ``content_block_stop``: empty means ``{}``; JSON that does not parse (cut off by
  ``max_tokens``) keeps ``raw_arguments`` and gets ``arguments={}``, without raising. An
  ``input`` already filled in by the start block is honoured if no fragment follows.
- A text block's ``citations`` (in its start block, then one per ``citations_delta``)
  are :attr:`TextBlock.citations`, in order; they have no stream event.
- Any other block (``*_tool_result``, ...) is an :class:`OtherBlock` holding the start
  JSON, its ``citations`` extended by ``citations_delta`` and its ``input`` set from
  ``input_json_delta`` fragments.
- ``message_stop`` is the terminator: open blocks close, a :class:`MessageStop`, then
  :attr:`done`. Later events are logged and ignored: the message is complete (a
  recording of several responses back to back gives the first).
- ``event: error`` raises :class:`APIStreamError` (``error.type``, ``error.message``).
- A second ``message_start`` with the *same* id is a retransmission: ignored (fixture
  ``duplicate-message-start``). With a *different* id while the first is open, two
  responses were spliced into one stream (``spliced-message-start``: a half-streamed
  tool call, then a whole second reply reusing the indexes): no single message can be
  built, so :class:`MalformedEventError`, whose ``partial`` is the first reply so far.

Strict about the grammar, lenient about the vocabulary: content events before
``message_start``, deltas for a block that is not open, a second start for an index, a
field of the wrong JSON type raise :class:`MalformedEventError`; unknown event, block and
delta types and unknown fields are logged at DEBUG on ``trio_sse.providers``, ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias, cast

from httpx_sse import ServerSentEvent

from ._base import BaseInterpreter, logger
from ._errors import APIStreamError
from ._json import (
    Malformed,
    compact,
    get_int,
    get_list,
    get_object,
    get_str,
    load_object,
    need,
    objects,
    parse_arguments,
)
from ._vocabulary import (
    MessageStop,
    OtherBlock,
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

PROVIDER = "anthropic"

# Block types that are tool calls, and whether the provider executes them itself.
_TOOL_CALLS = {"tool_use": False, "server_tool_use": True, "mcp_tool_use": True}
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
# The fields each event is known to carry; others are logged at DEBUG.
_EVENT_FIELDS = {
    "message_start": {"type", "message"},
    "content_block_start": {"type", "index", "content_block"},
    "content_block_delta": {"type", "index", "delta"},
    "content_block_stop": {"type", "index"},
    "message_delta": {"type", "delta", "usage"},
    "message_stop": {"type"},
}


@dataclass(slots=True)
class _Text:
    parts: list[str] = field(default_factory=list[str])
    citations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def snapshot(self) -> TextBlock:
        return TextBlock("".join(self.parts), citations=tuple(self.citations))


@dataclass(slots=True)
class _Thinking:
    signature: str | None = None
    redacted: bool = False
    parts: list[str] = field(default_factory=list[str])

    def snapshot(self) -> ThinkingBlock:
        return ThinkingBlock("".join(self.parts), self.signature, self.redacted)


@dataclass(slots=True)
class _Tool:
    id: str
    name: str
    input: dict[str, Any]  # what content_block_start carried, used if no fragment comes
    provider_executed: bool
    parts: list[str] = field(default_factory=list[str])
    call: ToolCall | None = None  # set at content_block_stop

    def snapshot(self) -> ToolCall:
        if self.call is not None:
            return self.call
        raw = "".join(self.parts)
        if not raw and self.input:
            raw = compact(self.input)
        return ToolCall(self.id, self.name, parse_arguments(raw), raw, self.provider_executed)


@dataclass(slots=True)
class _Other:
    type: str
    data: dict[str, Any]  # replaced, never mutated in place: snapshots share it
    parts: list[str] = field(default_factory=list[str])  # input_json_delta fragments

    def snapshot(self) -> OtherBlock:
        return OtherBlock(self.type, self.data)


_Block: TypeAlias = _Text | _Thinking | _Tool | _Other


class Interpreter(BaseInterpreter[_Block]):
    """Anthropic Messages stream events in, neutral stream events out. One per stream."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "message_stop"

    def __init__(self) -> None:
        super().__init__()
        self._positions: dict[int, int] = {}  # the provider's index -> position in content
        self._open: set[int] = set()  # provider indexes started and not yet stopped

    # --- dispatch -------------------------------------------------------------------

    def _feed(self, event: ServerSentEvent) -> None:
        self._emit(*self._dispatch(event))

    def _dispatch(self, event: ServerSentEvent) -> list[StreamEvent]:
        kind = event.event
        if kind == "ping":
            return []
        if kind == "error":
            raise self._api_error(event)
        data = load_object(event.data)
        if kind == "message":  # no ``event:`` line: the JSON names the event
            kind = get_str(data, "type", "data") or ""
            if kind == "error":
                raise self._api_error(event)
            if kind == "ping":
                return []
        known = _EVENT_FIELDS.get(kind)
        if known is None:
            logger.debug("anthropic: unknown event %r ignored", kind)
            return []
        if logger.isEnabledFor(logging.DEBUG) and data.keys() - known:
            logger.debug("anthropic: %s: unknown fields %s", kind, sorted(data.keys() - known))
        if kind == "message_start":
            return self._message_start(data)
        if not self._started:
            raise Malformed(f"{kind} before message_start")
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "content_block_delta":
            return self._block_delta(data)
        if kind == "content_block_stop":
            return self._close(self._open_block(data, kind)[0])
        if kind == "message_delta":
            return self._message_delta(data)
        return self._message_stop()

    def _api_error(self, event: ServerSentEvent) -> APIStreamError:
        try:
            data = load_object(event.data)
        except Malformed:  # an error is an error, JSON or not
            error: Mapping[str, Any] = {"message": event.data[:200]}
        else:
            nested = data.get("error")
            error = cast("dict[str, Any]", nested) if isinstance(nested, dict) else data
        kind, text = error.get("type"), error.get("message")
        return APIStreamError(
            provider=PROVIDER,
            partial=self.message,
            error_type=kind if isinstance(kind, str) and kind != "error" else "",
            error_message=text if isinstance(text, str) else json.dumps(error)[:200],
        )

    # --- message events -------------------------------------------------------------

    def _message_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        message = need(get_object(data, "message", "data"), "data.message")
        message_id = get_str(message, "id", "message")
        if self._started:
            if message_id == self._id:
                logger.debug("anthropic: repeated message_start for %r ignored", message_id)
                return []
            raise Malformed(
                f"message_start for {message_id!r} while {self._id!r} is open"
                " (two responses spliced into one stream)"
            )
        model = get_str(message, "model", "message")
        usage = get_object(message, "usage", "message")
        stop_reason = get_str(message, "stop_reason", "message")
        self._id, self._model, self._stop_reason = message_id, model, stop_reason
        self._start()
        events: list[StreamEvent] = []
        if usage is not None:
            self._usage = self._merge_usage(Usage(), usage)
            events.append(UsageUpdate(self._usage))
        return events

    def _message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = get_object(data, "delta", "data") or {}
        stop_reason = get_str(delta, "stop_reason", "delta")
        usage = get_object(data, "usage", "data")
        if stop_reason is not None:
            self._stop_reason = stop_reason
        if usage is None:
            return []
        self._usage = self._merge_usage(self._usage or Usage(), usage)
        return [UsageUpdate(self._usage)]

    def _merge_usage(self, base: Usage, usage: Mapping[str, Any]) -> Usage:
        counts: dict[str, Any] = {name: get_int(usage, name, "usage") for name in _USAGE_FIELDS}
        return replace(base, **{k: v for k, v in counts.items() if v is not None})

    def _message_stop(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for index in sorted(self._open, key=self._positions.__getitem__):
            logger.debug("anthropic: block %d still open at message_stop, closed", index)
            events.extend(self._close(index))
        self._done = True
        events.append(MessageStop(self._stop_reason, self.message))
        return events

    # --- content blocks -------------------------------------------------------------

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = need(get_int(data, "index", "data"), "data.index")
        block = need(get_object(data, "content_block", "data"), "data.content_block")
        if index in self._positions:
            raise Malformed(f"content_block_start for index {index}, which has already started")
        kind = get_str(block, "type", "content_block") or ""
        position = len(self._blocks)
        events: list[StreamEvent] = []
        new: _Block
        if kind == "text":
            citations = get_list(block, "citations", "content_block")
            new = _Text(citations=list(objects(citations, "citation")))
            text = get_str(block, "text", "content_block")
            if text:
                new.parts.append(text)
                events.append(TextDelta(position, text))
        elif kind in ("thinking", "redacted_thinking"):
            redacted = kind == "redacted_thinking"
            signature = get_str(block, "data" if redacted else "signature", "content_block") or None
            new = _Thinking(signature=signature, redacted=redacted)
            thinking = "" if redacted else get_str(block, "thinking", "content_block") or ""
            new.parts.append(thinking)
            if thinking or signature:
                events.append(ThinkingDelta(position, thinking, signature))
        elif kind in _TOOL_CALLS:
            call_id = get_str(block, "id", "content_block") or ""
            name = get_str(block, "name", "content_block") or ""
            arguments = get_object(block, "input", "content_block") or {}
            new = _Tool(call_id, name, arguments, _TOOL_CALLS[kind])
            events.append(ToolCallStart(position, call_id, name, _TOOL_CALLS[kind]))
        else:
            new = _Other(kind, block)
        self._blocks.append(new)
        self._positions[index] = position
        self._open.add(index)
        return events

    def _open_block(self, data: dict[str, Any], kind: str) -> tuple[int, int]:
        """The provider's index in ``data`` and its position; it must name an open block."""
        index = need(get_int(data, "index", "data"), "data.index")
        if index not in self._open:
            state = "has stopped" if index in self._positions else "never started"
            raise Malformed(f"{kind} for block {index}, which {state}")
        return index, self._positions[index]

    def _block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        _, position = self._open_block(data, "content_block_delta")
        delta = need(get_object(data, "delta", "data"), "data.delta")
        kind = get_str(delta, "type", "delta") or ""
        block = self._blocks[position]
        if kind == "text_delta" and isinstance(block, _Text):
            text = get_str(delta, "text", "delta") or ""
            block.parts.append(text)
            return [TextDelta(position, text)] if text else []
        if kind == "thinking_delta" and isinstance(block, _Thinking) and not block.redacted:
            thinking = get_str(delta, "thinking", "delta") or ""
            block.parts.append(thinking)
            return [ThinkingDelta(position, thinking)] if thinking else []
        if kind == "signature_delta" and isinstance(block, _Thinking) and not block.redacted:
            block.signature = get_str(delta, "signature", "delta")
            return [ThinkingDelta(position, signature=block.signature)]
        if kind == "input_json_delta" and isinstance(block, _Tool | _Other):
            fragment = get_str(delta, "partial_json", "delta") or ""
            block.parts.append(fragment)
            if fragment and isinstance(block, _Tool):
                return [ToolCallDelta(position, fragment)]
            return []
        if kind == "citations_delta" and isinstance(block, _Text):
            citation = get_object(delta, "citation", "delta")
            if citation is not None:
                block.citations.append(citation)
            return []
        if kind == "citations_delta" and isinstance(block, _Other):
            citation = get_object(delta, "citation", "delta")
            old = block.data.get("citations")
            previous = cast("Sequence[Any]", old) if isinstance(old, list) else ()
            block.data = {**block.data, "citations": [*previous, citation]}
            return []
        logger.debug("anthropic: %r delta for a %s block ignored", kind, type(block).__name__)
        return []

    def _close(self, index: int) -> list[StreamEvent]:
        self._open.discard(index)
        position = self._positions[index]
        block = self._blocks[position]
        if isinstance(block, _Tool):
            block.call = block.snapshot()
            return [ToolCallEnd(position, block.call)]
        if isinstance(block, _Other) and "".join(block.parts).strip():
            block.data = {**block.data, "input": parse_arguments("".join(block.parts))}
        return []
