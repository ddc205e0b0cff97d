"""Compressed bodies inflated in bounded pieces: unit, property, and real-server tests."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from trio_sse import EventTooLargeError, NetworkError, open_event_stream
from trio_sse._http import sse_request_headers
from trio_sse._inflate import PIECE, _Layer, inflated_body

from .scripted import Script, scripted_client
from .servers import SSE_HEAD, ServerLog, serve_raw

MiB = 1024 * 1024
GUARD = 20  # seconds on Trio's clock


def inflate(codings: list[str], chunks: list[bytes]) -> list[bytes]:
    """Every piece the layers give for ``chunks`` (``codings`` outermost first)."""
    layers = [_Layer(coding) for coding in codings]

    def through(layer: _Layer, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            yield from layer.feed(piece)

    out: list[bytes] = []
    for chunk in chunks:
        pieces: Iterator[bytes] = iter((chunk,))
        for layer in layers:
            pieces = through(layer, pieces)
        out.extend(pieces)
    return out


def cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def gzip_bomb(size: int, layers: int = 1) -> bytes:
    """``size`` bytes of blank lines gzipped ``layers`` times, built without holding them."""
    pieces: Iterator[bytes] = iter([b"\n" * MiB] * (size // MiB))
    for _ in range(layers):
        pieces = _gzip_stream(pieces)
    return b"".join(pieces)


def _gzip_stream(pieces: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(9, wbits=31)
    for piece in pieces:
        yield compressor.compress(piece)
    yield compressor.flush()


PLAIN = b'event: delta\ndata: {"text": "hello"}\n\n' * 5000


class TestLayers:
    @pytest.mark.parametrize("size", [1, 2, 3, 1000, 65536, 10**9])
    @pytest.mark.parametrize(
        ("coding", "encode"),
        [("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress)],
    )
    def test_any_cutting_gives_the_body(self, coding: str, encode: object, size: int) -> None:
        assert callable(encode)
        body = encode(PLAIN)
        assert b"".join(inflate([coding], cut(body, size))) == PLAIN

    @pytest.mark.parametrize("size", [1, 2, 7, 10**9])
    def test_raw_deflate_is_taken_as_httpx_takes_it(self, size: int) -> None:
        assert b"".join(inflate(["deflate"], cut(raw_deflate(PLAIN), size))) == PLAIN

    def test_gzip_members_in_a_row_are_one_body(self) -> None:
        body = b"".join(gzip.compress(bytes([65 + i % 26]) * 10) for i in range(3000))
        expected = b"".join(bytes([65 + i % 26]) * 10 for i in range(3000))
        for size in (1, 13, 10**9):  # one chunk of 3,000 members included: no recursion
            assert b"".join(inflate(["gzip"], cut(body, size))) == expected

    def test_bytes_after_the_end_are_ignored_and_not_kept(self) -> None:
        layer = _Layer("gzip")
        assert b"".join(layer.feed(gzip.compress(b"data: a\n\n") + b"\0junk")) == b"data: a\n\n"
        assert list(layer.feed(b"more junk" * 1000)) == []
        deflate = _Layer("deflate")
        assert b"".join(deflate.feed(zlib.compress(b"x") + b"trailing")) == b"x"
        assert list(deflate.feed(b"more")) == []

    def test_no_piece_is_larger_than_the_bound(self) -> None:
        pieces = inflate(["gzip", "gzip"], [gzip_bomb(32 * MiB, layers=2)])
        assert max(map(len, pieces)) == PIECE
        assert sum(map(len, pieces)) == 32 * MiB

    @pytest.mark.parametrize("coding", ["gzip", "deflate"])
    def test_a_body_that_does_not_decode_is_a_typed_error(self, coding: str) -> None:
        with pytest.raises(NetworkError, match="DecodingError") as info:
            inflate([coding], [b"\x1f\x8bnot really gzip"])
        assert not info.value.transient

    async def test_a_body_a_hook_already_read_is_served_from_httpxs_copy(self) -> None:
        body = gzip.compress(b"data: a\n\n")
        response = httpx.Response(200, headers={"content-encoding": "gzip"}, content=body)
        await response.aread()
        assert inflated_body(response, "gzip") is None  # aiter_raw would raise StreamConsumed

    async def test_a_response_hook_that_reads_a_gzip_body_loses_no_event(self) -> None:
        async def read_it(response: httpx.Response) -> None:
            await response.aread()

        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        script = Script([gzip.compress(b"data: a\n\ndata: b\n\n")], headers=headers)
        client, _ = scripted_client(script, event_hooks={"response": [read_it]})
        async with open_event_stream(client, "GET", "/s", reconnect=False) as events:
            assert [event.data async for event in events] == ["a", "b"]

    async def test_every_piece_of_one_read_is_a_checkpoint(self) -> None:
        class Raw:
            def __init__(self) -> None:
                self.chunks = [gzip_bomb(4 * MiB)]

            async def __anext__(self) -> bytes:
                if not self.chunks:
                    raise StopAsyncIteration
                return self.chunks.pop()

            def __aiter__(self) -> Raw:
                return self

        class Response:
            def aiter_raw(self) -> Raw:
                return Raw()

        body = inflated_body(Response(), "gzip")
        assert body is not None
        sizes = []
        for _ in range(4 * MiB // PIECE):  # one read: 64 pieces
            with trio.testing.assert_checkpoints():
                sizes.append(len(await body.__anext__()))
        assert sizes == [PIECE] * 64
        with pytest.raises(StopAsyncIteration):
            await body.__anext__()

    def test_codings_left_to_the_client(self) -> None:
        response = httpx.Response(200, content=b"")  # its request unknown
        assert inflated_body(response, "br") is None
        assert inflated_body(response, "gzip, zstd") is None
        assert inflated_body(response, "identity") is None
        assert inflated_body(object(), "gzip") is None  # no aiter_raw to read from
        for accept in ("br", "gzip, br;q=0.5", "*", "br;q=1.0, *;q=0"):
            assert inflated_body(answer(accept), "br") is None, accept

    @pytest.mark.parametrize(
        ("accept", "encoding", "refused"),
        [
            ("identity", "br", "br"),
            ("identity", "zstd", "zstd"),
            ("gzip", "gzip, br", "br"),
            ("br;q=0", "br", "br"),
            ("*, br;q=0.0", "br", "br"),
            ("br, *;q=0", "zstd", "zstd"),
        ],
    )
    async def test_a_coding_the_request_did_not_accept_is_refused(
        self, accept: str, encoding: str, refused: str
    ) -> None:
        body = inflated_body(answer(accept), encoding)
        assert body is not None
        with pytest.raises(NetworkError, match=f"a {refused} body, which the request did not") as e:
            await body.__anext__()
        assert not e.value.transient


def answer(accept_encoding: str) -> httpx.Response:
    """A response to a request that sent ``Accept-Encoding: accept_encoding``."""
    request = httpx.Request("GET", "http://test/", headers={"accept-encoding": accept_encoding})
    return httpx.Response(200, content=b"", request=request)


@given(
    data=st.binary(max_size=3000).map(lambda b: b * 7),
    cuts=st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=20),
    coding=st.sampled_from(["gzip", "deflate", "raw"]),
    members=st.integers(min_value=1, max_value=3),
)
def test_inflating_agrees_with_zlib_however_cut(
    data: bytes, cuts: list[int], coding: str, members: int
) -> None:
    if coding == "gzip":
        body = b"".join(gzip.compress(data[i::members]) for i in range(members))
        expected = b"".join(data[i::members] for i in range(members))
    else:
        body, expected = (zlib.compress(data) if coding == "deflate" else raw_deflate(data)), data
    chunks, pos, i = [], 0, 0
    while pos < len(body):
        chunks.append(body[pos : pos + cuts[i % len(cuts)]])
        pos += cuts[i % len(cuts)]
        i += 1
    pieces = inflate(["deflate" if coding == "raw" else coding], chunks)
    assert b"".join(pieces) == expected
    assert all(len(piece) <= PIECE for piece in pieces)


# -- against a real server ------------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.mark.parametrize(("encoding", "layers"), [(b"gzip", 1), (b"gzip, gzip", 2)])
async def test_a_compression_bomb_from_a_real_server_stays_bounded(
    nursery: trio.Nursery, client: httpx.AsyncClient, encoding: bytes, layers: int
) -> None:
    # 32 MiB of blank lines, then an event: httpx alone would inflate it in one piece.
    payload = gzip_bomb(32 * MiB, layers)
    tail = gzip.compress(b"data: after\n\n")
    if layers == 2:
        tail = gzip.compress(tail)

    async def handler(stream: trio.SocketStream) -> None:
        head = SSE_HEAD.replace(
            b"connection: close", b"content-encoding: " + encoding + b"\r\nconnection: close"
        )
        await stream.send_all(head + payload + tail)

    url = await serve_raw(nursery, handler)
    tracemalloc.start()
    try:
        with trio.fail_after(GUARD):
            async with open_event_stream(client, "GET", url, reconnect=False) as events:
                received = [event.data async for event in events]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == ["after"]
    assert peak < 4 * MiB


async def test_an_endless_run_of_gzipped_data_lines_is_cut_at_the_limit(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    compressor = zlib.compressobj(9, wbits=31)
    payload = compressor.compress(b"data: first\n\n")
    payload += b"".join(compressor.compress(b"data\n" * 200_000) for _ in range(20))
    payload += compressor.flush()

    async def handler(stream: trio.SocketStream) -> None:
        head = SSE_HEAD.replace(
            b"connection: close", b"content-encoding: gzip\r\nconnection: close"
        )
        await stream.send_all(head + payload)

    url = await serve_raw(nursery, handler)
    received: list[str] = []
    tracemalloc.start()
    try:
        with trio.fail_after(GUARD), pytest.raises(EventTooLargeError):
            async with open_event_stream(
                client, "GET", url, reconnect=False, max_event_size=100_000
            ) as events:
                async for event in events:
                    received.append(event.data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == ["first"]
    assert peak < 4 * MiB


async def test_a_body_in_a_coding_not_asked_for_fails_typed_and_is_not_retried(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    # Brotli bytes sent although the request asked for identity: without a brotli decoder
    # httpx would hand them on as event text, and the stream would end with no event.
    answered = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal answered
        answered += 1
        head = SSE_HEAD.replace(b"connection: close", b"content-encoding: br\r\nconnection: close")
        await stream.send_all(head + b"\x8b\x03\x80data: hi\n\n\x03")

    url = await serve_raw(nursery, handler)
    received: list[str] = []
    with trio.fail_after(GUARD), pytest.raises(NetworkError, match="a br body, which") as caught:
        async with open_event_stream(client, "GET", url) as events:  # reconnect: on
            async for event in events:
                received.append(event.data)  # pragma: no cover
    assert not caught.value.transient
    assert received == []
    assert answered == 1


async def test_identity_is_asked_for_unless_the_caller_asks_otherwise(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, log = app_server
    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", f"{url}/events?n=1", reconnect=False) as s:
            assert [event.data async for event in s] == ["0:"]
        headers = {"accept-encoding": "gzip"}
        async with open_event_stream(
            client, "GET", f"{url}/events?n=1", headers=headers, reconnect=False
        ) as s:
            assert [event.data async for event in s] == ["0:"]
    assert [request["accept-encoding"] for request in log.requests] == ["identity", "gzip"]


def test_the_callers_accept_encoding_wins() -> None:
    assert ("Accept-Encoding", "identity") in sse_request_headers(None)
    assert sse_request_headers({"accept-encoding": "br"}) == [
        ("Accept", "text/event-stream"),
        ("Cache-Control", "no-cache"),
        ("accept-encoding", "br"),
    ]
