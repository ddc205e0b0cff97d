"""The direct body path (trio_sse._h11_body): where it engages, what it yields, how it fails.

Most tests run a stream both ways, the direct path and the usual one (forced with
``TRIO_SSE_DIRECT_BODY=0``), against the same real server on 127.0.0.1, and compare:
the events, the error (type, message, ``transient``, what it chains), the pool's state.
Each real-socket test runs under a ``fail_after`` guard on Trio's clock.
"""

from __future__ import annotations

import itertools
import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import h11
import httpcore
import httpx
import httpx2
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_sse import NetworkError, _http, open_event_stream
from trio_sse import _h11_body as h11_body_module
from trio_sse._h11_body import DISABLE_VARIABLE, MAX_PIECE_BYTES, H11Body, h11_body

from .scripted import Script, scripted_client, sse
from .servers import SSE_HEAD_CHUNKED, ServerLog, chunked, serve_raw

GUARD = 10  # seconds of Trio's clock

Readers = list["H11Body | None"]


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> Readers:
    """What the gate answered for each body read: a direct reader, or ``None``."""
    answers: Readers = []
    real = _http._direct_body

    def spy(response: object) -> AsyncIterator[bytes] | None:
        reader = real(response)
        assert reader is None or isinstance(reader, H11Body)
        answers.append(reader)
        return reader

    monkeypatch.setattr(_http, "_direct_body", spy)
    return answers


def use_direct_path(monkeypatch: pytest.MonkeyPatch, direct: bool) -> None:
    if direct:
        monkeypatch.delenv(DISABLE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(DISABLE_VARIABLE, "0")


def events_body(count: int) -> bytes:
    return chunked(*(b"data: %d\n\n" % i for i in range(count)))


async def test_a_real_loopback_stream_takes_the_direct_path(
    nursery: trio.Nursery, readers: Readers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The normal run of the suite exercises the direct path: this fails if the gate shuts.
    use_direct_path(monkeypatch, True)

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD_CHUNKED + events_body(2000))

    url = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "GET", url, reconnect=False) as events,
        ):
            received = [event.data async for event in events]
    assert received == [str(i) for i in range(2000)]
    assert len(readers) == 1
    assert isinstance(readers[0], H11Body)


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
async def test_the_environment_variable_turns_it_off(
    nursery: trio.Nursery, readers: Readers, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(DISABLE_VARIABLE, value)

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD_CHUNKED + events_body(3))

    url = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "GET", url, reconnect=False) as events,
        ):
            assert [event.data async for event in events] == ["0", "1", "2"]
    assert readers == [None]


# -- where the gate says no ---------------------------------------------------------------


async def first_reader(client: Any, url: str, **kwargs: Any) -> H11Body | None:
    """What the gate answers for a (2xx) response of ``client``'s."""
    async with client.stream("GET", url, **kwargs) as response:
        return h11_body(response)


@pytest.fixture
async def loopback_url(nursery: trio.Nursery) -> str:
    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD_CHUNKED + events_body(3))

    return await serve_raw(nursery, handler)


