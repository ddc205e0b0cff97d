"""The OpenAI Responses API stream (also xAI's and GitHub Copilot's), as neutral events.

Events are typed (the JSON ``type``, echoed by the ``event:`` line); there is no
``[DONE]``. Output items arrive by ``output_index``: opened by ``output_item.added``,
filled by deltas, given whole by ``output_item.done``; the terminal event repeats them all.
Each becomes blocks of :attr:`Message.content`, in the order they first appear:

- ``message``: a :class:`TextBlock` per content part (``refusal`` parts flagged); an
  ``output_text`` part's ``annotations`` are its ``citations``, as its whole forms
  (``content_part.done``, ``output_item.done``, the terminal response) state them, with
  no stream event (``output_text.annotation.added`` is not read);
- ``reasoning``: one :class:`ThinkingBlock`: the raw reasoning parts, then the summary
  parts, the non-empty ones joined by a blank line; ``encrypted_content`` is its signature;
- ``function_call`` and ``custom_tool_call``: a :class:`ToolCall` whose id is the
  ``call_id`` (what the output must answer). A custom tool's free-form ``input`` is its
  ``raw_arguments`` (``arguments`` is ``{}`` unless it is a JSON object); the call is
  ``provider_executed`` when the response lists tools and declares no custom or function
  tool of that name (xAI reports its server-side X search so);
- any other item (web, file and tool search, code interpreter, image generation, MCP,
  shell, apply-patch, programs, computer use, ...): an :class:`OtherBlock` of the item's
  JSON, as last stated. Those items carry their results too, or must be answered with an
  item of their own type: as a ToolCall they would lose data or invite a wrong answer.

Which statement wins: the deltas build each block; an item's ``.done`` events, then the
terminal ``response.output`` (paired with the streamed items in order, or by item id when
the counts differ), are later, whole statements, and they win. What they add to the
streamed text is emitted as one more delta, so the events still add up to the message; a
contradiction replaces the text without an event and is logged at WARNING. So the final
message agrees with the response the provider stored, ``id`` and ``model`` included
(GitHub Copilot rotates every id; :class:`MessageStart` has the first ones).

``stop_reason`` is ``incomplete_details.reason`` when given (``"max_output_tokens"``,
``"content_filter"``), else the response's ``status`` (``"completed"``): Responses has
no finish reason of its own, and a reply with tool calls is ``"completed"`` too.
``response.done`` (sent by some xAI versions) ends the reply like ``response.completed``.
``response.failed`` and ``error`` raise :class:`APIStreamError` (``error_type``: the
error's ``code``, else its ``type``). Events after the terminal one are ignored (one HTTP
response holds one response); unknown types are logged at DEBUG on ``trio_sse.providers``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias, TypeVar

from httpx_sse import ServerSentEvent

from ._base import BaseInterpreter, logger
from ._errors import APIStreamError
from ._json import (
    Malformed,
    as_array,
    as_int,
    as_object,
    as_string,
    load_object,
    parse_arguments,
)
from ._vocabulary import (
    ContentBlock,
    MessageStop,
    OtherBlock,
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

PROVIDER = "openai-responses"

_LIFECYCLE = frozenset({"response.created", "response.in_progress", "response.queued"})
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.done"})
_QUIET = frozenset(
    {
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.done",
        "response.reasoning_text.done",
        "response.output_text.annotation.added",
    }
)
"""Known events that say nothing the item's whole form does not say again."""
_CALL_INPUT = {"function_call": "arguments", "custom_tool_call": "input"}
"""The tool-call item types, and the field holding each one's raw input."""


@dataclass(slots=True)
class _Prose:
    """A text or thinking block being streamed."""

    position: int
    kind: str  # "text", "refusal" or "thinking"
    text: str = ""
    signature: str | None = None
    part: tuple[str, int] | None = None  # for thinking: the part the text last came from
    citations: tuple[Mapping[str, Any], ...] = ()  # for text: the part's annotations

    def snapshot(self) -> ContentBlock:
        if self.kind == "thinking":
            return ThinkingBlock(self.text, signature=self.signature)
        return TextBlock(self.text, refusal=self.kind == "refusal", citations=self.citations)


@dataclass(slots=True)
class _Call:
    """A tool call being streamed; ``text`` is its raw input."""

    position: int
    id: str
    name: str
    provider_executed: bool
    text: str = ""
    ended: ToolCall | None = None

    def snapshot(self) -> ToolCall:
        return self.ended or ToolCall(
            self.id, self.name, parse_arguments(self.text), self.text, self.provider_executed
        )


@dataclass(slots=True)
class _Other:
    position: int
    data: Mapping[str, Any]

    def snapshot(self) -> ContentBlock:
        return OtherBlock(str(self.data.get("type", "")), self.data)


_Draft: TypeAlias = _Prose | _Call | _Other
_D = TypeVar("_D", _Prose, _Call, _Other)


@dataclass(slots=True)
class _Item:
    """One output item: its type, its latest item id, its blocks by part index."""

    type: str
    id: str = ""
    blocks: dict[int, _Draft] = field(default_factory=dict[int, "_Draft"])


class Interpreter(BaseInterpreter[_Draft]):
    """Interprets one Responses stream (the rules are in the module docstring)."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "response.completed"

    def __init__(self) -> None:
        super().__init__()
        self._declared: frozenset[str] | None = None  # custom/function tools, when listed
        self._items: dict[int, _Item] = {}
        self._ignored: set[str] = set()

    def _feed(self, event: ServerSentEvent) -> None:
        self._dispatch(load_object(event.data), event.event)

    # --- events ------------------------------------------------------------------------------

    def _dispatch(self, data: dict[str, Any], name: str) -> None:
        kind = str(data.get("type", name))
        verb = kind.rpartition(".")[2]
        if kind in _LIFECYCLE:
            self._take_response(_object_at(data, "response"))
            self._start()
        elif kind in ("response.output_item.added", "response.output_item.done"):
            oi, item = _int_at(data, "output_index"), _object_at(data, "item")
            self._apply_item(oi, item, final=verb == "done")
        elif kind in ("response.content_part.added", "response.content_part.done"):
            oi, ci = _int_at(data, "output_index"), _int_at(data, "content_index")
            self._apply_part(oi, ci, _object_at(data, "part"), final=verb == "done")
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            oi, ci = _int_at(data, "output_index"), _int_at(data, "content_index")
            prose = "refusal" if "refusal" in kind else "text"
            draft = self._draft(oi, "message", ci, _Prose, lambda at: _Prose(at, prose))
            self._append(draft, _str_at(data, "delta"))
        elif kind in ("response.output_text.done", "response.refusal.done"):
            oi, ci = _int_at(data, "output_index"), _int_at(data, "content_index")
            key = "refusal" if "refusal" in kind else "text"
            part_type = "refusal" if key == "refusal" else "output_text"
            self._apply_part(oi, ci, {"type": part_type, key: _str_at(data, key)}, final=True)
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            key = "summary_index" if "summary" in kind else "content_index"
            oi, part = _int_at(data, "output_index"), (key, _int_at(data, key))
            self._think(oi, part, _str_at(data, "delta"))
        elif kind in (
            "response.function_call_arguments.delta",
            "response.custom_tool_call_input.delta",
        ):
            item_type = "function_call" if "function" in kind else "custom_tool_call"
            call = self._call(_int_at(data, "output_index"), {"type": item_type})
            if call.ended is None:
                self._append(call, _str_at(data, "delta"))
        elif kind in (
            "response.function_call_arguments.done",
            "response.custom_tool_call_input.done",
        ):
            item_type = "function_call" if "function" in kind else "custom_tool_call"
            key = _CALL_INPUT[item_type]
            item = {"type": item_type, key: _str_at(data, key), "name": data.get("name")}
            self._apply_item(_int_at(data, "output_index"), item, final=True)
        elif kind in _TERMINAL:
            self._terminal(_object_at(data, "response"))
        elif kind == "response.failed":
            self._raise_error(_object_at(data, "response").get("error"))
        elif kind == "error":  # the error nested, or (older) its fields beside ``type``
            self._raise_error(data.get("error") or {**data, "type": None})
        elif "type" not in data and isinstance(data.get("error"), dict):
            self._raise_error(data["error"])  # a compatible server's bare error payload
        elif kind not in _QUIET and kind not in self._ignored:
            self._ignored.add(kind)
            logger.debug("openai-responses: ignoring events of type %r", kind)

    def _take_response(self, response: dict[str, Any]) -> None:
        """Take the id and model (the latest win) and the names of the declared tools."""
        self._id = as_string(response.get("id")) or self._id
        self._model = as_string(response.get("model")) or self._model
        if tools := as_array(response.get("tools")):
            declared = (as_object(tool) for tool in tools)
            self._declared = frozenset(
                as_string(tool.get("name"))
                for tool in declared
                if tool.get("type") in ("custom", "function")
            )

    def _terminal(self, response: dict[str, Any]) -> None:
        self._take_response(response)
        self._start()
        if output := as_array(response.get("output")):
            self._reconcile([as_object(item) for item in output])
        for draft in self._blocks:
            if isinstance(draft, _Call):
                self._end_call(draft)  # if its ``.done`` events never came
        if (usage := _usage(as_object(response.get("usage")))) is not None:
            self._usage = usage
            self._emit(UsageUpdate(usage))
        reason = as_object(response.get("incomplete_details")).get("reason")
        self._stop_reason = as_string(reason) or as_string(response.get("status")) or None
        self._done = True
        self._emit(MessageStop(self._stop_reason, self.message))

    def _reconcile(self, output: list[dict[str, Any]]) -> None:
        """Settle every block with the terminal response's form of its item."""
        streamed = sorted(self._items)
        if len(output) == len(streamed):  # in order: Copilot's item ids do not match
            for oi, item in zip(streamed, output, strict=True):
                self._apply_item(oi, item, final=True)
            return
        logger.warning(
            "openai-responses: the stream had %d output items, the response has %d",
            len(streamed),
            len(output),
        )
        by_id = {slot.id: oi for oi, slot in self._items.items() if slot.id}
        fresh = max(streamed, default=-1) + 1
        for item in output:
            known = by_id.get(as_string(item.get("id")))
            if known is None:
                known, fresh = fresh, fresh + 1
            self._apply_item(known, item, final=True)

    def _raise_error(self, raw: object) -> NoReturn:
        error = as_object(raw)
        raise APIStreamError(
            provider=PROVIDER,
            partial=self.message,
            error_type=as_string(error.get("code")) or as_string(error.get("type")),
            error_message=as_string(error.get("message")),
        )

    # --- items and their blocks ----------------------------------------------------------------

    def _apply_item(self, oi: int, item: dict[str, Any], *, final: bool) -> None:
        """Bring the blocks of output item ``oi`` up to ``item``, a whole form of it."""
        item_type = as_string(item.get("type"))
        slot = self._items.setdefault(oi, _Item(item_type))
        if slot.type != item_type:
            logger.warning("openai-responses: item %d is a %r, not a %r", oi, slot.type, item_type)
            return
        slot.id = as_string(item.get("id")) or slot.id
        if item_type == "message":
            for ci, part in enumerate(as_array(item.get("content"))):
                self._apply_part(oi, ci, as_object(part), final=final)
        elif item_type == "reasoning":
            thinking = self._draft(oi, item_type, 0, _Prose, lambda at: _Prose(at, "thinking"))
            if final:
                self._settle(thinking, _reasoning_text(item), final=True)
                signature = as_string(item.get("encrypted_content")) or None
                if signature is not None and signature != thinking.signature:
                    thinking.signature = signature
                    self._emit(ThinkingDelta(thinking.position, signature=signature))
        elif item_type in _CALL_INPUT:
            call = self._call(oi, item)
            if isinstance(raw := item.get(_CALL_INPUT[item_type]), str):
                self._settle(call, raw, final=final)
            if final:
                self._end_call(call)
        else:
            self._draft(oi, item_type, 0, _Other, lambda at: _Other(at, item)).data = item

    def _apply_part(self, oi: int, ci: int, part: dict[str, Any], *, final: bool) -> None:
        slot = self._items.get(oi)
        if slot is not None and slot.type != "message":
            return  # a reasoning item's parts: its deltas and its whole form carry them
        prose = "refusal" if part.get("type") == "refusal" else "text"
        text = part.get(prose)
        if (prose == "refusal" or part.get("type") == "output_text") and isinstance(text, str):
            draft = self._draft(oi, "message", ci, _Prose, lambda at: _Prose(at, prose))
            self._settle(draft, text, final=final)
            if final and "annotations" in part:
                draft.citations = tuple(filter(None, map(as_object, as_array(part["annotations"]))))

    def _call(self, oi: int, item: dict[str, Any]) -> _Call:
        """The tool call of item ``oi``, started (``ToolCallStart``) when first seen."""
        item_type = as_string(item.get("type"))
        call_id, name = as_string(item.get("call_id")), as_string(item.get("name"))
        executed = item_type == "custom_tool_call" and bool(
            name and self._declared is not None and name not in self._declared
        )
        known = oi in self._items and 0 in self._items[oi].blocks
        call = self._draft(oi, item_type, 0, _Call, lambda at: _Call(at, call_id, name, executed))
        if not known:
            self._emit(ToolCallStart(call.position, call_id, name, executed))
        elif name or call_id:  # a later statement wins (``ToolCallEnd`` carries it)
            call.id, call.name = call_id or call.id, name or call.name
            call.provider_executed = executed if name else call.provider_executed
        return call

    def _end_call(self, call: _Call) -> None:
        ended = ToolCall(
            call.id, call.name, parse_arguments(call.text), call.text, call.provider_executed
        )
        if call.ended is None:
            self._emit(ToolCallEnd(call.position, ended))
        call.ended = ended  # a later whole form may change an ended call (_settle logs it)

    def _think(self, oi: int, part: tuple[str, int], delta: str) -> None:
        thinking = self._draft(oi, "reasoning", 0, _Prose, lambda at: _Prose(at, "thinking"))
        if delta:
            separator = "\n\n" if thinking.text and thinking.part != part else ""
            thinking.part = part
            self._append(thinking, separator + delta)

    def _draft(
        self, oi: int, item_type: str, part: int, kind: type[_D], new: Callable[[int], _D]
    ) -> _D:
        """The block of part ``part`` of item ``oi``; made, at the end, if new."""
        slot = self._items.setdefault(oi, _Item(item_type))
        draft = slot.blocks.get(part)
        if draft is None and slot.type == item_type:
            draft = slot.blocks[part] = new(len(self._blocks))
            self._blocks.append(draft)
        if not isinstance(draft, kind):
            raise Malformed(f"output item {oi} is a {slot.type!r}, not a {item_type!r}")
        return draft

    def _append(self, draft: _Prose | _Call, delta: str) -> None:
        if not delta:
            return
        draft.text += delta
        if isinstance(draft, _Call):
            self._emit(ToolCallDelta(draft.position, delta))
        elif draft.kind == "thinking":
            self._emit(ThinkingDelta(draft.position, thinking=delta))
        else:
            self._emit(TextDelta(draft.position, delta, refusal=draft.kind == "refusal"))

    def _settle(self, draft: _Prose | _Call, whole: str, *, final: bool) -> None:
        """Bring a block's text to ``whole``, a later statement of all of it.

        What ``whole`` adds to the text is emitted as a delta. A ``whole`` that contradicts
        it (or would add to a tool call that has ended) replaces it if ``final``, logged;
        otherwise (an ``.added`` form, older than the deltas) it is ignored.
        """
        ended = isinstance(draft, _Call) and draft.ended is not None
        if whole.startswith(draft.text) and not ended:
            self._append(draft, whole[len(draft.text) :])
        elif final and whole != draft.text:
            logger.warning(
                "openai-responses: the whole form of block %d disagrees with its deltas;"
                " keeping the whole form",
                draft.position,
            )
            draft.text = whole


