"""Batched chunk framing (trio_sse._chunked), alone and against h11 itself.

The differential tests drive the direct body path's reader (:class:`H11Body`, which
takes complete chunks in one pass and leaves the rest to h11) and stock h11 (one
``next_event`` a chunk, as httpcore drives it) over the same bytes, split into the same
reads, and require the same outcome: the same body bytes, then the same end or the same
error. Bodies come from a grammar that mixes the plain form with everything the batched
framing leaves to h11 (extensions, whitespace, 21-digit sizes, wrong sizes, bad footers,
trailers, garbage) so both sides of the boundary are exercised; a small
``max_incomplete_event_size`` brings h11's "buffer too long" rule in too.
"""

from __future__ import annotations

import itertools

import h11
import httpx
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_sse import _h11_body as h11_body_module
from trio_sse._chunked import complete_chunks
from trio_sse._h11_body import MAX_PIECE_BYTES, H11Body

from .servers import SSE_HEAD_CHUNKED, chunked
from .test_h11_body import ScriptedReads, split

# -- complete_chunks alone -------------------------------------------------------------------


def test_it_joins_every_complete_chunk() -> None:
    body = chunked(b"ab", b"c" * 17, b"d")
    data, end = complete_chunks(body, 1000)
    assert data == b"ab" + b"c" * 17 + b"d"
    assert body[end:] == b"0\r\n\r\n"  # the last chunk is h11's


@pytest.mark.parametrize(
    "rest",
    [
        b"",  # nothing more yet
        b"5\r\nab",  # a chunk still arriving
        b"5\r\nabcde",  # its data here, its CRLF not
        b"5\r\nabcde\r",  # half of its CRLF
        b"5\r\nabcdeXY",  # a bad footer: h11 refuses it
        b"5;name=value\r\nabcde\r\n",  # an extension
        b"5 \r\nabcde\r\n",  # whitespace after the size
        b"05x\r\nabcde\r\n",  # not hex
        b"\r\nabcde\r\n",  # no size
        b"0" * 21 + b"5\r\nabcde\r\n",  # more than 20 digits
        b"0\r\n\r\n",  # the last chunk
        b"00\r\nX-Trailer: 1\r\n\r\n",  # the last chunk, with a trailer
        b"5\nabcde\r\n",  # a bare LF
    ],
)
def test_it_stops_before_what_it_leaves_to_h11(rest: bytes) -> None:
    data, end = complete_chunks(b"1\r\na\r\n" + rest, 1000)
    assert (data, end) == (b"a", 6)


def test_hex_of_any_case_and_leading_zeros_are_plain() -> None:
    body = b"0000A\r\n" + b"x" * 10 + b"\r\nf\r\n" + b"y" * 15 + b"\r\n"
    assert complete_chunks(body, 1000) == (b"x" * 10 + b"y" * 15, len(body))


def test_the_limit_stops_it_between_chunks_never_inside_one() -> None:
    body = chunked(b"a" * 10, b"b" * 10, b"c" * 10)
    data, end = complete_chunks(body, 15)
    assert data == b"a" * 10 + b"b" * 10
    assert complete_chunks(body, 15, end) == (b"c" * 10, len(body) - 5)


def test_it_starts_where_it_is_told_and_takes_a_bytearray() -> None:
    buffer = bytearray(b"\r\n" + chunked(b"xyz"))
    assert complete_chunks(buffer, 100, 2) == (b"xyz", 10)
    assert complete_chunks(buffer, 100) == (b"", 0)  # a CRLF is not a size line


# -- against h11 ---------------------------------------------------------------------------


