"""Where httpx-sse's own decoding departs from the WHATWG rules, case by case.

Each case runs the same chunks through httpx-sse's real path (``EventSource.iter_sse`` on
an httpx response) and through :class:`trio_sse.SSEDecoder`, and pins both results: the
WHATWG answer for trio-sse, httpx-sse's answer as it is today. Should httpx-sse fix one,
its case fails here and the README's list of differences needs the same edit.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import EventSource

from trio_sse import SSEDecoder

Event = tuple[str, str, str, "int | None"]


def httpx_sse_events(chunks: list[bytes], content_type: str = "text/event-stream") -> list[Event]:
    def body() -> Iterator[bytes]:
        yield from chunks

    response = httpx.Response(200, headers={"content-type": content_type}, content=body())
    return [(e.event, e.data, e.id, e.retry) for e in EventSource(response).iter_sse()]


def trio_sse_events(chunks: list[bytes]) -> list[Event]:
    decoder = SSEDecoder()
    return [(e.event, e.data, e.id, e.retry) for chunk in chunks for e in decoder.feed(chunk)]


CASES = {
    # An event with no data line must not be dispatched (the spec's step "if the data
    # buffer is an empty string ... return"); httpx-sse dispatches one with empty data.
    "no data, no event": (
        [b"event: ping\n\nid: 3\n\nretry: 100\n\n"],
        [],
        [("ping", "", "", None), ("message", "", "3", None), ("message", "", "3", 100)],
    ),
    # retry is set only when the value is all ASCII digits; httpx-sse uses int(), which
    # takes signs, spaces, underscores and non-ASCII digits.
    "retry not all digits": (
        [b"retry: -1\ndata: a\n\nretry: 1_000\ndata: b\n\n"],
        [("message", "a", "", None), ("message", "b", "", None)],
        [("message", "a", "", -1), ("message", "b", "", 1000)],
    ),
    # One leading BOM is ignored; httpx-sse keeps it, so the first field name becomes
    # "\ufeffdata" and the first event is lost.
    "leading BOM": (
        [b"\xef\xbb\xbfdata: first\n\ndata: second\n\n"],
        [("message", "first", "", None), ("message", "second", "", None)],
        [("message", "second", "", None)],
    ),
    # Event streams are always UTF-8; httpx-sse decodes with the response's charset
    # parameter, so a server that says latin-1 gets its UTF-8 mis-decoded.
    "charset parameter": (
        ["data: café\n\n".encode()],
        [("message", "café", "", None)],
        [("message", "cafÃ©", "", None)],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_difference(case: str) -> None:
    chunks, whatwg, httpx_sse_today = CASES[case]
    content_type = "text/event-stream; charset=latin-1" if case == "charset parameter" else None
    assert trio_sse_events(chunks) == whatwg
    assert httpx_sse_events(chunks, *([content_type] if content_type else [])) == httpx_sse_today


def test_event_ending_in_cr_waits_in_httpx_sse() -> None:
    """A blank line ending in CR dispatches at once; httpx-sse holds it for the next chunk."""
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: now\r\r")] == ["now"]

    from httpx_sse._decoders import SSEDecoder as HttpxSSEDecoder
    from httpx_sse._decoders import SSELineDecoder

    lines = SSELineDecoder().decode("data: now\r\r")
    their_decoder = HttpxSSEDecoder()
    dispatched = [e for e in map(their_decoder.decode, lines) if e is not None]
    assert dispatched == []  # the final CR is pushed into the next chunk