async def test_the_gate_opens_for_httpx_over_http11(
    loopback_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_direct_path(monkeypatch, True)
    with trio.fail_after(GUARD):
        async with httpx.AsyncClient() as client:
            assert isinstance(await first_reader(client, loopback_url), H11Body)


async def test_the_gate_stays_shut_for_httpx2(
    loopback_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_direct_path(monkeypatch, True)
    with trio.fail_after(GUARD):
        async with httpx2.AsyncClient() as client:
            assert await first_reader(client, loopback_url) is None


async def test_the_gate_stays_shut_for_http2(
    app_server: tuple[str, ServerLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_direct_path(monkeypatch, True)
    url, _ = app_server
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient(http1=False, http2=True) as client,  # h2c, prior knowledge
            client.stream("GET", f"{url}/events?n=1") as response,
        ):
            assert response.http_version == "HTTP/2"
            assert h11_body(response) is None


async def test_the_gate_stays_shut_for_mocks_and_scripted_transports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_direct_path(monkeypatch, True)
    mock = httpx.MockTransport(lambda request: httpx.Response(200, content=sse("a")))
    async with httpx.AsyncClient(transport=mock) as client:
        assert await first_reader(client, "http://test/") is None
    scripted, _ = scripted_client(Script([sse("a")]))
    async with scripted:
        assert await first_reader(scripted, "/s") is None


async def test_the_gate_stays_shut_when_httpcore_reports_the_body(
    loopback_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use_direct_path(monkeypatch, True)
    seen: list[str] = []

    async def trace(name: str, info: dict[str, object]) -> None:
        seen.append(name)

    with trio.fail_after(GUARD):
        async with httpx.AsyncClient() as client:
            assert await first_reader(client, loopback_url, extensions={"trace": trace}) is None
            caplog.set_level(logging.DEBUG, logger="httpcore.http11")
            assert await first_reader(client, loopback_url) is None
    assert "http11.receive_response_headers.complete" in seen


async def test_the_gate_stays_shut_when_the_private_structure_is_not_there(
    loopback_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_direct_path(monkeypatch, True)
    with trio.fail_after(GUARD):
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", loopback_url) as response:
                # An attribute the walk reads, gone (a reshaped httpcore of the same version).
                bound: Any = response.stream
                body = bound._stream._httpcore_stream._stream
                connection = body._connection
                del body._connection
                try:
                    assert h11_body(response) is None
                finally:
                    body._connection = connection
            # A layer of another class than the one it was tested with.
            monkeypatch.setattr(h11_body_module, "PoolByteStream", type("Reshaped", (), {}))
            assert await first_reader(client, loopback_url) is None
            async with open_event_stream(client, "GET", loopback_url, reconnect=False) as events:
                assert [event.data async for event in events] == ["0", "1", "2"]


def test_no_direct_path_when_a_private_module_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "trio_sse._h11_body")
    monkeypatch.setitem(sys.modules, "httpcore._async.http11", None)  # import fails
    reader = _http._direct_body_reader()
    assert reader is _http._no_direct_body
    assert reader(object()) is None


@pytest.mark.parametrize("library", ["httpx", "httpcore", "h11"])
def test_no_direct_path_on_a_version_it_was_not_tested_with(
    monkeypatch: pytest.MonkeyPatch, library: str
) -> None:
    assert h11_body_module._versions_tested()
    monkeypatch.setattr(sys.modules[library], "__version__", "99.0")
    assert not h11_body_module._versions_tested()


# -- the same behaviour both ways ---------------------------------------------------------


Handler = Callable[[trio.SocketStream, trio.Event], Any]


async def cut_mid_chunk(stream: trio.SocketStream, received: trio.Event) -> None:
    await stream.send_all(SSE_HEAD_CHUNKED + b"9\r\ndata: 1\n\n\r\n20\r\ndata: 2")


async def bad_chunk_header(stream: trio.SocketStream, received: trio.Event) -> None:
    await stream.send_all(SSE_HEAD_CHUNKED + b"9\r\ndata: 1\n\n\r\nzz\r\n")
    await received.wait()


async def reset(stream: trio.SocketStream, received: trio.Event) -> None:
    await stream.send_all(SSE_HEAD_CHUNKED + b"9\r\ndata: 1\n\n\r\n")
    await received.wait()  # the client has the event: the reset cannot overtake it
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
    stream.socket.close()  # a linger of 0: the kernel sends RST, not FIN


@pytest.mark.parametrize("handler", [cut_mid_chunk, bad_chunk_header, reset])
async def test_a_failing_body_fails_the_same_way_on_both_paths(
    nursery: trio.Nursery, readers: Readers, monkeypatch: pytest.MonkeyPatch, handler: Handler
) -> None:
    received = trio.Event()

    async def serve(stream: trio.SocketStream) -> None:
        await handler(stream, received)

    url = await serve_raw(nursery, serve)
    outcomes = []
    for direct in (True, False):
        use_direct_path(monkeypatch, direct)
        received = trio.Event()
        data: list[str] = []
        with trio.fail_after(GUARD), pytest.raises(NetworkError) as info:
            async with (
                httpx.AsyncClient() as client,
                open_event_stream(client, "GET", url, reconnect=False) as events,
            ):
                async for event in events:
                    data.append(event.data)
                    received.set()
        error = info.value
        cause = error.__cause__
        outcomes.append((data, type(error), str(error), error.transient, type(cause), str(cause)))
    assert readers[0] is not None
    assert readers[1] is None
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ["1"]  # nothing delivered before the failure is lost
    assert issubclass(outcomes[0][4], httpx.TransportError)


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "usual"])
async def test_a_read_timeout_fails_the_same_way_on_both_paths(
    nursery: trio.Nursery,
    mock_clock: trio.testing.MockClock,
    readers: Readers,
    monkeypatch: pytest.MonkeyPatch,
    direct: bool,
) -> None:
    use_direct_path(monkeypatch, direct)

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD_CHUNKED + b"9\r\ndata: 1\n\n\r\n")
        await trio.sleep_forever()

    url = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        async with httpx.AsyncClient() as client:
            timeout = httpx.Timeout(5.0, read=2.0)
            async with open_event_stream(
                client, "GET", url, reconnect=False, timeout=timeout
            ) as events:
                assert (await events.receive()).data == "1"
                await trio.testing.wait_all_tasks_blocked()  # the pump waits on its read
                mock_clock.jump(2.5)
                with pytest.raises(NetworkError) as info:
                    await events.receive()
    assert isinstance(readers[0], H11Body) is direct
    assert str(info.value) == f"GET {url}: ReadTimeout: "
    assert type(info.value.__cause__) is httpx.ReadTimeout
    assert info.value.transient


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "usual"])
async def test_the_pool_keeps_a_finished_streams_connection_and_not_a_cancelled_ones(
    app_server: tuple[str, ServerLog],
    readers: Readers,
    monkeypatch: pytest.MonkeyPatch,
    direct: bool,
) -> None:
    use_direct_path(monkeypatch, direct)
    url, log = app_server
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool  # httpx exposes no public view of its httpcore pool
    async with httpx.AsyncClient(transport=transport) as client:
        with trio.fail_after(GUARD):
            for _ in range(2):
                async with open_event_stream(
                    client, "GET", f"{url}/events?n=3", reconnect=False
                ) as events:
                    assert [e.id async for e in events] == ["0", "1", "2"]
                (connection,) = pool.connections  # kept, and used again by the second
            assert "Request Count: 2" in connection.info()
            with trio.CancelScope() as scope:
                async with open_event_stream(client, "GET", f"{url}/forever") as events:
                    async for _ in events:
                        scope.cancel()
            assert pool.connections == []  # cut off: closed, not returned to the pool
            await log.disconnected.wait()
    assert [isinstance(reader, H11Body) for reader in readers] == [direct] * 3


