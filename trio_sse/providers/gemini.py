"""Gemini's ``streamGenerateContent?alt=sse`` stream (Gemini API and Vertex AI), as neutral events.

Each event's data is a whole ``GenerateContentResponse``; only the first candidate
(``index`` 0) is read. Its ``content.parts`` become blocks of :attr:`Message.content`:

- consecutive text parts with the same ``thought`` flag join into one block (up to one
  that carries a signature, below): :class:`TextBlock`, or :class:`ThinkingBlock` for
  ``thought: true``;
- a ``functionCall`` part is a :class:`ToolCall` (``id`` is ``""`` when Gemini gives
  none). Arriving whole it yields ``ToolCallStart``, ``ToolCallDelta`` (its ``args`` as
  compact JSON) and ``ToolCallEnd`` at once. Vertex streams arguments instead: a part with
  the name and ``willContinue``, then parts of ``partialArgs`` (a JSON path and a scalar,
  strings in pieces), ended by a bare ``functionCall: {}``, by a part without
  ``willContinue``, or by anything else. Those pieces are written out as JSON text, in
  order, so the deltas add up to the ``raw_arguments`` and parse into ``arguments``;
- any other part (``executableCode``, ``inlineData``, ...): an :class:`OtherBlock` of it.

A ``thoughtSignature`` must be sent back on the part that carried it, so it is the
``signature`` of that part's block, which then takes no more text (the next part starts a
new block):

- on a thought part, the :class:`ThinkingBlock`'s, announced by a :class:`ThinkingDelta`
  with ``signature``;
- on a text part (often an empty one ending the stream), the :class:`TextBlock`'s. It has
  no stream event: text deltas carry text only; read it in the message (as
  :class:`MessageStop` has it);
- on a function-call part, the :class:`ToolCall`'s (Gemini 3 rejects a call sent back
  without it), carried by its :class:`ToolCallEnd`. A part that streams a call's arguments
  belongs to that call; a signed bare ``functionCall: {}`` with no call open is logged and
  dropped;
- any other part keeps it in its :class:`OtherBlock`'s data.

The candidate's ``citationMetadata`` and ``groundingMetadata`` are not read: they point
into the whole candidate's text by offsets, not into one part, so ``TextBlock.citations``
stays empty.

``finishReason`` (``"STOP"``, ``"MAX_TOKENS"``, ``"SAFETY"``, ...) is the ``stop_reason``
and the terminator; the stream has no other, so EOF without one is an incomplete stream.
A blocked prompt (``promptFeedback.blockReason``, no candidates) ends the reply too: an
:class:`OtherBlock` ``"promptFeedback"`` holds the feedback and ``stop_reason`` is the
block reason. Safety, like ``"MAX_TOKENS"``, is an outcome to read, not an exception. An
``{"error": {...}}`` chunk raises :class:`APIStreamError` (``error_type``: its ``status``).

``usageMetadata`` holds running totals (the last wins): ``input_tokens`` is
``promptTokenCount`` + ``toolUsePromptTokenCount``, ``output_tokens`` is
``candidatesTokenCount`` + ``thoughtsTokenCount`` (all generated tokens, as OpenAI counts
them; together they make ``totalTokenCount``), ``reasoning_tokens`` is
``thoughtsTokenCount``, ``cache_read_input_tokens`` is ``cachedContentTokenCount``.
``modelVersion`` is the model and ``responseId`` the id.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from httpx_sse import ServerSentEvent

from ._base import BaseInterpreter, logger
from ._errors import APIStreamError
from ._json import (
    Malformed,
    as_array,
    as_int,
    as_object,
    as_string,
    compact,
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

PROVIDER = "gemini"

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PART_META = frozenset({"thought", "thoughtSignature", "partMetadata", "videoMetadata"})


@dataclass(slots=True)
class _Prose:
    """A text or thinking block being streamed."""

    thought: bool
    text: str = ""
    signature: str | None = None

    def snapshot(self) -> ContentBlock:
        if self.thought:
            return ThinkingBlock(self.text, signature=self.signature)
        return TextBlock(self.text, signature=self.signature)


@dataclass(slots=True)
class _Container:
    """An object or array open in a streamed argument JSON text."""

    step: str | int | None  # its key or index in its parent; None for the root object
    closer: str
    members: int = 0


@dataclass(slots=True, eq=False)
class _Call:
    """A tool call; ``text`` is its raw arguments, written as they stream."""

    position: int
    id: str
    name: str
    text: str = ""
    signature: str | None = None
    ended: ToolCall | None = None
    open: list[_Container] = field(default_factory=list[_Container])
    string_at: list[str | int] | None = None  # the path of a string still being written

    def snapshot(self) -> ToolCall:
        if self.ended is not None:
            return self.ended
        arguments = parse_arguments(self.text)
        return ToolCall(self.id, self.name, arguments, self.text, signature=self.signature)

    def write(self, path: list[str | int], arg: dict[str, Any]) -> str:
        """The JSON text that puts one ``partialArgs`` value at ``path``."""
        out: list[str] = []
        if self.string_at is not None and self.string_at != path:
            out.append('"')  # a string left open: close it
            self.string_at = None
        if self.string_at is None:
            if not self.open:
                self.open.append(_Container(None, "}"))
                out.append("{")
            depth = 1  # containers below the root shared with the path so far
            while (
                depth < len(self.open)
                and depth < len(path)
                and self.open[depth].step == path[depth - 1]
            ):
                depth += 1
            while len(self.open) > depth:
                out.append(self.open.pop().closer)
            for k in range(depth, len(path)):
                out.append(self._member(path[k - 1]))
                out.append("[" if isinstance(path[k], int) else "{")
                self.open.append(_Container(path[k - 1], "]" if isinstance(path[k], int) else "}"))
            out.append(self._member(path[-1]))
        if "stringValue" in arg:
            piece = json.dumps(str(arg["stringValue"]), ensure_ascii=False)[1:-1]
            out.append(piece if self.string_at is not None else '"' + piece)
            self.string_at = path if arg.get("willContinue") is True else None
            out.append("" if self.string_at is not None else '"')
        else:  # ``nullValue`` is protobuf's enum: whatever it holds means null
            key = next((key for key in ("numberValue", "boolValue") if key in arg), "")
            out.append(json.dumps(arg.get(key), ensure_ascii=False))
        return "".join(out)

    def close(self) -> str:
        """The JSON text that closes whatever is open."""
        out = '"' if self.string_at is not None else ""
        self.string_at = None
        while self.open:
            out += self.open.pop().closer
        return out

    def _member(self, step: str | int) -> str:
        parent = self.open[-1]
        parent.members += 1
        comma = "," if parent.members > 1 else ""
        return comma + (json.dumps(step, ensure_ascii=False) + ":" if isinstance(step, str) else "")


@dataclass(slots=True)
class _Other:
    type: str
    data: dict[str, Any]

    def snapshot(self) -> ContentBlock:
        return OtherBlock(self.type, self.data)


_Draft: TypeAlias = _Prose | _Call | _Other


class Interpreter(BaseInterpreter[_Draft]):
    """Interprets one Gemini stream (the rules are in the module docstring)."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "a finishReason"

    def __init__(self) -> None:
        super().__init__()
        self._streaming: _Call | None = None  # a call whose arguments are still arriving

    def _feed(self, event: ServerSentEvent) -> None:
        self._chunk(load_object(event.data))

    # --- chunks and parts -----------------------------------------------------------------

    def _chunk(self, data: dict[str, Any]) -> None:
        if error := as_object(data.get("error")):
            raise APIStreamError(
                provider=PROVIDER,
                partial=self.message,
                error_type=as_string(error.get("status")) or str(error.get("code") or ""),
                error_message=as_string(error.get("message")),
            )
        self._id = as_string(data.get("responseId")) or self._id
        self._model = as_string(data.get("modelVersion")) or self._model
        self._start()
        candidates = [as_object(c) for c in as_array(data.get("candidates"))]
        candidate = next((c for c in candidates if c.get("index", 0) == 0), as_object(None))
        if len(candidates) > 1:
            logger.debug("gemini: reading candidate 0 of %d", len(candidates))
        for part in as_array(as_object(candidate.get("content")).get("parts")):
            if not as_object(part):
                raise Malformed("a part is not an object")
            self._part(as_object(part))
        usage = _usage(as_object(data.get("usageMetadata")))
        if usage is not None and usage != self._usage:
            self._usage = usage
            self._emit(UsageUpdate(usage))
        feedback = as_object(data.get("promptFeedback"))
        if blocked := as_string(feedback.get("blockReason")):
            self._blocks.append(_Other("promptFeedback", feedback))
            self._stop(blocked)
        elif finish_reason := as_string(candidate.get("finishReason")):
            self._stop(finish_reason)

    def _part(self, part: dict[str, Any]) -> None:
        signature = as_string(part.get("thoughtSignature")) or None
        if "functionCall" in part:
            self._function_call(as_object(part["functionCall"]), signature)
            return
        self._end_streaming()
        text = part.get("text")
        if isinstance(text, str):
            self._prose(text, part.get("thought") is True, signature)
        else:  # the part, signature included, is kept whole
            kind = next((key for key in part if key not in _PART_META), "part")
            self._blocks.append(_Other(kind, part))

    def _prose(self, text: str, thought: bool, signature: str | None) -> None:
        """Add a text or thought part: to the last block if it is of its kind and unsigned."""
        last = self._blocks[-1] if self._blocks else None
        if not (isinstance(last, _Prose) and last.thought == thought and last.signature is None):
            if not text and signature is None:
                return
            last = _Prose(thought)
            self._blocks.append(last)
        position = len(self._blocks) - 1
        if text:
            last.text += text
            self._emit(
                ThinkingDelta(position, thinking=text) if thought else TextDelta(position, text)
            )
        if signature is not None:
            last.signature = signature
            if thought:
                self._emit(ThinkingDelta(position, signature=signature))

    def _function_call(self, call: dict[str, Any], signature: str | None) -> None:
        name, partial = as_string(call.get("name")), as_array(call.get("partialArgs"))
        if name or "args" in call or (partial and self._streaming is None):
            self._end_streaming()
            position = len(self._blocks)
            self._streaming = _Call(position, as_string(call.get("id")), name)
            self._blocks.append(self._streaming)
            self._emit(ToolCallStart(position, self._streaming.id, name))
            if "args" in call:
                self._arguments(compact(call["args"]))
        elif self._streaming is None:  # a bare ``functionCall: {}`` with no call open
            if signature is not None:
                logger.debug("gemini: a signed functionCall part with no call open, dropped")
            return
        if signature is not None:
            self._streaming.signature = signature
        for arg in (as_object(a) for a in partial):
            self._arguments(self._streaming.write(_path(arg.get("jsonPath")), arg))
        if call.get("willContinue") is not True:
            self._end_streaming()

    def _arguments(self, fragment: str) -> None:
        if (call := self._streaming) is not None and fragment:
            call.text += fragment
            self._emit(ToolCallDelta(call.position, fragment))

    def _end_streaming(self) -> None:
        if (call := self._streaming) is not None:
            self._arguments(call.close())
            call.ended = call.snapshot()
            self._emit(ToolCallEnd(call.position, call.ended))
            self._streaming = None

    def _stop(self, reason: str) -> None:
        self._end_streaming()
        self._stop_reason, self._done = reason, True
        self._emit(MessageStop(reason, self.message))


# --- reading JSON values --------------------------------------------------------------------------


def _path(raw: object) -> list[str | int]:
    """``$.a[0].b`` as ``["a", 0, "b"]``."""
    text, at = as_string(raw), 1
    steps: list[str | int] = []
    while text.startswith("$") and at < len(text):
        match = _PATH_STEP.match(text, at)
        if match is None:
            break
        key, index, quoted, double = match.groups()
        steps.append(int(index) if index is not None else key or quoted or double or "")
        at = match.end()
    if not steps or at != len(text):
        raise Malformed(f"unreadable jsonPath {text!r}")
    return steps


def _usage(meta: dict[str, Any]) -> Usage | None:
    """``usageMetadata`` as :class:`Usage`; ``None`` if it holds no token counts."""
    prompt, tool_use, candidates, thoughts = (
        as_int(meta.get(f"{name}TokenCount"))
        for name in ("prompt", "toolUsePrompt", "candidates", "thoughts")
    )
    if prompt is None and candidates is None and thoughts is None:
        return None
    return Usage(
        input_tokens=(prompt or 0) + (tool_use or 0),
        output_tokens=(candidates or 0) + (thoughts or 0),
        cache_read_input_tokens=as_int(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )
