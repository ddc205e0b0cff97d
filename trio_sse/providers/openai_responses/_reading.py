"""Reading a Responses stream: the interpreter (the rules are in the package docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias, TypeVar

from httpx_sse import ServerSentEvent

from .._base import BaseInterpreter, logger
from .._errors import APIStreamError
from .._json import (
    Malformed,
    as_array,
    as_int,
    as_object,
    as_string,
    load_object,
)
from .._vocabulary import (
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

__all__ = ["PROVIDER", "Interpreter"]

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
_PROSE = {"output_text": "text", "refusal": "refusal"}
"""The message part types read as text, and the field holding each one's text."""
_REASONING_PARTS = (("content", "reasoning_text"), ("summary", "summary_text"))
"""A reasoning item's part lists, in the order its thinking reads them, and their types."""


class _Text:
    """Text that grows by deltas, in linear time.

    ``str +=`` on an attribute copies everything so far on every delta (quadratic: 960 KB
    of arguments in 32-character deltas took seconds); the pieces are kept instead and
    joined when the text is read, which only a whole statement or a snapshot does.
    """

    __slots__ = ("_pieces", "length")

    def __init__(self, text: str = "") -> None:
        self._pieces = [text] if text else []
        self.length = len(text)

    def add(self, piece: str) -> None:
        self._pieces.append(piece)
        self.length += len(piece)

    def replace(self, text: str) -> None:
        self._pieces = [text] if text else []
        self.length = len(text)

    @property
    def text(self) -> str:
        if len(self._pieces) > 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""


@dataclass(slots=True)
class _Item:
    """One output item: its type, its latest id, its fields, its blocks by part index.

    ``form`` is the item's latest whole form without the fields its blocks build from
    their deltas (a message's ``content``, a reasoning item's ``summary`` and ``content``,
    a call's input): the rest of each block's ``raw``.
    """

    type: str
    id: str = ""
    form: dict[str, Any] = field(default_factory=dict[str, Any])
    blocks: dict[int, _Draft] = field(default_factory=dict[int, "_Draft"])

    def raw(self, **built: Any) -> dict[str, Any]:
        return {"type": self.type, **self.form, **built}


@dataclass(slots=True)
class _Part:
    """A message content part being streamed: a text, a refusal, or a part of another type."""

    position: int
    item: _Item
    kind: str  # the part's type: "output_text", "refusal", or one without a neutral form
    form: dict[str, Any]  # the part's latest whole form
    text: _Text = field(default_factory=_Text)
    citations: tuple[Mapping[str, Any], ...] = ()  # its annotations, as its whole forms state

    def snapshot(self) -> ContentBlock:
        key = _PROSE.get(self.kind)
        part = {**self.form, key: self.text.text} if key else dict(self.form)
        raw = self.item.raw(content=[part])
        if key is None:
            return OtherBlock(self.kind, raw)
        return TextBlock(
            self.text.text,
            refusal=self.kind == "refusal",
            citations=self.citations,
            id=self.item.id or None,
            phase=as_string(self.item.form.get("phase")) or None,
            raw=raw,
        )


@dataclass(slots=True)
class _Reasoning:
    """A reasoning item being streamed: its thinking as streamed, and its parts for ``raw``."""

    position: int
    item: _Item
    text: _Text = field(default_factory=_Text)  # the neutral thinking
    last: tuple[str, int] | None = None  # the part the thinking last came from
    signature: str | None = None
    parts: dict[tuple[str, int], tuple[dict[str, Any], _Text]] = field(
        default_factory=dict[tuple[str, int], tuple[dict[str, Any], _Text]]
    )
    has_content: bool = False  # the item's whole forms have a ``content`` list

    def snapshot(self) -> ContentBlock:
        lists: dict[str, list[dict[str, Any]]] = {"content": [], "summary": []}
        for (key, _), (form, text) in sorted(self.parts.items()):
            lists[key].append({**form, "text": text.text})
        if not lists["content"] and not self.has_content:
            del lists["content"]
        return ThinkingBlock(
            self.text.text,
            signature=self.signature,
            id=self.item.id or None,
            summary=tuple(part["text"] for part in lists["summary"]),
            raw=self.item.raw(**lists),
        )


