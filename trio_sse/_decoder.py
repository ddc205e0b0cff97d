"""Bytes to events: the WHATWG event-stream interpretation as a sans-IO state machine.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

The decoder does no I/O and knows nothing of Trio or HTTP: feed it the body's bytes in
chunks of any size and it returns the events each chunk completes. The work per chunk is
proportional to the chunk: a line that spans chunks is kept as a list of pieces and joined
once, when its end arrives.

Two paths give the same events. The line path is the specification, line by line. The
fast path is for what real servers send nearly always: from an event boundary, events of
one ``data: `` line, each optionally after one ``event: `` line. A chunk that is exactly
one such event (a token, as models send them) is one ``fullmatch``; a chunk of several is
scanned with one ``match`` per event; an unfinished event at the end of a chunk is carried
as text (up to 4 KiB) to be scanned whole with the next one. Anything of another shape goes
down the line path from where the fast path stopped. Pure Python cannot afford a loop
iteration per line at token rates; it can afford one pattern match per event.
"""

from __future__ import annotations

import re
import sys
from codecs import utf_8_decode
from contextlib import suppress
from typing import Final, NoReturn

from httpx_sse import ServerSentEvent

from ._errors import EventTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder"]

DEFAULT_MAX_EVENT_SIZE: Final = 4 * 1024 * 1024
"""4 Mi characters: well above any provider's event, small enough to bound memory."""

_BOM: Final = "\ufeff"
_CARRY_LIMIT: Final = 4096
"""The most text of an unfinished event kept raw between chunks; more goes line by line,
so the re-joining this costs stays linear."""
# Possessive where Python has it (3.11+): a long value that is not followed by the blank
# line is then given up at once instead of backtracked through character by character.
_VALUE: Final = "[^\n]*+" if sys.version_info >= (3, 11) else "[^\n]*"
_SIMPLE_EVENT: Final = re.compile(f"(?:event: ({_VALUE})\n)?data: ({_VALUE})\n\n")
"""What nearly every event on the wire looks like."""
_BLANK_RUN: Final = re.compile("\n\n\n+")
"""Blank lines after a line end: all but the first are no-ops (the ID is already set)."""
_VALUE_CRLF: Final = "[^\r]*+" if sys.version_info >= (3, 11) else "[^\r]*"
_SIMPLE_EVENT_CRLF: Final = re.compile(
    f"(?:event: ({_VALUE_CRLF})\r\n)?data: ({_VALUE_CRLF})\r\n\r\n"
)
"""The same with CR LF line ends. ``[^\\r]`` lets an LF into a value, so the scan refuses a
match that holds one; excluding both characters makes the match twice as slow."""


def _holds_no_end(text: str) -> bool:
    """Whether ``text``, carried from a boundary, holds no blank line and no retry field.

    A blank line is two line ends in a row, in any mix of CR, LF and CR LF. Checked on the
    carry's last 4 characters plus a new piece, it finds anything the seam splits.
    """
    return not ("\n\n" in text or "\n\r" in text or "\r\r" in text or "retry" in text)


