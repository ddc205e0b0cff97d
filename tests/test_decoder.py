"""SSEDecoder against the WHATWG event-stream interpretation rules, one rule at a time."""

from __future__ import annotations

import copy
import pickle
import sys
import tracemalloc
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_sse import EventTooLargeError, ServerSentEvent, SSEDecoder

from .reference import ReferenceDecoder


def feed_all(chunks: list[bytes], decoder: SSEDecoder | None = None) -> list[tuple[object, ...]]:
    """Feed ``chunks`` and return each event as (event, data, id, retry)."""
    decoder = decoder or SSEDecoder()
    return [as_tuple(event) for chunk in chunks for event in decoder.feed(chunk)]


def as_tuple(event: ServerSentEvent) -> tuple[object, ...]:
    return (event.event, event.data, event.id, event.retry)


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def cut_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` split at the given positions (taken modulo its length)."""
    positions = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *positions], [*positions, len(data)], strict=True)]


def both_ways(data: bytes) -> list[tuple[object, ...]]:
    """Decode whole and byte by byte; the two must agree."""
    whole = feed_all([data])
    assert feed_all(bytewise(data)) == whole
    return whole


def test_events_are_httpx_sse_objects() -> None:
    [event] = SSEDecoder().feed(b'id: 7\nretry: 5\ndata: {"a": 1}\n\n')
    assert isinstance(event, ServerSentEvent)
    reference = ServerSentEvent(data='{"a": 1}', id="7", retry=5)
    assert (event.event, event.data, event.id, event.retry, event.json()) == (
        reference.event,
        reference.data,
        reference.id,
        reference.retry,
        reference.json(),
    )
    assert repr(event) == repr(reference)
    clone = pickle.loads(pickle.dumps(event))
    assert (clone.event, clone.data, clone.id, clone.retry) == ("message", '{"a": 1}', "7", 5)


def test_feed_returns_only_the_events_a_chunk_completes() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert [e.data for e in decoder.feed(b"\ndata: b\n\ndata: c")] == ["a", "b"]
    assert [e.data for e in decoder.feed(b"\n\n")] == ["c"]


class TestDecoding:
    def test_utf8_split_across_chunks(self) -> None:
        data = "data: héllo wörld €𝄞\n\n".encode()
        assert both_ways(data) == [("message", "héllo wörld €𝄞", "", None)]

    def test_invalid_utf8_becomes_replacement_character(self) -> None:
        assert both_ways(b"data: a\xffb\xc3\n\n") == [("message", "a\ufffdb\ufffd", "", None)]

    def test_charset_parameter_is_irrelevant_always_utf8(self) -> None:
        # Latin-1 bytes are not reinterpreted: the stream is UTF-8 by definition.
        assert both_ways(b"data: \xe9\n\n") == [("message", "\ufffd", "", None)]

    def test_one_leading_bom_is_stripped(self) -> None:
        assert both_ways(b"\xef\xbb\xbfdata: x\n\n") == [("message", "x", "", None)]

    def test_bom_split_across_chunks(self) -> None:
        assert feed_all([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [("message", "x", "", None)]

    def test_only_one_bom_is_stripped(self) -> None:
        # The second BOM starts the first line's field name, so that line is ignored.
        assert both_ways(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n") == [
            ("message", "y", "", None)
        ]

    def test_bom_after_the_start_is_data(self) -> None:
        assert both_ways(b"data: \xef\xbb\xbfx\n\n") == [("message", "\ufeffx", "", None)]


class TestLineEnds:
    @pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
    def test_each_line_end(self, end: bytes) -> None:
        data = b"event: e" + end + b"data: a" + end + b"data: b" + end + end
        assert both_ways(data) == [("e", "a\nb", "", None)]

    def test_mixed_line_ends(self) -> None:
        assert both_ways(b"data: a\rdata: b\r\ndata: c\n\r\n") == [("message", "a\nb\nc", "", None)]

    def test_crlf_split_across_chunks_is_one_line_end(self) -> None:
        assert feed_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [
            ("message", "a\nb", "", None)
        ]

    def test_event_ending_in_cr_is_dispatched_at_once(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\r") == []
        [event] = decoder.feed(b"\r")  # the blank line ends in CR: no waiting for an LF
        assert event.data == "a"
        assert decoder.feed(b"\ndata: b\r\r") != []  # that LF belonged to the CR

    def test_lone_cr_then_blank_line_of_lf(self) -> None:
        # CR, then LF is one line end; a further LF is the blank line.
        assert feed_all([b"data: a\r", b"\n", b"\n"]) == [("message", "a", "", None)]

    def test_cr_cr_is_two_line_ends(self) -> None:
        assert feed_all([b"data: a\r", b"\r"]) == [("message", "a", "", None)]


class TestFields:
    def test_comments_are_ignored(self) -> None:
        assert both_ways(b": hello\ndata: x\n:\n\n: ping\n\n") == [("message", "x", "", None)]

    def test_one_leading_space_removed_only(self) -> None:
        assert both_ways(b"data:  two\n\ndata:none\n\n") == [
            ("message", " two", "", None),
            ("message", "none", "", None),
        ]

    def test_only_first_colon_splits(self) -> None:
        assert both_ways(b"data: a: b:c\n\n") == [("message", "a: b:c", "", None)]

    def test_data_lines_joined_with_lf(self) -> None:
        assert both_ways(b"data: a\ndata:\ndata: b\n\n") == [("message", "a\n\nb", "", None)]

    def test_field_without_colon_has_empty_value(self) -> None:
        assert both_ways(b"data\ndata\n\n") == [("message", "\n", "", None)]

    def test_single_empty_data_line_dispatches_empty_data(self) -> None:
        assert both_ways(b"data:\n\n") == [("message", "", "", None)]

    def test_no_data_no_dispatch_and_event_type_reset(self) -> None:
        assert both_ways(b"event: a\n\ndata: x\n\n") == [("message", "x", "", None)]

    def test_event_type_default_and_set(self) -> None:
        assert both_ways(b"event: add\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n") == [
            ("add", "1", "", None),
            ("message", "2", "", None),
            ("message", "3", "", None),
        ]

    def test_field_names_are_case_sensitive(self) -> None:
        assert both_ways(b"Data: no\nEVENT: no\nID: no\ndata: yes\n\n") == [
            ("message", "yes", "", None)
        ]

    def test_unknown_fields_ignored(self) -> None:
        assert both_ways(b"foo: bar\ndata: x\nfoo\n\n") == [("message", "x", "", None)]

    def test_later_event_field_wins(self) -> None:
        assert both_ways(b"event: a\nevent: b\ndata: x\n\n") == [("b", "x", "", None)]


class TestLastEventId:
    def test_id_kept_across_events(self) -> None:
        assert both_ways(b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n") == [
            ("message", "a", "1", None),
            ("message", "b", "1", None),
            ("message", "c", "", None),
        ]

    def test_id_with_null_is_ignored(self) -> None:
        assert both_ways(b"id: 1\n\nid: 2\x003\ndata: a\n\n") == [("message", "a", "1", None)]

    def test_id_set_at_blank_line_without_dispatch(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"id: 7\n") == []
        assert decoder.last_event_id == ""  # not until the blank line
        assert decoder.feed(b"\n") == []
        assert decoder.last_event_id == "7"

    def test_id_of_a_cut_off_event_never_takes_effect(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
        assert decoder.last_event_id == "1"
        decoder.new_stream()
        assert decoder.last_event_id == "1"
        assert [e.id for e in decoder.feed(b"data: c\n\n")] == ["1"]


class TestRetry:
    def test_valid_retry(self) -> None:
        decoder = SSEDecoder()
        [event] = decoder.feed(b"retry: 3000\ndata: x\n\n")
        assert (event.retry, decoder.retry) == (3000, 3000)

    @pytest.mark.parametrize(
        "value", [b"-1", b"+5", b" 5", b"5 ", b"1_000", b"1.5", b"", b"\xd9\xa3", b"\xc2\xb2"]
    )
    def test_retry_must_be_all_ascii_digits(self, value: bytes) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"retry: 10\n\n")
        [event] = decoder.feed(b"retry: " + value + b"\ndata: x\n\n")
        assert (event.retry, decoder.retry) == (None, 10)

    def test_retry_with_too_many_digits_is_ignored(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"retry: " + b"9" * 5000 + b"\n\n")
        assert decoder.retry is None

    def test_retry_set_without_dispatch(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"retry: 5\n\n") == []
        assert decoder.retry == 5


class TestEndOfStream:
    def test_unterminated_event_is_discarded(self) -> None:
        decoder = SSEDecoder()
        assert [e.data for e in decoder.feed(b"data: a\n\ndata: b\n")] == ["a"]
        decoder.new_stream()  # the end of that stream: "b" never had its blank line
        assert [e.data for e in decoder.feed(b"data: c\n\n")] == ["c"]

    def test_new_stream_keeps_id_and_retry_and_allows_bom_again(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"\xef\xbb\xbfid: 4\nretry: 9\ndata: a\n\ndata: partial\xe2\x82")
        decoder.new_stream()
        [event] = decoder.feed(b"\xef\xbb\xbfdata: b\n\n")
        assert (event.data, event.id, decoder.last_event_id, decoder.retry) == ("b", "4", "4", 9)

    def test_new_stream_forgets_a_pending_cr(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"data: a\r")
        decoder.new_stream()
        # The LF now starts a blank line of the new stream: nothing to dispatch.
        assert feed_all([b"\ndata: b\n\n"], decoder) == [("message", "b", "", None)]


class TestMaxEventSize:
    def test_rejects_bad_limit(self) -> None:
        with pytest.raises(ValueError, match="max_event_size"):
            SSEDecoder(max_event_size=0)

    def test_endless_line_raises_without_growing(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        decoder.feed(b"data: " + b"x" * 90)
        with pytest.raises(EventTooLargeError) as info:
            decoder.feed(b"x" * 20)
        assert info.value.max_event_size == 100
        assert info.value.events == []

    def test_a_line_over_the_limit_raises_however_it_is_cut(self) -> None:
        data = b"id: 1\ndata: 0123456\n\n"  # a 13-character line, data of 7
        for pieces in ([data], bytewise(data), [data[:16], data[16:]], [data[:12], data[12:]]):
            decoder = SSEDecoder(max_event_size=10)
            with pytest.raises(EventTooLargeError):
                feed_all(pieces, decoder)

    def test_lines_after_the_crossing_data_line_never_take_effect(self) -> None:
        data = b"id: 7\ndata:12345\ndata:12345\ndata:12345\nretry: 9\n\n"
        for pieces in ([data], [data[:-1], data[-1:]], bytewise(data)):
            decoder = SSEDecoder(max_event_size=10)
            with pytest.raises(EventTooLargeError):
                feed_all(pieces, decoder)
            assert (decoder.last_event_id, decoder.retry) == ("", None)

    def test_many_data_lines_raise(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        with pytest.raises(EventTooLargeError):
            for _ in range(20):
                decoder.feed(b"data: 0123456789\n")

    def test_events_completed_before_the_limit_are_kept(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        with pytest.raises(EventTooLargeError) as info:
            decoder.feed(b"data: a\n\ndata: b\n\ndata: " + b"x" * 200)
        assert [e.data for e in info.value.events] == ["a", "b"]

    def test_long_line_inside_one_chunk_keeps_earlier_events(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        with pytest.raises(EventTooLargeError) as info:
            decoder.feed(b"data: a\n\n: " + b"c" * 200 + b"\ndata: b\n\n")
        assert [e.data for e in info.value.events] == ["a"]

    def test_complete_oversized_event_in_one_chunk_raises(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        with pytest.raises(EventTooLargeError) as info:
            decoder.feed(b"data: a\n\n" + b"data: 0123456789\n" * 20 + b"\n")
        assert [e.data for e in info.value.events] == ["a"]

    def test_exactly_at_the_limit_is_fine(self) -> None:
        # Data of 11 characters: two values of 5 and the LF that joins them.
        decoder = SSEDecoder(max_event_size=11)
        assert [e.data for e in decoder.feed(b"data:01234\ndata:56789\n\n")] == ["01234\n56789"]
        with pytest.raises(EventTooLargeError):
            decoder.feed(b"data:01234\ndata:567890\n\n")

    @pytest.mark.parametrize("line", [b"data\n", b"data:\n", b"data: \n", b"data:\r\n"])
    def test_empty_data_lines_count_their_line_feeds(self, line: bytes) -> None:
        # 100,000 empty values joined are 99,999 line feeds: far over a limit of 1,000.
        body = line * 100_000 + b"\n"
        for pieces in ([body], [body[i : i + 4096] for i in range(0, len(body), 4096)]):
            decoder = SSEDecoder(max_event_size=1000)
            with pytest.raises(EventTooLargeError):
                feed_all(pieces, decoder)

    def test_the_joining_line_feeds_are_counted_at_the_limit(self) -> None:
        # 1,001 empty values hold 1,000 line feeds: exactly the limit; one more is over.
        assert both_ways(b"data\n" * 1001 + b"\n") == [("message", "\n" * 1000, "", None)]
        decoder = SSEDecoder(max_event_size=1000)
        assert [len(e.data) for e in decoder.feed(b"data\n" * 1001 + b"\n")] == [1000]
        with pytest.raises(EventTooLargeError):
            decoder.feed(b"data\n" * 1002 + b"\n")

    def test_an_endless_run_of_data_lines_stays_bounded(self) -> None:
        decoder = SSEDecoder(max_event_size=1000)
        fed = 0
        with pytest.raises(EventTooLargeError):
            for _ in range(10_000):  # the limit must stop it at the 1,002nd line
                decoder.feed(b"data\n")
                fed += 1
        assert fed == 1001

    def test_feed_after_error_needs_new_stream(self) -> None:
        decoder = SSEDecoder(max_event_size=10)
        with pytest.raises(EventTooLargeError):
            decoder.feed(b"data: " + b"x" * 20)
        with pytest.raises(RuntimeError, match="new_stream"):
            decoder.feed(b"data: y\n\n")
        decoder.new_stream()
        assert [e.data for e in decoder.feed(b"data: y\n\n")] == ["y"]

    def test_error_survives_pickle_and_copy(self) -> None:
        exc = EventTooLargeError(max_event_size=5, events=[ServerSentEvent(data="a")])
        for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
            assert type(clone) is EventTooLargeError
            assert clone.max_event_size == 5
            assert [e.data for e in clone.events] == ["a"]
            assert str(clone) == str(exc)


def test_work_is_linear_in_a_long_line_fed_bytewise() -> None:
    # A 1 MB line fed in 1-byte chunks: quadratic re-joining would take minutes.
    decoder = SSEDecoder(max_event_size=2_000_000)
    decoder.feed(b"data: ")
    piece = b"x"
    for _ in range(1_000_000):
        decoder.feed(piece)
    [event] = decoder.feed(b"\n\n")
    assert len(event.data) == 1_000_000


def decoder_lines_run(*chunks: bytes) -> int:
    """How many lines of the decoder's own code feeding ``chunks`` to one decoder executes:
    a count of work that does not depend on the machine's speed or load."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if not frame.f_code.co_filename.endswith("_decoder.py"):
            return None
        if event == "line":
            count += 1
        return tracer

    decoder = SSEDecoder()
    sys.settrace(tracer)
    try:
        for chunk in chunks:
            decoder.feed(chunk)
    finally:
        sys.settrace(None)
    return count


def test_bytewise_cost_does_not_grow_with_the_carried_event() -> None:
    # Fed a byte at a time, a 4,000-byte event is carried whole until its blank line: each
    # byte must cost a constant, not a re-join and re-scan of the carry (which made it 6x a
    # 40-byte one). The re-join is what allocates: count the memory one feed takes at its
    # peak, on average, which no load on the machine changes.
    def bytes_per_byte(size: int) -> float:
        body = (b"data: " + b"x" * (size - 8) + b"\n\n") * (16_000 // size)
        decoder = SSEDecoder()
        total = 0
        tracemalloc.start()
        try:
            for piece in bytewise(body):
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                decoder.feed(piece)
                total += tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        return total / len(body)

    assert bytes_per_byte(4000) < 1.25 * bytes_per_byte(400)


def test_a_flood_of_blank_lines_costs_no_loop_per_line() -> None:
    # An inflated bomb is mostly blank lines: each must not cost a loop iteration.
    events = decoder_lines_run(b"data: x\n\n" * 2000)
    assert events > 2000  # the measure sees per-event work where there is some
    for blank in (b"\n", b"\r\n", b"\r"):
        assert decoder_lines_run(blank * 65536) < 200


# -- properties ---------------------------------------------------------------------------

_field_value = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12
)
_line = st.one_of(
    st.tuples(st.sampled_from(["data", "event", "id", "retry", "x", ""]), _field_value).map(
        lambda pair: f"{pair[0]}:{pair[1]}"
    ),
    st.sampled_from(["", "data", ": comment", "retry: 12", "id: \0"]),
)
_stream = st.tuples(
    st.booleans(),
    st.lists(_line, max_size=30),
    st.sampled_from(["\n", "\r", "\r\n"]),
    st.booleans(),
).map(
    lambda t: (
        ("\ufeff" if t[0] else "") + "".join(line + t[2] for line in t[1]) + ("x" if t[3] else "")
    )
)


@given(text=_stream, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_chunking_never_changes_the_events(text: str, cuts: list[int]) -> None:
    data = text.encode()
    decoder = SSEDecoder()
    whole = feed_all([data], decoder)
    pieces = cut_at(data, cuts)
    chunked = SSEDecoder()
    assert feed_all(pieces, chunked) == whole
    bytewise_decoder = SSEDecoder()
    assert feed_all(bytewise(data), bytewise_decoder) == whole
    for other in (chunked, bytewise_decoder):
        assert (other.last_event_id, other.retry) == (decoder.last_event_id, decoder.retry)


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=10))
def test_arbitrary_bytes_never_crash_and_chunking_agrees(data: bytes, cuts: list[int]) -> None:
    whole = feed_all([data])
    assert feed_all(cut_at(data, cuts)) == whole


# Streams shaped like real ones, so that the decoder's fast paths (the scan of simple
# events, the text carried between chunks, CR LF) are exercised, with odd lines mixed in.
_simple_value = st.text(alphabet=st.sampled_from('ab {}":,é✓\t'), max_size=20)
_event_block = st.one_of(
    _simple_value.map(lambda v: [f"data: {v}"]),
    st.tuples(_simple_value, _simple_value).map(lambda p: [f"event: {p[0]}", f"data: {p[1]}"]),
    st.lists(
        st.sampled_from(
            [
                "data: x",
                "data:y",
                "data",
                "id: 3",
                "id: 4\0",
                "retry: 250",
                "retry: x",
                ": ping",
                "event: e",
                "event:",
                "bogus: 1",
                "data:  two spaces",
                "",
            ]
        ),
        max_size=4,
    ),
)
_real_stream = st.tuples(
    st.lists(_event_block, max_size=12),
    st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=3),
    st.booleans(),
    st.sampled_from(["", "data: unfinished", "event: x\ndata: cut", "retry: 77\ndata: y"]),
).map(
    lambda t: (
        ("\ufeff" if t[2] else "")
        + "".join(
            line + t[1][(i + j) % len(t[1])]
            for i, block in enumerate(t[0])
            for j, line in enumerate([*block, ""])
        )
        + t[3]
    )
)


@settings(max_examples=4 * settings().max_examples)
@given(text=_real_stream, cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_agrees_with_the_reference_on_real_shaped_streams(text: str, cuts: list[int]) -> None:
    data = text.encode()
    reference = ReferenceDecoder().decode(data)
    for pieces in (cut_at(data, cuts), [data], bytewise(data)):
        decoder = SSEDecoder()
        assert feed_all(pieces, decoder) == reference.events
        assert (decoder.last_event_id, decoder.retry) == (reference.last_event_id, reference.retry)


@given(text=_stream, cuts=st.lists(st.integers(min_value=0), max_size=20))
def test_agrees_with_the_reference_on_arbitrary_fields(text: str, cuts: list[int]) -> None:
    data = text.encode()
    reference = ReferenceDecoder().decode(data)
    decoder = SSEDecoder()
    assert feed_all(cut_at(data, cuts), decoder) == reference.events
    assert (decoder.last_event_id, decoder.retry) == (reference.last_event_id, reference.retry)


def outcome(pieces: list[bytes], max_event_size: int) -> tuple[object, ...]:
    """Every event delivered (by ``feed`` or on the error), whether the limit was hit, and
    the state a reconnection would use: the last event ID and the retry time."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    delivered: list[tuple[object, ...]] = []
    failed = False
    for piece in pieces:
        try:
            delivered.extend(map(as_tuple, decoder.feed(piece)))
        except EventTooLargeError as exc:
            delivered.extend(map(as_tuple, exc.events))
            failed = True
            break
    return delivered, failed, decoder.last_event_id, decoder.retry


@settings(max_examples=3 * settings().max_examples)
@given(
    text=_real_stream,
    cuts=st.lists(st.integers(min_value=0), max_size=30),
    limit=st.integers(min_value=1, max_value=40),
)
def test_the_limit_does_not_depend_on_chunking(text: str, cuts: list[int], limit: int) -> None:
    data = text.encode()
    whole = outcome([data], limit)
    assert outcome(cut_at(data, cuts), limit) == whole
    assert outcome(bytewise(data), limit) == whole


@pytest.mark.parametrize(
    "chunks",
    [
        [b"event: delta\ndata: 1\n\nevent: delta\ndata: 2\n\n"],  # the scan
        [b"event: delta\ndata: 1\n\n", b"event: delta\ndata: 2\n\n"],  # a chunk an event
        [b"event: delta\ndata: 1\nid: 1\n\nevent: delta\nid: 2\ndata: 2\n\n"],  # the lines
    ],
)
def test_events_of_one_name_share_one_string(chunks: list[bytes]) -> None:
    # An event held in the channel carries no copy of a name the stream repeats.
    decoder = SSEDecoder()
    first, second = [event for chunk in chunks for event in decoder.feed(chunk)]
    assert first.event == second.event == "delta"
    assert first.event is second.event