@dataclass(slots=True)
class _Call:
    """A tool call being streamed; ``text`` is its raw input."""

    position: int
    item: _Item
    id: str
    name: str
    provider_executed: bool
    text: _Text = field(default_factory=_Text)
    ended: bool = False  # ToolCallEnd has gone
    finished: bool = False  # its own ``.done`` came, or a completed response ended it

    def snapshot(self) -> ToolCall:
        raw_arguments = self.text.text
        key = _CALL_INPUT[self.item.type]
        parsed = _json_object(raw_arguments)
        complete = self.finished and self.item.form.get("status") != "incomplete"
        complete = complete and (parsed is not None or key == "input")  # free-form input
        return ToolCall(
            self.id,
            self.name,
            parsed or {},
            raw_arguments,
            self.provider_executed,
            complete=complete,
            item_id=self.item.id or None,
            raw=self.item.raw(**{key: raw_arguments}),
        )


@dataclass(slots=True)
class _Other:
    position: int
    data: Mapping[str, Any]

    def snapshot(self) -> ContentBlock:
        return OtherBlock(str(self.data.get("type", "")), self.data)


_Draft: TypeAlias = _Part | _Reasoning | _Call | _Other
_Growing: TypeAlias = _Part | _Reasoning | _Call
_D = TypeVar("_D", _Part, _Reasoning, _Call, _Other)