class SSEDecoder:
    """Decodes a ``text/event-stream`` body into :class:`httpx_sse.ServerSentEvent` objects.

    Follows the WHATWG rules exactly: UTF-8 with U+FFFD for bad bytes (a character may be
    split across chunks); one leading BOM ignored; CR, LF and CRLF line ends (a CR that ends
    a chunk ends its line at once; an LF that starts the next chunk is then skipped);
    comments; one space after the colon removed; ``data`` lines joined with LF; an event
    with no ``data`` line is not dispatched; an ``id`` holding U+0000 ignored; ``retry``
    only when all ASCII digits; unknown fields ignored; an unterminated event at the end of
    the stream never dispatched (so it is never returned).

    Each event's ``id`` is the last event ID in force when it was dispatched, and its
    ``retry`` the value its own block set (``None`` if none), as in httpx-sse.

    Sans-IO and synchronous: no method is a checkpoint, so a ``feed`` is never cancelled
    half-way, and a decoder can be driven from any task (one at a time).

    Memory is bounded whatever the stream: by the chunk being fed, plus at most
    ``max_event_size`` characters of held line and event data (and 4 KiB of carried text).
    A run of blank lines costs a constant per byte, whatever its length.

    Args:
        max_event_size: the most characters one event's data, or any one line, may hold.
            An event's data is counted as delivered: its ``data`` values joined by line
            feeds, the joining line feeds included, so an endless run of empty ``data``
            lines is bounded too. Beyond it :meth:`feed` raises
            :class:`~trio_sse.EventTooLargeError` instead of growing. Defaults to
            :data:`DEFAULT_MAX_EVENT_SIZE` (4 Mi).
    """

    __slots__ = (
        "_after_cr",
        "_at_boundary",
        "_at_start",
        "_careful",
        "_carry",
        "_carry_limit",
        "_carry_size",
        "_carry_tail",
        "_data",
        "_data_size",
        "_event_retry",
        "_event_type",
        "_failed",
        "_id_buffer",
        "_last_event_id",
        "_max_event_size",
        "_partial",
        "_partial_size",
        "_retry",
        "_undecoded",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be at least 1, got {max_event_size}")
        self._max_event_size = max_event_size
        self._carry_limit = min(_CARRY_LIMIT, max_event_size)
        self._last_event_id = ""
        self._retry: int | None = None
        self.new_stream()

    @property
    def last_event_id(self) -> str:
        """The last event ID, as the next reconnection must send it in ``Last-Event-ID``.

        Set at each blank line from the most recent valid ``id`` field, even when no event
        is dispatched there; an ``id`` in an event cut off by the end of a stream never
        takes effect. Kept by :meth:`new_stream`.
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry`` value (the reconnection time, in ms), or ``None``.

        Kept by :meth:`new_stream`.
        """
        return self._retry

    @property
    def max_event_size(self) -> int:
        """The limit given to the constructor."""
        return self._max_event_size

    def new_stream(self) -> None:
        """Start a new stream on this decoder, as after a reconnection.

        Discards any partial line, partial event and undecoded bytes, and allows a leading
        BOM again; keeps :attr:`last_event_id` and :attr:`retry`. Also the way to go on
        after :class:`~trio_sse.EventTooLargeError`.
        """
        self._undecoded = b""  # at most 3 bytes of a UTF-8 sequence split across chunks
        self._at_start = True  # no text seen yet in this stream: a BOM may come
        self._after_cr = False  # the last chunk ended in CR: an LF starting the next is skipped
        self._failed = False
        self._careful = True  # any of the four above: the next chunk takes the careful path
        self._at_boundary = True  # the last line was blank (or none yet): no line held
        # At a boundary, the start of the next event, not yet interpreted, in pieces: a
        # piece that cannot end the event is appended, not re-joined and re-scanned.
        self._carry: list[str] = []
        self._carry_size = 0
        self._carry_tail = ""  # the carry's last 4 characters, for what a seam may hide
        self._partial: list[str] = []  # pieces of the line not yet ended
        self._partial_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._event_retry: int | None = None
        self._id_buffer = self._last_event_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Take the next chunk of the body; return the events it completes, in order.

        Raises:
            EventTooLargeError: an event's data or a line exceeded ``max_event_size``. The
                events this chunk completed before that point are on the exception's
                ``events``; the decoder then holds nothing of the stream, and needs
                :meth:`new_stream` before it takes bytes again.
        """
        if self._careful:
            text = self._careful_text(chunk)
        else:
            try:
                text = chunk.decode()  # the common case: whole, valid UTF-8
            except UnicodeDecodeError:
                text = self._careful_text(chunk)
        if self._carry:
            # Only a piece shorter than the carry is worth appending: re-scanning a carry
            # no longer than the new text costs no more than the text itself.
            if len(text) < self._carry_size and self._carry_size + len(text) <= self._carry_limit:
                seam = self._carry_tail + text
                if _holds_no_end(seam):
                    self._carry.append(text)  # still no event ends: nothing to scan yet
                    self._carry_size += len(text)
                    self._carry_tail = seam[-4:]
                    return []
            carry = self._carry
            text = carry[0] + text if len(carry) == 1 else "".join(carry) + text
            self._carry = []
        events: list[ServerSentEvent] = []
        if "\r" in text:
            if self._at_boundary and len(text) <= self._max_event_size:
                start = self._scan(text, 0, _SIMPLE_EVENT_CRLF, events)
                if start < len(text):
                    self._carry_or_feed(text[start:], events)
                return events
            text = self._lf_only(text)
        if len(text) > self._max_event_size:
            self._feed_lines(text, events)  # it may hold a line over the limit: check each
            return events
        start = 0
        if self._at_boundary:
            whole = _SIMPLE_EVENT.fullmatch(text)
            if whole is not None:  # a chunk of one simple event: a token, as models send them
                event_type, data = whole.groups()
                event_type = event_type and sys.intern(event_type)
                return [ServerSentEvent(event_type, data, self._last_event_id, None)]
        else:  # finish the event begun in an earlier chunk, line by line
            start = self._end_of_event(text)
            if start < 0:  # no event ends in this chunk
                self._feed_lines(text, events)
                return events
            self._feed_lines(text[:start], events)
        start = self._scan(text, start, _SIMPLE_EVENT, events)
        if start < len(text):
            self._carry_or_feed(text[start:], events)
        return events

    def _carry_or_feed(self, rest: str, events: list[ServerSentEvent]) -> None:
        """What follows the scanned events, from a boundary: carry it or read its lines.

        While it holds no blank line (no event ends in it yet) and is short, it is kept as
        text, so that the next chunk scans it whole instead of sending the seam down the
        line path. Of its lines only a retry field acts before the blank line: text that
        may hold one goes line by line. A blank line is two line ends in a row, in any
        mix of CR, LF and CR LF, or one at the start.
        """
        if len(rest) <= self._carry_limit and not (
            rest[0] in "\r\n"
            or "\n\n" in rest
            or "\n\r" in rest
            or "\r\r" in rest
            or "retry" in rest
        ):  # as _holds_no_end, inline: this runs once per chunk of a token stream
            self._carry = [rest]
            self._carry_size = len(rest)
            self._carry_tail = rest[-4:]
        else:
            self._feed_lines(self._lf_only(rest) if "\r" in rest else rest, events)

    def _lf_only(self, text: str) -> str:
        """CR LF and lone CR made LF, for the line path; a final CR is a line end now."""
        if text[-1] == "\r":
            self._after_cr = self._careful = True  # an LF starting the next chunk is its pair
        text = text.replace("\r\n", "\n")
        if "\r" in text:  # a lone CR: rare, most CR streams are CR LF throughout
            text = text.replace("\r", "\n")
        return text

    def _end_of_event(self, text: str) -> int:
        """Where the first blank line in ``text`` ends (after its LF), or -1.

        For a chunk that continues an event. CPython finds one character with memchr but
        two an order of magnitude slower, so the two-character search starts at the first
        LF: a chunk of one long line costs a memchr, and a chunk of many short lines (a
        flood of comments) one search in C, not a Python loop per line.
        """
        if text[:1] == "\n" and not self._partial:
            return 1  # the previous chunk ended a line: this LF ends a blank line
        end = text.find("\n")
        if end >= 0:
            end = text.find("\n\n", end)
        return end if end < 0 else end + 2

    def _scan(
        self, text: str, start: int, pattern: re.Pattern[str], events: list[ServerSentEvent]
    ) -> int:
        """Take the simple events from ``start`` (a boundary); return where it stopped.

        A simple event is ``[event: TYPE EOL] data: DATA EOL EOL``, EOL being the
        pattern's; its ID is the last event ID and its retry ``None``, as the line path
        would have them at a boundary.
        """
        crlf = pattern is _SIMPLE_EVENT_CRLF
        append = events.append
        intern = sys.intern
        match = pattern.match
        last_event_id = self._last_event_id
        end = len(text)
        pos = start
        while pos < end:
            found = match(text, pos)
            if found is None:
                break
            event_type, data = found.groups()
            if crlf and ("\n" in data or (event_type is not None and "\n" in event_type)):
                break  # a lone LF is a line end: not a simple event after all
            # One string for each event name, not one per event: a stream names a handful,
            # and an event held in the channel is a fifth lighter without its own copy.
            append(ServerSentEvent(event_type and intern(event_type), data, last_event_id, None))
            pos = found.end()
        return pos

    def _feed_lines(self, text: str, events: list[ServerSentEvent]) -> None:
        """The line path: every line of ``text``, the first continuing any held line."""
        if "\n" not in text:  # only more of the line under way (and cheaper than split)
            lines: list[str] = []
            tail = text
        else:
            if "\n\n\n" in text:
                # Blank lines after the first in a row do nothing: a flood of them costs
                # a search in C per byte, not a loop iteration per line.
                text = _BLANK_RUN.sub("\n\n", text)
            lines = text.split("\n")
            tail = lines.pop()  # after the last line end: "" when ``text`` ends a line
        if lines:
            if self._partial:
                if self._partial_size + len(lines[0]) > self._max_event_size:
                    self._fail(events)  # the line under way ends here, over the limit
                self._partial.append(lines[0])
                lines[0] = "".join(self._partial)
                self._partial = []
                self._partial_size = 0
            if len(text) > self._max_event_size:
                # Only a text longer than the limit can hold a line longer than the limit.
                for index, line in enumerate(lines):
                    if len(line) > self._max_event_size:
                        self._interpret(lines[:index], events)
                        self._fail(events)
            self._interpret(lines, events)
            self._at_boundary = not tail and lines[-1] == ""
        if tail:
            self._at_boundary = False
            self._partial.append(tail)
            self._partial_size += len(tail)
            if self._partial_size > self._max_event_size:
                self._fail(events)

    def _careful_text(self, chunk: bytes) -> str:
        """Decode ``chunk`` minding the stream's edges: split characters, BOM, CR LF."""
        if self._failed:
            raise RuntimeError("SSEDecoder.feed() after EventTooLargeError: call new_stream()")
        if self._undecoded:
            chunk = self._undecoded + chunk
        text, used = utf_8_decode(chunk, "replace", False)
        self._undecoded = chunk[used:]
        if text:
            if self._at_start:
                self._at_start = False
                if text[0] == _BOM:
                    text = text[1:]
            if self._after_cr:
                self._after_cr = False
                if text[:1] == "\n":
                    text = text[1:]
        self._careful = self._at_start or self._after_cr or bool(self._undecoded)
        return text

    def _fail(self, events: list[ServerSentEvent]) -> NoReturn:
        """Drop the stream's state and raise: ``events`` are those this chunk completed."""
        self.new_stream()
        self._failed = True
        raise EventTooLargeError(max_event_size=self._max_event_size, events=events)

    def _interpret(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        """Apply complete lines to the event being built; append dispatched events.

        The hot loop: the state lives in locals and is written back once. The data limit
        is checked at the data line that crosses it, so no later line of the same event
        (a ``retry``, the blank line that sets the last event ID) ever takes effect, however
        the stream was cut.
        """
        limit = self._max_event_size + 1  # ``size`` counts an LF after every value, the last too
        data = self._data
        size = self._data_size
        event_type = self._event_type
        for line in lines:
            if not line:
                # Dispatch. The last event ID takes effect even when nothing is dispatched.
                self._last_event_id = self._id_buffer
                if data:
                    events.append(
                        ServerSentEvent(
                            event_type and sys.intern(event_type),
                            "\n".join(data),
                            self._last_event_id,
                            self._event_retry,
                        )
                    )
                    data = []
                    size = 0
                event_type = ""
                self._event_retry = None
            elif line[:6] == "data: ":  # the most common line of all, so it goes first
                data.append(line[6:])
                size += len(line) - 5
                if size > limit:
                    self._fail(events)
            elif line[:7] == "event: ":
                event_type = line[7:]
            else:
                name, _, value = line.partition(":")
                if not name:
                    continue  # a comment
                if value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    data.append(value)
                    size += len(value) + 1
                    if size > limit:
                        self._fail(events)
                elif name == "event":
                    event_type = value
                elif name == "id":
                    if "\0" not in value:
                        self._id_buffer = value
                elif name == "retry" and value.isascii() and value.isdigit():
                    # More digits than int() takes (sys.int_info) is no reconnection time.
                    with suppress(ValueError):
                        self._retry = self._event_retry = int(value)
        self._data = data
        self._data_size = size
        self._event_type = event_type
