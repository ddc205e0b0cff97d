"""The Gemini interpreter: ``GenerateContentResponse`` chunks as neutral events and one
:class:`Message` whose blocks keep their parts (the rules are in the package docstring).

Accumulation is linear: text and argument pieces are kept in lists and joined when a
snapshot is taken, never copied on each delta.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from httpx_sse import ServerSentEvent

from .._base import BaseInterpreter, logger
from .._errors import APIStreamError
from .._json import (
    Malformed,
    as_array,
    as_int,
    as_object,
    as_string,
    compact,
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

PROVIDER = "gemini"

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PART_META = frozenset({"thought", "thoughtSignature", "partMetadata", "videoMetadata"})
_CITATION_LISTS = ("citationSources", "citations")  # the Gemini API's, Vertex AI's
_STREAMING_ONLY = frozenset({"partialArgs", "willContinue"})  # not sent back: ``args`` is


def _joined(pieces: list[str]) -> str:
    """The pieces as one string, kept as the only piece (so the next join is cheap)."""
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0] if pieces else ""


@dataclass(slots=True, eq=False)
class _Prose:
    """A text or thought part being streamed: its text in pieces, its other fields."""

    fields: dict[str, Any]  # every field of the part but ``text``
    pieces: list[str] = field(default_factory=list[str])

    @property
    def thought(self) -> bool:
        return self.fields.get("thought") is True

    @property
    def signature(self) -> str | None:
        return as_string(self.fields.get("thoughtSignature")) or None

    def takes(self, fields: dict[str, Any]) -> bool:
        """A next part with these fields (its text aside) continues this one: neither is
        signed (Google: never merge a signed part with another) and the rest is equal."""
        return (
            "thoughtSignature" not in self.fields
            and "thoughtSignature" not in fields
            and fields == self.fields
        )

    def snapshot(self) -> ContentBlock:
        text = _joined(self.pieces)
        raw = {"text": text, **self.fields}
        if self.thought:
            return ThinkingBlock(text, signature=self.signature, raw=raw)
        return TextBlock(text, signature=self.signature, raw=raw)


@dataclass(slots=True)
class _Container:
    """An object or array open in a streamed argument JSON text."""

    step: str | int | None  # its key or index in its parent; None for the root object
    closer: str
    members: int = 0


@dataclass(slots=True, eq=False)
class _Call:
    """A tool call; ``pieces`` are its raw arguments, written as they stream."""

    position: int
    part: dict[str, Any]  # the part's fields but ``functionCall``, over the call's parts
    call: dict[str, Any]  # ``functionCall``'s fields but the streaming ones, likewise
    pieces: list[str] = field(default_factory=list[str])
    ended: ToolCall | None = None
    open: list[_Container] = field(default_factory=list[_Container])
    string_at: list[str | int] | None = None  # the path of a string still being written

    @property
    def id(self) -> str:
        return as_string(self.call.get("id"))

    @property
    def name(self) -> str:
        return as_string(self.call.get("name"))

    def update(self, part: dict[str, Any], call: dict[str, Any]) -> None:
        """Take a later part's fields (they win), the streaming ones aside."""
        self.part.update((k, v) for k, v in part.items() if k != "functionCall")
        self.call.update((k, v) for k, v in call.items() if k not in _STREAMING_ONLY)

    def snapshot(self) -> ToolCall:
        return self.ended if self.ended is not None else self.build(complete=False)

    def build(self, *, complete: bool) -> ToolCall:
        """The call as it stands; ``complete`` if it was not cut off (and its arguments
        parse: an object, or nothing at all)."""
        text = _joined(self.pieces)
        parsed = _object(text)
        call = dict(self.call)
        if "args" not in call and parsed is not None:
            call["args"] = parsed
        raw = {**self.part, "functionCall": call}
        return ToolCall(
            self.id,
            self.name,
            parsed if parsed is not None else {},
            text,
            signature=as_string(self.part.get("thoughtSignature")) or None,
            complete=complete and (parsed is not None or not text),
            raw=raw,
        )

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
    """Interprets one Gemini stream (the rules are in :mod:`trio_sse.providers.gemini`)."""

    _PROVIDER = PROVIDER
    _TERMINATOR = "a finishReason"

    def __init__(self) -> None:
        super().__init__()
        self._streaming: _Call | None = None  # a call whose arguments are still arriving
        self._reply: dict[str, Any] = {}  # top-level fields but candidates, last wins
        self._candidate: dict[str, Any] = {}  # candidate 0's fields but content, last wins
        # every distinct citation under each of its keys, in order of arrival
        self._citations: dict[str, list[Any]] = {}
        self._cited: set[tuple[str, str]] = set()

    def _feed(self, event: ServerSentEvent) -> None:
        self._chunk(load_object(event.data))

    def _reply_raw(self) -> dict[str, Any]:
        raw = dict(self._reply)
        if self._candidate:
            candidate = dict(self._candidate)
            if self._citations:
                metadata = as_object(candidate.get("citationMetadata"))
                gathered = {key: list(found) for key, found in self._citations.items()}
                candidate["citationMetadata"] = metadata | gathered
            raw["candidate"] = candidate
        return raw

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
        self._reply.update((k, v) for k, v in data.items() if k != "candidates")
        self._start()
        candidates = [as_object(c) for c in as_array(data.get("candidates"))]
        candidate = next((c for c in candidates if c.get("index", 0) == 0), as_object(None))
        if len(candidates) > 1:
            logger.debug("gemini: reading candidate 0 of %d", len(candidates))
        self._candidate_fields(candidate)
        # Read first: a call ended by the final chunk's other parts (real final chunks
        # carry ``{"text": ""}``) did not end of its own accord, it was cut off.
        finish_reason = as_string(candidate.get("finishReason"))
        for part in as_array(as_object(candidate.get("content")).get("parts")):
            if not isinstance(part, dict):
                kind = _JSON_TYPES.get(type(part).__name__, type(part).__name__)
                raise Malformed(f"a part is a JSON {kind}, not an object")
            if not part:
                logger.debug("gemini: an empty part, skipped")
                continue
            self._part(cast("dict[str, Any]", part), finishing=bool(finish_reason))
        usage = _usage(as_object(data.get("usageMetadata")))
        if usage is not None:
            if usage != self._usage:
                self._emit(UsageUpdate(usage))
            self._usage = usage
        feedback = as_object(data.get("promptFeedback"))
        if blocked := as_string(feedback.get("blockReason")):
            self._blocks.append(_Other("promptFeedback", feedback))
            self._stop(blocked)
        elif finish_reason:
            self._stop(finish_reason)

    def _candidate_fields(self, candidate: dict[str, Any]) -> None:
        """Keep what the candidate says besides its content; citations add up."""
        self._candidate.update((k, v) for k, v in candidate.items() if k != "content")
        metadata = as_object(candidate.get("citationMetadata"))
        for key in _CITATION_LISTS:
            for citation in as_array(metadata.get(key)):
                seen = (key, compact(citation))
                if seen not in self._cited:
                    self._cited.add(seen)
                    self._citations.setdefault(key, []).append(citation)

    def _part(self, part: dict[str, Any], *, finishing: bool) -> None:
        """Read one part; ``finishing``: its chunk carries the ``finishReason``."""
        if "functionCall" in part:
            self._function_call(part, as_object(part["functionCall"]))
            return
        self._end_streaming(cut=finishing)
        text = part.get("text")
        if isinstance(text, str):
            self._prose(text, {k: v for k, v in part.items() if k != "text"})
        else:  # the part, signature included, is kept whole
            kind = next((key for key in part if key not in _PART_META), "part")
            self._blocks.append(_Other(kind, part))

    def _prose(self, text: str, fields: dict[str, Any]) -> None:
        """Add a text or thought part: to the last block if that continues (see
        :meth:`_Prose.takes`), else as a block of its own."""
        last = self._blocks[-1] if self._blocks else None
        if not (isinstance(last, _Prose) and last.takes(fields)):
            if not text and fields.keys() <= {"thought"}:
                return  # an empty part with nothing else: nothing to keep or send back
            last = _Prose(fields)
            self._blocks.append(last)
        position = len(self._blocks) - 1
        if text:
            last.pieces.append(text)
            self._emit(
                ThinkingDelta(position, thinking=text)
                if last.thought
                else TextDelta(position, text)
            )
        if last.thought and "thoughtSignature" in fields and (signature := last.signature):
            self._emit(ThinkingDelta(position, signature=signature))

    def _function_call(self, part: dict[str, Any], call: dict[str, Any]) -> None:
        name, partial = as_string(call.get("name")), as_array(call.get("partialArgs"))
        if name or "args" in call or (partial and self._streaming is None):
            self._end_streaming()
            position = len(self._blocks)
            self._streaming = _Call(position, {}, {})
            self._blocks.append(self._streaming)
            self._streaming.update(part, call)
            self._emit(ToolCallStart(position, self._streaming.id, name))
            if "args" in call:
                self._arguments(compact(call["args"]))
        elif self._streaming is None:  # a bare ``functionCall: {}`` with no call open
            if "thoughtSignature" in part:
                logger.debug("gemini: a signed functionCall part with no call open, dropped")
            return
        else:
            self._streaming.update(part, call)
        for arg in (as_object(a) for a in partial):
            self._arguments(self._streaming.write(_path(arg.get("jsonPath")), arg))
        if call.get("willContinue") is not True:
            self._end_streaming()

    def _arguments(self, fragment: str) -> None:
        if (call := self._streaming) is not None and fragment:
            call.pieces.append(fragment)
            self._emit(ToolCallDelta(call.position, fragment))

    def _end_streaming(self, *, cut: bool = False) -> None:
        """End the call whose arguments were streaming; ``cut`` when the reply ended
        while the call said more would come."""
        if (call := self._streaming) is not None:
            self._arguments(call.close())
            call.ended = call.build(complete=not cut)
            self._emit(ToolCallEnd(call.position, call.ended))
            self._streaming = None

    def _stop(self, reason: str) -> None:
        self._end_streaming(cut=True)
        self._stop_reason, self._done = reason, True
        self._emit(MessageStop(reason, self.message))