# -- the pieces: whole chunks, joined per read, bounded ------------------------------------


class ScriptedReads(httpcore.AsyncNetworkStream):
    """A network stream that returns the given reads, then end of file."""

    def __init__(self, reads: list[bytes]) -> None:
        self.reads = iter(reads)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 (httpcore's signature)
        await trio.lowlevel.checkpoint()
        return next(self.reads, b"")


def body_parser(head: bytes = SSE_HEAD_CHUNKED) -> h11.Connection:
    """A client's h11 state, request sent, response head received: in the body."""
    parser = h11.Connection(h11.CLIENT)
    parser.send(h11.Request(method="GET", target="/", headers=[("Host", "test")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(head)
    assert isinstance(parser.next_event(), h11.Response)
    return parser


async def pieces_of(reads: list[bytes]) -> list[bytes]:
    return [piece async for piece in H11Body(body_parser(), ScriptedReads(reads), None, 65536)]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


async def test_the_body_data_of_one_read_is_one_piece() -> None:
    # h11 hands out a chunk's data as it arrives: "d" of "dd" comes with the second read
    reads = [chunked(b"a", b"bb")[:-5], b"3\r\nccc\r\n2\r\nd", b"d\r\n0\r\n\r\n"]
    assert await pieces_of(reads) == [b"abb", b"cccd", b"d"]


async def test_a_piece_joins_no_more_than_the_cap() -> None:
    events = [b"data: %05d\n\n" % i for i in range(10_000)]
    pieces = await pieces_of([chunked(*events)])  # one read holds them all
    assert b"".join(pieces) == b"".join(events)
    assert len(pieces) > 1
    assert all(len(piece) < MAX_PIECE_BYTES + len(events[0]) for piece in pieces)


async def test_a_big_chunk_is_never_split() -> None:
    big = b"x" * (3 * MAX_PIECE_BYTES)
    assert await pieces_of([chunked(big, b"y")]) == [big, b"y"]


@settings(deadline=None, max_examples=60)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=40), max_size=30),
    cuts=st.lists(st.integers(min_value=0), max_size=20),
)
def test_the_pieces_are_the_body_however_the_reads_fall(
    chunks: list[bytes], cuts: list[int]
) -> None:
    reads = split(chunked(*chunks), cuts)
    pieces = trio.run(pieces_of, reads)
    assert b"".join(pieces) == b"".join(chunks)
    assert all(pieces)  # no empty piece: each one is a decoder feed
    assert len(pieces) <= len(reads)  # at most one a read (each is far below the cap)


async def test_the_data_before_a_protocol_fault_comes_out_first() -> None:
    reader = H11Body(body_parser(), ScriptedReads([b"3\r\nabc\r\nzz\r\n"]), None, 65536)
    assert await reader.__anext__() == b"abc"
    with pytest.raises(httpx.RemoteProtocolError, match="illegal chunk header"):
        await reader.__anext__()
    with pytest.raises(StopAsyncIteration):
        await reader.__anext__()


async def test_a_body_cut_short_is_httpxs_remote_protocol_error() -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read") as info:
        await pieces_of([b"5\r\nab"])
    assert isinstance(info.value.__cause__, httpcore.RemoteProtocolError)


async def test_more_of_a_read_already_made_is_handed_out_after_a_schedule_point() -> None:
    # A backlog read in one go comes out a piece at a time, each after a schedule point
    # (as a socket read would be): the consumer of one piece runs before the next is
    # decoded, so a burst of many streams holds a piece's events each, not more.
    events = [b"data: %05d\n\n" % i for i in range(2000)]
    reader = H11Body(body_parser(), ScriptedReads([chunked(*events)]), None, 65536)
    pieces = []
    with trio.testing.assert_checkpoints():
        pieces.append(await reader.__anext__())  # the read
    while True:
        try:
            with trio.testing.assert_checkpoints():  # the rest of that read, piece by piece
                pieces.append(await reader.__anext__())
        except StopAsyncIteration:  # (the end itself: a checkpoint or not, nothing waits)
            break
    assert len(pieces) > 2
    assert b"".join(pieces) == b"".join(events)
