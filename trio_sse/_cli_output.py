"""What the command line prints, and where: one :class:`Printer` that tests can capture.

Three ways to show raw SSE events (:data:`EVENT_FORMATS`: human, jsonl, raw), and
:class:`ReplyPrinter`, which shows a provider's reply as it streams (text live, thinking
set apart, tool calls, then a summary line). Notices (retries, reconnects, errors) go to
standard error, so standard output holds only what the stream said.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, Final, Literal, TextIO, TypeAlias, cast

from httpx_sse import ServerSentEvent

from .providers import (
    Message,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCall,
    ToolCallEnd,
)

__all__ = [
    "EVENT_FORMATS",
    "OutputClosedError",
    "Printer",
    "ReplyPrinter",
    "log_notices",
    "neutral_json",
    "summary_line",
]

_CODES: Final = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}

Style: TypeAlias = Literal["bold", "dim", "red", "green", "yellow", "cyan"]


class OutputClosedError(Exception):
    """Standard output was closed under us (``trio-sse URL | head -1``): stop quietly."""


def wants_color(stream: TextIO) -> bool:
    """Colors on a terminal only, unless ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Printer:
    """Everything the command line shows goes through here; not a checkpoint.

    ``out`` gets the stream's content, flushed at every write, so a pipe sees each event
    as it arrives; ``err`` gets notices and errors, one line each, prefixed ``trio-sse:``.
    """

    def __init__(self, out: TextIO, err: TextIO, *, color: bool = False) -> None:
        self.out = out
        self.err = err
        self.color = color
        self._mid_line = False  # the last write to ``out`` did not end a line

    @classmethod
    def for_console(cls) -> Printer:
        """A printer on ``sys.stdout`` and ``sys.stderr``, colored on a terminal."""
        return cls(sys.stdout, sys.stderr, color=wants_color(sys.stdout))

    def paint(self, text: str, *styles: Style) -> str:
        """``text`` in ``styles`` when colors are on, else as it is."""
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_CODES[style] for style in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def write(self, text: str) -> None:
        """Write ``text`` to ``out`` and flush it.

        Raises:
            OutputClosedError: ``out`` is a pipe whose reader has gone.
        """
        if not text:
            return
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            raise OutputClosedError from None
        self._mid_line = not text.endswith("\n")

    def line(self, text: str = "") -> None:
        """Write ``text`` as a line of its own."""
        self.end_line()
        self.write(text + "\n")

    def end_line(self) -> None:
        """End the current line of ``out``, if something was left on it."""
        if self._mid_line:
            self.write("\n")

    def notice(self, text: str) -> None:
        """One line on ``err``: a retry, a reconnect, an interruption."""
        self._err_line(text)

    def error(self, text: str) -> None:
        """One line on ``err`` saying why the command failed."""
        self._err_line("error: " + text)

    def _err_line(self, text: str) -> None:
        with suppress(OutputClosedError):  # the error line matters more than the newline
            self.end_line()
        self.err.write(f"trio-sse: {one_line(text)}\n")
        self.err.flush()


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, newlines included, made one space."""
    return " ".join(text.split())


# --- raw SSE events ------------------------------------------------------------------------


def human_event(event: ServerSentEvent, printer: Printer) -> str:
    """The event's name, id and retry on one line, its data indented below."""
    header = printer.paint(event.event, "bold", "cyan")
    if event.id:
        header += " " + printer.paint(f"id={event.id}", "yellow")
    if event.retry is not None:
        header += " " + printer.paint(f"retry={event.retry}", "dim")
    return header + "\n" + "".join(f"  {line}\n" for line in event.data.split("\n"))


def jsonl_event(event: ServerSentEvent, printer: Printer) -> str:
    """One JSON object: ``event``, ``data``, ``id``, ``retry``."""
    fields = {"event": event.event, "data": event.data, "id": event.id, "retry": event.retry}
    return json.dumps(fields, ensure_ascii=False) + "\n"


def raw_event(event: ServerSentEvent, printer: Printer) -> str:
    """The data only, one line per event (data lines stay as they are)."""
    return event.data + "\n"


OutputMode: TypeAlias = Literal["human", "jsonl", "raw"]

EVENT_FORMATS: Final[Mapping[OutputMode, Callable[[ServerSentEvent, Printer], str]]] = {
    "human": human_event,
    "jsonl": jsonl_event,
    "raw": raw_event,
}