_JSON_TYPES = {
    "list": "array",
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "NoneType": "null",
}


# --- reading JSON values --------------------------------------------------------------------------


def _object(text: str) -> dict[str, Any] | None:
    """Arguments text parsed: the object, or ``None`` if empty, cut off or not an object."""
    try:
        value = json.loads(text) if text.strip() else None
    except (ValueError, RecursionError):
        return None
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _path(raw: object) -> list[str | int]:
    """``$.a[0].b`` as ``["a", 0, "b"]``."""
    text, at = as_string(raw), 1
    steps: list[str | int] = []
    while text.startswith("$") and at < len(text):
        match = _PATH_STEP.match(text, at)
        if match is None:
            break
        key, index, quoted, double = match.groups()
        if index is not None:
            try:
                steps.append(int(index))
            except ValueError:  # more digits than int() converts
                raise Malformed(f"jsonPath index of {len(index)} digits") from None
        else:
            steps.append(key or quoted or double or "")
        at = match.end()
    if not steps or at != len(text):
        raise Malformed(f"unreadable jsonPath {text[:100]!r}")
    return steps


def _usage(meta: dict[str, Any]) -> Usage | None:
    """``usageMetadata`` as :class:`Usage`; ``None`` if it holds no token counts."""
    prompt, tool_use, candidates, thoughts = (
        as_int(meta.get(f"{name}TokenCount"))
        for name in ("prompt", "toolUsePrompt", "candidates", "thoughts")
    )
    if prompt is None and candidates is None and thoughts is None:
        return None
    input_tokens = (prompt or 0) + (tool_use or 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=(candidates or 0) + (thoughts or 0),
        cache_read_input_tokens=as_int(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
        total_input_tokens=input_tokens,
        raw=meta,
    )
