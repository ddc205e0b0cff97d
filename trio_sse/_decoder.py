"""Bytes to events: the WHATWG event-stream interpretation as a sans-IO state machine.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

The decoder does no I/O and knows nothing of Trio or HTTP: feed it the body's bytes in
chunks of any size and it returns the events each chunk completes. The work per chunk is
proportional to the chunk: a line that spans chunks is kept as a list of pieces and joined
once, when its end arrives.
"""

from __future__ import annotations

from codecs import utf_8_decode
from contextlib import suppress
from typing import Final

from httpx_sse import ServerSentEvent

from ._errors import EventTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder"]

DEFAULT_MAX_EVENT_SIZE: Final = 4 * 1024 * 1024
"""4 Mi characters: well above any provider's event, small enough to bound memory."""

_BOM: Final = "\ufeff"


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

    Args:
        max_event_size: the most characters one event's data (its ``data`` values summed),
            or any one line, may hold. Beyond it :meth:`feed` raises
            :class:`~trio_sse.EventTooLargeError` instead of growing. Defaults to
            :data:`DEFAULT_MAX_EVENT_SIZE` (4 Mi).
    """

    __slots__ = (
        "_after_cr",
        "_at_start",
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
        self._partial: list[str] = []  # pieces of the line not yet ended
        self._partial_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._event_retry: int | None = None
        self._id_buffer = self._last_event_id
        self._failed = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Take the next chunk of the body; return the events it completes, in order.

        Raises:
            EventTooLargeError: an event's data or a line exceeded ``max_event_size``. The
                events this chunk completed before that point are on the exception's
                ``events``; the decoder then holds nothing of the stream, and needs
                :meth:`new_stream` before it takes bytes again.
        """
        if self._failed:
            raise RuntimeError("SSEDecoder.feed() after EventTooLargeError: call new_stream()")
        if self._undecoded:
            chunk = self._undecoded + chunk
        text, used = utf_8_decode(chunk, "replace", False)
        if used != len(chunk):
            self._undecoded = chunk[used:]
        elif self._undecoded:
            self._undecoded = b""
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            if text[0] == _BOM:
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text[:1] == "\n":
                text = text[1:]
        if "\r" in text:
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")

        lines = text.split("\n")
        tail = lines.pop()  # the text after the last line end: "" when the chunk ends a line
        if not lines:
            return self._hold(tail, [])
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial = []
            self._partial_size = 0
        events: list[ServerSentEvent] = []
        if len(text) > self._max_event_size:
            # Only a chunk longer than the limit can hold a line longer than the limit.
            for index, line in enumerate(lines):
                if len(line) > self._max_event_size:
                    self._interpret(lines[:index], events)
                    self._fail(events)
        self._interpret(lines, events)
        return self._hold(tail, events)

    def _hold(self, tail: str, events: list[ServerSentEvent]) -> list[ServerSentEvent]:
        """Keep the unterminated ``tail`` and check what is held against the limit."""
        if tail:
            self._partial.append(tail)
            self._partial_size += len(tail)
            if self._partial_size > self._max_event_size:
                self._fail(events)
        if self._data_size > self._max_event_size:
            self._fail(events)
        return events

    def _fail(self, events: list[ServerSentEvent]) -> None:
        self.new_stream()
        self._failed = True
        raise EventTooLargeError(max_event_size=self._max_event_size, events=events)

    def _interpret(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        """Apply complete lines to the event being built; append dispatched events."""
        data = self._data
        for line in lines:
            if not line:
                # Dispatch. The last event ID takes effect even when nothing is dispatched.
                self._last_event_id = self._id_buffer
                if data:
                    if self._data_size > self._max_event_size:
                        self._fail(events)
                    events.append(
                        ServerSentEvent(
                            self._event_type,
                            "\n".join(data),
                            self._last_event_id,
                            self._event_retry,
                        )
                    )
                    data = self._data = []
                    self._data_size = 0
                self._event_type = ""
                self._event_retry = None
                continue
            name, _, value = line.partition(":")
            if not name:
                continue  # a comment
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
                self._data_size += len(value)
            elif name == "event":
                self._event_type = value
            elif name == "id":
                if "\0" not in value:
                    self._id_buffer = value
            elif name == "retry" and value.isascii() and value.isdigit():
                # More digits than int() takes (sys.int_info) is no reconnection time either.
                with suppress(ValueError):
                    self._retry = self._event_retry = int(value)
