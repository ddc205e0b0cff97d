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
  ``content_block_stop``: empty means ``{}``; JSON that does not parse as an object
  (cut off by ``max_tokens``) keeps ``raw_arguments``, gets ``arguments={}`` and
  ``complete=False``, without raising. A call not yet stopped is ``complete=False`` too,
  and so is the reply's last block, if a tool call, when ``stop_reason`` is
  ``max_tokens`` (set by ``message_delta``, after that call's :class:`ToolCallEnd`, which
  said ``complete=True``: read the final message, not that event, to decide whether to
  run a call).
  An ``input`` already filled in by the start block is honoured if no fragment follows.
- A text block's ``citations`` (in its start block, then one per ``citations_delta``)
  are :attr:`TextBlock.citations`, in order; they have no stream event.
- Any other block (``*_tool_result``, ``compaction``, ``fallback``, ...) is an
  :class:`OtherBlock` holding the start JSON, its ``citations`` extended by
  ``citations_delta``, its ``input`` set from ``input_json_delta`` fragments, and the
  fields of each ``compaction_delta`` (``content``, ``encrypted_content``) replacing its
  own. A ``fallback`` block relabels ``Message.model`` to its ``to.model``, the model
  that served the rest of the reply, as the SDK does.
- Every block's ``raw`` is its start JSON with the deltas applied (the text, thinking,
  signature, citations and parsed ``input`` put in); ``Message.raw`` and ``Usage.raw``
  are described in :mod:`trio_sse.providers.anthropic`.
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
field of the wrong JSON type raise :class:`MalformedEventError`; unknown event and delta
types and unknown fields of an event are logged at DEBUG on ``trio_sse.providers`` and
ignored (``message_delta``'s go to ``Message.raw``). Unknown fields of a block, of
``message`` and of ``usage``, and blocks of an unknown type, are kept in ``raw``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from httpx_sse import ServerSentEvent

from .._base import BaseInterpreter, logger
from .._errors import APIStreamError
from .._json import (
    Malformed,
    as_array,
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
from .._vocabulary import (
    Message,
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

__all__ = ["PROVIDER", "Interpreter", "container"]

PROVIDER = "anthropic"

# Block types that are tool calls, and whether the provider executes them itself.
_TOOL_CALLS = {"tool_use": False, "server_tool_use": True, "mcp_tool_use": True}
# The fields each event is known to carry; others are logged at DEBUG.
_EVENT_FIELDS = {
    "message_start": {"type", "message"},
    "content_block_start": {"type", "index", "content_block"},
    "content_block_delta": {"type", "index", "delta"},
    "content_block_stop": {"type", "index"},
    "message_delta": {"type", "delta", "usage", "context_management", "input_transformations"},
    "message_stop": {"type"},
}
# message_start's message fields that are not Message.raw: the blocks, and the usage
# (Usage.raw).
_NOT_REPLY_LEVEL = frozenset({"content", "usage"})


def _merged(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` updated by ``new`` (a new dict): a ``null`` in ``new`` fills a field ``old``
    lacks but never erases a value (``message_delta`` sends ``"container": null`` and
    leaves out the usage counts it does not restate)."""
    out = dict(old)
    for key, value in new.items():
        if value is not None or key not in out:
            out[key] = value
    return out


def _arguments(raw: str) -> dict[str, Any] | None:
    """Tool input from its joined fragments: ``{}`` when empty; ``None`` when the text is
    not a JSON object (cut off, or not an object at all)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _usage(raw: dict[str, Any]) -> Usage:
    """The neutral counts of Anthropic's usage JSON (cumulative, as merged so far)."""
    read = get_int(raw, "cache_read_input_tokens", "usage")
    written = get_int(raw, "cache_creation_input_tokens", "usage")
    prompt = get_int(raw, "input_tokens", "usage")
    details = get_object(raw, "output_tokens_details", "usage") or {}
    return Usage(
        input_tokens=prompt or 0,
        output_tokens=get_int(raw, "output_tokens", "usage") or 0,
        cache_read_input_tokens=read,
        cache_creation_input_tokens=written,
        reasoning_tokens=get_int(details, "thinking_tokens", "usage.output_tokens_details"),
        total_input_tokens=None if prompt is None else prompt + (read or 0) + (written or 0),
        raw=raw,
    )


# --- blocks being streamed: each keeps its start JSON and builds ``raw`` from it ----------


@dataclass(slots=True)
class _Text:
    start: dict[str, Any]
    parts: list[str] = field(default_factory=list[str])
    citations: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def snapshot(self) -> TextBlock:
        text = "".join(self.parts)
        raw = {**self.start, "text": text}
        if self.citations:
            raw["citations"] = list(self.citations)
        return TextBlock(text, citations=tuple(self.citations), raw=raw)


@dataclass(slots=True)
class _Thinking:
    start: dict[str, Any]
    signature: str | None = None
    redacted: bool = False
    parts: list[str] = field(default_factory=list[str])
    signed: bool = False  # a signature_delta came: raw's signature is its

    def snapshot(self) -> ThinkingBlock:
        thinking = "".join(self.parts)
        raw = self.start
        if not self.redacted:
            raw = {**self.start, "thinking": thinking}
            if self.signed:
                raw["signature"] = self.signature
        return ThinkingBlock(thinking, self.signature, self.redacted, raw=raw)


@dataclass(slots=True)
class _Tool:
    start: dict[str, Any]
    id: str
    name: str
    input: dict[str, Any]  # what content_block_start carried, used if no fragment comes
    provider_executed: bool
    parts: list[str] = field(default_factory=list[str])
    call: ToolCall | None = None  # set at content_block_stop
    cut: bool = False  # the reply's last block, and the reply stopped at max_tokens

    def snapshot(self) -> ToolCall:
        return self.call if self.call is not None else self._build(stopped=False)

    def stop(self) -> ToolCall:
        self.call = self._build(stopped=True)
        return self.call

    def cut_off(self) -> None:
        """The reply stopped at ``max_tokens`` on this call: whatever its input says, the
        model did not finish it (``input`` may be ``{}`` for want of any fragment)."""
        self.cut = True
        if self.call is not None:
            self.call = self._build(stopped=True)

    def _build(self, *, stopped: bool) -> ToolCall:
        raw_arguments = "".join(self.parts)
        if not raw_arguments and self.input:
            raw_arguments = compact(self.input)
        arguments = _arguments(raw_arguments)
        return ToolCall(
            self.id,
            self.name,
            arguments or {},
            raw_arguments,
            self.provider_executed,
            complete=stopped and arguments is not None and not self.cut,
            raw={**self.start, "input": arguments or {}},
        )


@dataclass(slots=True)
class _Other:
    type: str
    start: dict[str, Any]
    parts: list[str] = field(default_factory=list[str])  # input_json_delta fragments
    citations: list[Any] | None = None  # the start's, then one per citations_delta
    replaced: dict[str, Any] = field(default_factory=dict[str, Any])  # compaction_delta's
    data: dict[str, Any] | None = None  # set at content_block_stop

    def snapshot(self) -> OtherBlock:
        return OtherBlock(self.type, self.data if self.data is not None else self._build())

    def stop(self) -> None:
        self.data = self._build()
        fragments = "".join(self.parts)
        if fragments.strip():
            self.data["input"] = parse_arguments(fragments)

    def _build(self) -> dict[str, Any]:
        data = {**self.start, **self.replaced}
        if self.citations is not None:
            data["citations"] = list(self.citations)
        return data


_Block: TypeAlias = _Text | _Thinking | _Tool | _Other


class Interpreter(BaseInterpreter[_Block]):
    """Anthropic Messages stream events in, neutral stream events out. One per stream."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "message_stop"

    def __init__(self) -> None:
        super().__init__()
        self._positions: dict[int, int] = {}  # the provider's index -> position in content
        self._open: set[int] = set()  # provider indexes started and not yet stopped
        self._reply: dict[str, Any] = {}  # Message.raw: replaced, never mutated in place
        self._usage_raw: dict[str, Any] = {}  # Usage.raw: the same

    def _reply_raw(self) -> Mapping[str, Any]:
        return self._reply

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
        self._reply = {k: v for k, v in message.items() if k not in _NOT_REPLY_LEVEL}
        self._start()
        return [] if usage is None else self._merge_usage(usage)

    def _message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = get_object(data, "delta", "data") or {}
        stop_reason = get_str(delta, "stop_reason", "delta")
        usage = get_object(data, "usage", "data")
        if stop_reason is not None:
            self._stop_reason = stop_reason
        if stop_reason == "max_tokens" and self._blocks and isinstance(self._blocks[-1], _Tool):
            self._blocks[-1].cut_off()
        # The reply-level fields: the delta's (stop_details, container, ...) and the
        # event's own (context_management, input_transformations, ...).
        outer = {k: v for k, v in data.items() if k not in ("type", "delta", "usage")}
        self._reply = _merged(self._reply, {**delta, **outer})
        return [] if usage is None else self._merge_usage(usage)

    def _merge_usage(self, usage: Mapping[str, Any]) -> list[StreamEvent]:
        self._usage = _usage(_merged(self._usage_raw, usage))
        self._usage_raw = cast("dict[str, Any]", self._usage.raw)
        return [UsageUpdate(self._usage)]

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
            new = _Text(block, citations=list(objects(citations, "citation")))
            text = get_str(block, "text", "content_block")
            if text:
                new.parts.append(text)
                events.append(TextDelta(position, text))
        elif kind in ("thinking", "redacted_thinking"):
            redacted = kind == "redacted_thinking"
            signature = get_str(block, "data" if redacted else "signature", "content_block") or None
            new = _Thinking(block, signature=signature, redacted=redacted)
            thinking = "" if redacted else get_str(block, "thinking", "content_block") or ""
            new.parts.append(thinking)
            if thinking or signature:
                events.append(ThinkingDelta(position, thinking, signature))
        elif kind in _TOOL_CALLS:
            call_id = get_str(block, "id", "content_block") or ""
            name = get_str(block, "name", "content_block") or ""
            arguments = get_object(block, "input", "content_block") or {}
            new = _Tool(block, call_id, name, arguments, _TOOL_CALLS[kind])
            events.append(ToolCallStart(position, call_id, name, _TOOL_CALLS[kind]))
        else:
            # Its citations stay as sent unless a citations_delta comes.
            new = _Other(kind, block, citations=list(as_array(block.get("citations"))) or None)
            if kind == "fallback":
                self._relabel(block)
        self._blocks.append(new)
        self._positions[index] = position
        self._open.add(index)
        return events

    def _relabel(self, block: dict[str, Any]) -> None:
        """A ``fallback`` block: the model it names in ``to`` serves the rest of the reply."""
        to = get_object(block, "to", "content_block") or {}
        model = get_str(to, "model", "content_block.to")
        if model is not None:
            self._model = model
            self._reply = {**self._reply, "model": model}

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
            block.signed = True
            return [ThinkingDelta(position, signature=block.signature)]
        if kind == "input_json_delta" and isinstance(block, _Tool | _Other):
            fragment = get_str(delta, "partial_json", "delta") or ""
            block.parts.append(fragment)
            if fragment and isinstance(block, _Tool):
                return [ToolCallDelta(position, fragment)]
            return []
        if kind == "citations_delta" and isinstance(block, _Text | _Other):
            citation = get_object(delta, "citation", "delta")
            if isinstance(block, _Text):
                if citation is not None:
                    block.citations.append(citation)
            else:
                block.citations = block.citations if block.citations is not None else []
                block.citations.append(citation)
            return []
        if kind == "compaction_delta" and isinstance(block, _Other):
            block.replaced.update({k: v for k, v in delta.items() if k != "type"})
            return []
        logger.debug("anthropic: %r delta for a %s block ignored", kind, type(block).__name__)
        return []

    def _close(self, index: int) -> list[StreamEvent]:
        self._open.discard(index)
        position = self._positions[index]
        block = self._blocks[position]
        if isinstance(block, _Tool):
            return [ToolCallEnd(position, block.stop())]
        if isinstance(block, _Other):
            block.stop()
        return []


def container(message: Message) -> str | None:
    """The id of the container the reply ran in (code execution, skills), to reuse it:
    the value the next request's top-level ``container`` field takes. ``None`` if there
    was none.

    A string, so nothing the caller does to it changes ``message``. The container's whole
    JSON, ``{"id", "expires_at", "skills"}`` as the provider last stated it
    (``message_start``, then ``message_delta``), stays in ``message.raw["container"]``;
    :func:`assistant_turn` does not carry it.

    Raises:
        ValueError: ``message`` is another provider's.

    Example::

        if (reuse := anthropic.container(message)) is not None:
            request["container"] = reuse
    """
    if message.provider not in (None, PROVIDER):
        raise ValueError(f"a {message.provider!r} message has no Anthropic container")
    value = message.raw.get("container")
    if not isinstance(value, Mapping):
        return None
    container_id = cast("Mapping[str, Any]", value).get("id")
    return container_id if isinstance(container_id, str) and container_id else None