class Interpreter(BaseInterpreter[_Draft]):
    """Interprets one Responses stream (the rules are in the package docstring)."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "response.completed"

    def __init__(self) -> None:
        super().__init__()
        self._declared: set[str] = set()  # function and custom tools, wherever declared
        self._server_side = False  # ``tools`` lists a tool the provider runs itself
        self._items: dict[int, _Item] = {}
        self._ignored: set[str] = set()
        self._reply: Mapping[str, Any] = {}

    def _feed(self, event: ServerSentEvent) -> None:
        self._dispatch(load_object(event.data), event.event)

    def _reply_raw(self) -> Mapping[str, Any]:
        return self._reply

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
            self._append(self._part(oi, ci, _part_type(kind)), _str_at(data, "delta"))
        elif kind in ("response.output_text.done", "response.refusal.done"):
            oi, ci = _int_at(data, "output_index"), _int_at(data, "content_index")
            part_type = _part_type(kind)
            part = self._part(oi, ci, part_type)
            if part.kind == part_type:
                self._settle(part, _str_at(data, _PROSE[part_type]), final=True)
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            key = "summary" if "summary" in kind else "content"
            oi, index = _int_at(data, "output_index"), _int_at(data, f"{key}_index")
            self._think(oi, (key, index), _str_at(data, "delta"))
        elif kind in (
            "response.function_call_arguments.delta",
            "response.custom_tool_call_input.delta",
        ):
            item_type = "function_call" if "function" in kind else "custom_tool_call"
            call = self._call(_int_at(data, "output_index"), {"type": item_type})
            if not call.ended:
                self._append(call, _str_at(data, "delta"))
        elif kind in (
            "response.function_call_arguments.done",
            "response.custom_tool_call_input.done",
        ):
            item_type = "function_call" if "function" in kind else "custom_tool_call"
            named = {"type": item_type, "name": data.get("name")}
            call = self._call(_int_at(data, "output_index"), named)
            self._settle(call, _str_at(data, _CALL_INPUT[item_type]), final=True)
            call.finished = True
            self._end_call(call)
        elif kind in _TERMINAL:
            self._terminal(_object_at(data, "response"), kind)
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
        """Take the id and model (the latest win), the reply's fields and the declared tools."""
        self._id = as_string(response.get("id")) or self._id
        self._model = as_string(response.get("model")) or self._model
        self._reply = {key: value for key, value in response.items() if key != "output"}
        if tools := as_array(response.get("tools")):
            self._declare(tools)

    def _declare(self, tools: list[object]) -> None:
        """Note the tools of a ``tools`` list (a response's, a ``namespace`` tool's, a
        ``tool_search_output``'s): the names of function and custom tools, and whether
        one runs on the provider's side."""
        for tool in map(as_object, tools):
            kind = tool.get("type")
            if kind in ("custom", "function"):
                self._declared.add(as_string(tool.get("name")))
            elif kind == "namespace":
                self._declare(as_array(tool.get("tools")))
            elif isinstance(kind, str) and kind:
                self._server_side = True

    def _terminal(self, response: dict[str, Any], kind: str) -> None:
        self._take_response(response)
        self._start()
        status = as_string(response.get("status"))
        completed = status == "completed" or (not status and kind != "response.incomplete")
        if output := as_array(response.get("output")):
            self._reconcile([as_object(item) for item in output], completed)
        for draft in self._blocks:
            if isinstance(draft, _Call) and not draft.ended:  # its ``.done`` never came
                draft.finished = completed
                self._end_call(draft)
        if (usage := _usage(as_object(response.get("usage")))) is not None:
            self._usage = usage
            self._emit(UsageUpdate(usage))
        reason = as_object(response.get("incomplete_details")).get("reason")
        self._stop_reason = as_string(reason) or status or None
        self._done = True
        self._emit(MessageStop(self._stop_reason, self.message))

    def _reconcile(self, output: list[dict[str, Any]], completed: bool) -> None:
        """Settle every block with the terminal response's form of its item."""
        streamed = sorted(self._items)
        if len(output) == len(streamed):  # in order: Copilot's item ids do not match
            for oi, item in zip(streamed, output, strict=True):
                self._apply_item(oi, item, final=True, finishes=completed)
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
            self._apply_item(known, item, final=True, finishes=completed)

    def _raise_error(self, raw: object) -> NoReturn:
        error = as_object(raw)
        raise APIStreamError(
            provider=PROVIDER,
            partial=self.message,
            error_type=as_string(error.get("code")) or as_string(error.get("type")),
            error_message=as_string(error.get("message")),
        )

    # --- items and their blocks ----------------------------------------------------------------

    def _apply_item(
        self, oi: int, item: dict[str, Any], *, final: bool, finishes: bool = True
    ) -> None:
        """Bring output item ``oi`` and its blocks up to ``item``, a whole form of it.

        ``final``: the form is the item's last word (``.done``, the terminal response);
        ``finishes``: it also says a tool call got to its end (not so an incomplete
        response's form of a call whose own ``.done`` never came).
        """
        item_type = as_string(item.get("type"))
        slot = self._items.setdefault(oi, _Item(item_type))
        if slot.type != item_type:
            logger.warning("openai-responses: item %d is a %r, not a %r", oi, slot.type, item_type)
            return
        slot.id = as_string(item.get("id")) or slot.id
        built = {"message": ("content",), "reasoning": ("content", "summary")}.get(item_type, ())
        key = _CALL_INPUT.get(item_type)
        slot.form = {k: v for k, v in item.items() if k not in built and k != key}
        if item_type == "message":
            parts = as_array(item.get("content"))
            for ci, part in enumerate(parts):
                self._apply_part(oi, ci, as_object(part), final=final)
            if final and not parts and all(ci < 0 for ci in slot.blocks):
                # no part at all: the item goes back whole, or its id is lost
                self._draft(oi, "message", -1, _Other, lambda at: _Other(at, item)).data = item
        elif item_type == "reasoning":
            self._apply_reasoning(oi, item, final=final)
        elif key is not None:
            call = self._call(oi, item)
            if isinstance(raw := item.get(key), str):
                self._settle(call, raw, final=final)
            if final:
                call.finished = call.finished or finishes
                self._end_call(call)
        else:
            if item_type == "tool_search_output":
                self._declare(as_array(item.get("tools")))
            self._draft(oi, item_type, 0, _Other, lambda at: _Other(at, item)).data = item

    def _apply_part(self, oi: int, ci: int, part: dict[str, Any], *, final: bool) -> None:
        slot = self._items.get(oi)
        if slot is not None and slot.type != "message":
            return  # a reasoning item's parts: its deltas and its whole form carry them
        part_type = as_string(part.get("type"))
        if not part_type:
            return  # a form that does not say what it is: the deltas say it
        draft = self._part(oi, ci, part_type)
        if draft.kind != part_type:
            return  # a whole form of another type than the part's deltas: theirs stands
        draft.form = {k: v for k, v in part.items() if k != _PROSE.get(part_type)}
        text = part.get(_PROSE.get(part_type, ""))
        if isinstance(text, str):
            self._settle(draft, text, final=final)
        if final and "annotations" in part:
            draft.citations = tuple(filter(None, map(as_object, as_array(part["annotations"]))))

    def _apply_reasoning(self, oi: int, item: dict[str, Any], *, final: bool) -> None:
        thinking = self._reasoning(oi)
        thinking.has_content = isinstance(item.get("content"), list)
        if final:  # the whole statement of every part: it replaces what the deltas built
            thinking.parts.clear()
        for key, _ in _REASONING_PARTS:
            for index, value in enumerate(as_array(item.get(key))):
                part = as_object(value)
                form = {k: v for k, v in part.items() if k != "text"}
                whole = as_string(part.get("text"))
                known = thinking.parts.get((key, index))
                if known is None or whole.startswith(known[1].text):  # older: if it adds
                    thinking.parts[key, index] = (form, _Text(whole))
        if final:
            self._settle(thinking, _reasoning_text(item), final=True)
            signature = as_string(item.get("encrypted_content")) or None
            if signature is not None and signature != thinking.signature:
                thinking.signature = signature
                self._emit(ThinkingDelta(thinking.position, signature=signature))

    def _part(self, oi: int, ci: int, part_type: str) -> _Part:
        slot = self._items.setdefault(oi, _Item("message"))
        default = {"type": part_type}
        return self._draft(oi, "message", ci, _Part, lambda at: _Part(at, slot, part_type, default))

    def _reasoning(self, oi: int) -> _Reasoning:
        slot = self._items.setdefault(oi, _Item("reasoning"))
        return self._draft(oi, "reasoning", 0, _Reasoning, lambda at: _Reasoning(at, slot))

    def _call(self, oi: int, item: dict[str, Any]) -> _Call:
        """The tool call of item ``oi``, started (``ToolCallStart``) when first seen."""
        item_type = as_string(item.get("type"))
        call_id, name = as_string(item.get("call_id")), as_string(item.get("name"))
        executed = (  # xAI's X search: a custom call to a tool nobody declared
            item_type == "custom_tool_call"
            and bool(name)
            and self._server_side
            and name not in self._declared
            and item.get("namespace") is None
        )
        known = oi in self._items and 0 in self._items[oi].blocks
        slot = self._items.setdefault(oi, _Item(item_type))
        call = self._draft(
            oi, item_type, 0, _Call, lambda at: _Call(at, slot, call_id, name, executed)
        )
        if not known:
            self._emit(ToolCallStart(call.position, call_id, name, executed))
        elif name or call_id:  # a later statement wins (``ToolCallEnd`` carries it)
            call.id, call.name = call_id or call.id, name or call.name
            call.provider_executed = executed if name else call.provider_executed
        return call

    def _end_call(self, call: _Call) -> None:
        if not call.ended:
            call.ended = True
            self._emit(ToolCallEnd(call.position, call.snapshot()))

    def _think(self, oi: int, part: tuple[str, int], delta: str) -> None:
        thinking = self._reasoning(oi)
        if delta:
            kind = dict(_REASONING_PARTS)[part[0]]
            thinking.parts.setdefault(part, ({"type": kind}, _Text()))[1].add(delta)
            separator = "\n\n" if thinking.text.length and thinking.last != part else ""
            thinking.last = part
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

    def _append(self, draft: _Growing, delta: str) -> None:
        if not delta:
            return
        draft.text.add(delta)
        if isinstance(draft, _Call):
            self._emit(ToolCallDelta(draft.position, delta))
        elif isinstance(draft, _Reasoning):
            self._emit(ThinkingDelta(draft.position, thinking=delta))
        elif draft.kind in _PROSE:
            self._emit(TextDelta(draft.position, delta, refusal=draft.kind == "refusal"))

    def _settle(self, draft: _Growing, whole: str, *, final: bool) -> None:
        """Bring a block's text to ``whole``, a later statement of all of it.

        What ``whole`` adds to the text is emitted as a delta. A ``whole`` that contradicts
        it (or would add to a tool call that has ended) replaces it if ``final``, logged;
        otherwise (an ``.added`` form, older than the deltas) it is ignored.
        """
        ended = isinstance(draft, _Call) and draft.ended
        text = draft.text.text
        if whole.startswith(text) and not ended:
            self._append(draft, whole[len(text) :])
        elif final and whole != text:
            logger.warning(
                "openai-responses: the whole form of block %d disagrees with its deltas;"
                " keeping the whole form",
                draft.position,
            )
            draft.text.replace(whole)


# --- reading JSON values --------------------------------------------------------------------------


def _part_type(kind: str) -> str:
    """The message part type a text event is about."""
    return "refusal" if "refusal" in kind else "output_text"


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


def _json_object(raw: str) -> dict[str, Any] | None:
    """Tool arguments parsed: ``{}`` when empty, ``None`` when not a JSON object (cut off,
    free-form, or any other JSON value)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to parse
        return None
    parsed = as_object(value)
    return parsed if isinstance(value, dict) else None


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
    total = as_int(usage.get("input_tokens"))
    return Usage(
        input_tokens=total or 0,
        output_tokens=as_int(usage.get("output_tokens")) or 0,
        cache_read_input_tokens=as_int(inputs.get("cached_tokens")),
        cache_creation_input_tokens=as_int(inputs.get("cache_write_tokens")),
        reasoning_tokens=as_int(outputs.get("reasoning_tokens")),
        total_input_tokens=total,
        raw=usage,
    )