# --- reading JSON values --------------------------------------------------------------------------


def _object_at(data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]``, which the event needs to be a JSON object."""
    if not isinstance(data.get(key), dict):
        raise Malformed(f"{key!r} is not an object")
    return as_object(data[key])


def _int_at(data: dict[str, Any], key: str) -> int:
    """``data[key]``, which the event needs to be an integer (``content_index``: 0 if absent)."""
    value = as_int(data.get(key, 0 if key == "content_index" else None))
    if value is None:
        raise Malformed(f"{key!r} is not an integer")
    return value


def _str_at(data: dict[str, Any], key: str) -> str:
    """``data[key]``, which the event needs to be a string."""
    if not isinstance(value := data.get(key), str):
        raise Malformed(f"{key!r} is not a string")
    return value


def _reasoning_text(item: dict[str, Any]) -> str:
    """A reasoning item's text: raw reasoning parts, then summary parts."""
    parts = [*as_array(item.get("content")), *as_array(item.get("summary"))]
    return "\n\n".join(text for part in parts if (text := as_string(as_object(part).get("text"))))


def _usage(usage: dict[str, Any]) -> Usage | None:
    """The response's ``usage`` (OpenAI's input tokens include the cached ones)."""
    if not usage:
        return None
    inputs = as_object(usage.get("input_tokens_details"))
    outputs = as_object(usage.get("output_tokens_details"))
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")) or 0,
        output_tokens=as_int(usage.get("output_tokens")) or 0,
        cache_read_input_tokens=as_int(inputs.get("cached_tokens")),
        cache_creation_input_tokens=as_int(inputs.get("cache_write_tokens")),
        reasoning_tokens=as_int(outputs.get("reasoning_tokens")),
    )