# --- provider replies ----------------------------------------------------------------------


class ReplyPrinter:
    """Shows a provider's neutral stream events as they arrive.

    ``human``: text live; thinking labelled (and dimmed on a terminal); each tool call on
    a line of its own; then :func:`summary_line`. ``raw``: the text only. ``jsonl``: one
    JSON object per neutral event (:func:`neutral_json`).
    """

    def __init__(self, printer: Printer, mode: OutputMode = "human") -> None:
        self._printer = printer
        self._mode = mode
        self._block: tuple[int, str] | None = None  # (index, kind) of the block on screen

    def feed(self, event: StreamEvent) -> None:
        """Show one event."""
        printer, mode = self._printer, self._mode
        if mode == "jsonl":
            printer.write(neutral_json(event) + "\n")
        elif isinstance(event, TextDelta):
            if mode == "raw" and event.refusal:
                return
            self._enter(event.index, "refusal" if event.refusal else "text")
            printer.write(printer.paint(event.text, "red") if event.refusal else event.text)
        elif mode == "raw":
            return
        elif isinstance(event, ThinkingDelta) and event.thinking:
            self._enter(event.index, "thinking")
            printer.write(printer.paint(event.thinking, "dim"))
        elif isinstance(event, ToolCallEnd):
            self._enter(event.index, "tool call")
            printer.write(printer.paint(_tool_call(event.call), "green") + "\n")

    def finish(self, message: Message) -> None:
        """The reply is complete: end its last line and, in human mode, summarise it."""
        if self._mode == "jsonl":
            return
        self._printer.end_line()
        if self._mode == "human":
            self._printer.line(self._printer.paint(summary_line(message), "dim"))

    def _enter(self, index: int, kind: str) -> None:
        if self._block == (index, kind):
            return
        printer = self._printer
        if self._block is not None:
            printer.end_line()
            if self._block[1] != "tool call" or kind != "tool call":
                printer.write("\n")  # a blank line between text and thinking
        self._block = (index, kind)
        if kind in ("thinking", "refusal", "tool call"):
            printer.write(printer.paint(f"[{kind}] ", "dim", "bold"))


def _tool_call(call: ToolCall) -> str:
    arguments = call.raw_arguments or "{}"
    by = " (run by the provider)" if call.provider_executed else ""
    return f"{call.name}({arguments}){by}"


def summary_line(message: Message) -> str:
    """The model, stop reason, token usage and tool calls of ``message``, on one line."""
    parts = [f"stop: {message.stop_reason or 'none'}"]
    usage = message.usage
    if usage is not None:
        tokens = f"usage: {usage.input_tokens} in, {usage.output_tokens} out"
        extra = [
            f"{count} {name}"
            for count, name in (
                (usage.cache_read_input_tokens, "cache read"),
                (usage.cache_creation_input_tokens, "cache write"),
                (usage.reasoning_tokens, "reasoning"),
            )
            if count
        ]
        parts.append(tokens + (f" ({', '.join(extra)})" if extra else ""))
    calls = ", ".join(call.name for call in message.tool_calls)
    parts.append(f"tool calls: {calls or 'none'}")
    model = f"[{message.model}] " if message.model else ""
    return model + " | ".join(parts)


def neutral_json(event: StreamEvent) -> str:
    """A neutral stream event as one JSON object, its class name as ``type``."""
    return json.dumps(_plain(event), ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **fields}
    if isinstance(value, Mapping):
        items = cast("Mapping[object, object]", value)
        return {str(key): _plain(item) for key, item in items.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in cast("list[object] | tuple[object, ...]", value)]
    return value


# --- the library's log as notices -------------------------------------------------------------


class _NoticeHandler(logging.Handler):
    def __init__(self, printer: Printer, level: int) -> None:
        super().__init__(level)
        self._printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._printer.notice(record.getMessage())
        except Exception:
            self.handleError(record)


@contextmanager
def log_notices(printer: Printer, *, verbose: bool = False) -> Generator[None, None, None]:
    """Show the ``trio_sse`` logger's records as notices while the block runs.

    INFO records (each retry with its reason and wait, each reconnect) always; DEBUG
    (connects, statuses, stream ends) too when ``verbose``.
    """
    logger = logging.getLogger("trio_sse")
    level = logging.DEBUG if verbose else logging.INFO
    handler = _NoticeHandler(printer, level)
    old_level = logger.level
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