def body_parser(max_incomplete_event_size: int = 16 * 1024) -> h11.Connection:
    """A client's h11 state, request sent, chunked response head received."""
    parser = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_incomplete_event_size)
    parser.send(h11.Request(method="GET", target="/", headers=[("Host", "test")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(SSE_HEAD_CHUNKED)
    assert isinstance(parser.next_event(), h11.Response)
    return parser


Outcome = tuple[bytes, str]


def h11_alone(reads: list[bytes], max_incomplete: int) -> Outcome:
    """Stock h11, one event at a time: the body, then "end" or the error's message."""
    parser = body_parser(max_incomplete)
    pending = iter([*reads, b""])  # then end of file, as a socket says it
    body = bytearray()
    try:
        while True:
            event = parser.next_event()
            if type(event) is h11.Data:
                body += event.data
            elif event is h11.NEED_DATA:
                parser.receive_data(next(pending))
            else:
                assert type(event) is h11.EndOfMessage
                return bytes(body), "end"
    except h11.RemoteProtocolError as exc:
        return bytes(body), str(exc)


def batched(reads: list[bytes], max_incomplete: int) -> Outcome:
    """The direct body path's reader over the same reads."""

    async def run() -> Outcome:
        pieces = H11Body(body_parser(max_incomplete), ScriptedReads(reads), None, 65536)
        body = bytearray()
        try:
            async for piece in pieces:
                assert piece  # never an empty piece: each is a decoder feed
                body += piece
        except httpx.RemoteProtocolError as exc:
            return bytes(body), str(exc)
        return bytes(body), "end"

    return trio.run(run)


hex_size = st.builds(
    lambda size, zeros, upper: ("0" * zeros + (f"{size:X}" if upper else f"{size:x}")).encode(),
    st.integers(min_value=0, max_value=70),
    st.integers(min_value=0, max_value=20),
    st.booleans(),
)


@st.composite
def chunk_piece(draw: st.DrawFn) -> bytes:
    """One chunk: mostly plain and right, sometimes anything h11 might take or refuse."""
    data = draw(st.binary(min_size=1, max_size=70))
    size = b"%x" % len(data)
    kind = draw(st.sampled_from(["plain"] * 6 + ["odd", "ext", "ows", "wrong", "footer"]))
    if kind == "odd":  # upper case, leading zeros, maybe more than 20 digits
        size = draw(st.sampled_from([b"", b"0", b"00" * 10])) + size.upper()
    elif kind == "ext":
        size += draw(st.sampled_from([b";a", b";a=b;c", b'; x="y"']))
    elif kind == "ows":
        size += draw(st.sampled_from([b" ", b"\t", b" \t "]))
    elif kind == "wrong":
        size = draw(hex_size)
    footer = draw(st.sampled_from([b"XY", b"\r", b"\n", b"\r\r"])) if kind == "footer" else b"\r\n"
    return size + b"\r\n" + data + footer


@st.composite
def chunked_body(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(chunk_piece(), max_size=25))
    end = draw(
        st.sampled_from(
            [b"0\r\n\r\n"] * 4 + [b"000\r\nX-T: 1\r\n\r\n", b"0;e\r\n\r\n", b"", b"0\r\n"]
        )
    )
    garbage = draw(st.binary(max_size=8)) if draw(st.booleans()) else b""
    cut = draw(st.integers(min_value=0, max_value=len(pieces)))
    return b"".join(pieces[:cut]) + garbage + b"".join(pieces[cut:]) + end


@settings(max_examples=400, deadline=None)
@given(
    body=chunked_body(),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    max_incomplete=st.sampled_from([16 * 1024, 64, 12]),
)
def test_the_same_bytes_and_the_same_end_as_h11(
    body: bytes, cuts: list[int], max_incomplete: int
) -> None:
    reads = split(body, cuts)
    assert batched(reads, max_incomplete) == h11_alone(reads, max_incomplete)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=60),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
)
def test_a_plain_body_comes_out_whole_however_the_reads_fall(
    events: list[bytes], cuts: list[int]
) -> None:
    reads = split(chunked(*events), cuts)
    assert batched(reads, 16 * 1024) == (b"".join(events), "end")


# -- the direct body path takes the batched framing ------------------------------------------


class CountingParser:
    """An h11 connection whose ``next_event`` calls are counted."""

    def __init__(self, parser: h11.Connection) -> None:
        self.parser = parser
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.parser, name)

    def next_event(self) -> object:
        self.calls += 1
        return self.parser.next_event()


async def test_a_read_of_many_chunks_costs_h11_a_few_events() -> None:
    events = [b"data: %d\n\n" % i for i in range(300)]
    parser = CountingParser(body_parser())
    pieces = H11Body(parser, ScriptedReads([chunked(*events)]), None, 65536)  # type: ignore[arg-type]
    body = b"".join([piece async for piece in pieces])
    assert body == b"".join(events)
    # h11 alone: one event a chunk (300), and one more for the end. Batched: the pieces
    # (each capped) and the end.
    assert parser.calls <= len(body) // MAX_PIECE_BYTES + 4


async def test_an_h11_reader_it_does_not_know_reads_every_chunk_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class OtherReader:  # what a changed h11 would have in its place
        pass

    monkeypatch.setattr(h11_body_module, "ChunkedReader", OtherReader)
    events = [b"data: %d\n\n" % i for i in range(50)]
    parser = CountingParser(body_parser())
    pieces = H11Body(parser, ScriptedReads([chunked(*events)]), None, 65536)  # type: ignore[arg-type]
    assert b"".join([piece async for piece in pieces]) == b"".join(events)
    assert parser.calls == len(events) + 2  # a Data each, NEED_DATA once, the end


async def test_a_content_length_body_is_h11s_alone() -> None:
    parser = h11.Connection(h11.CLIENT)
    parser.send(h11.Request(method="GET", target="/", headers=[("Host", "test")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n")
    assert isinstance(parser.next_event(), h11.Response)
    # The body looks like chunks: batched framing would misread it; h11's reader is not
    # a chunked one, so it is never asked.
    body = b"1\r\na\r\n0\r\n"
    pieces = H11Body(parser, ScriptedReads([body]), None, 65536)
    assert [piece async for piece in pieces] == [body]


def test_every_split_of_one_body_agrees_with_h11() -> None:
    body = chunked(b"ab", b"cde")[:-5] + b"1;x\r\nf\r\n0\r\n\r\n"
    for a, b in itertools.combinations(range(len(body) + 1), 2):
        reads = [part for part in (body[:a], body[a:b], body[b:]) if part]
        assert batched(reads, 16 * 1024) == h11_alone(reads, 16 * 1024)
