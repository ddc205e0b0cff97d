"""Against real HTTP servers on 127.0.0.1: hypercorn + sse-starlette, and a raw Trio server.

Each test runs under a ``fail_after`` guard on Trio's clock, so a hang fails fast.
"""

from __future__ import annotations

import statistics
import time
import zlib
from collections.abc import AsyncIterator
from itertools import pairwise

import httpx
import httpx2
import pytest
import trio

from trio_sse import ContentTypeError, NetworkError, StatusError, open_event_stream

from .servers import SSE_HEAD, SSE_HEAD_CHUNKED, ServerLog, chunked, serve_raw

GUARD = 10  # seconds: generous for a loaded 2-core machine, small enough to fail fast


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_chunked_stream_with_ids_and_headers(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, log = app_server
    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", f"{url}/events?n=20&retry=1") as events:
            assert events.headers.get("transfer-encoding") == "chunked"
            received = [(e.event, e.id, e.data) async for e in events]
            assert events.status_code == 204  # a GET reconnects until the server says "done"
    assert received == [("tick", str(i), f"{i}:") for i in range(20)]
    first, second = log.requests
    assert first["accept"] == second["accept"] == "text/event-stream"
    assert first["cache-control"] == "no-store"
    assert "last-event-id" not in first
    assert second["last-event-id"] == "19"
    assert log.finished == 1


async def test_early_exit_disconnects_the_server(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, log = app_server
    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", f"{url}/forever") as events:
            async for event in events:
                if event.id == "10":
                    break
        await log.disconnected.wait()  # the server's generator saw the client leave


async def test_cancellation_disconnects_the_server(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, log = app_server
    with trio.fail_after(GUARD):
        with trio.CancelScope() as scope:
            async with open_event_stream(client, "GET", f"{url}/forever") as events:
                async for event in events:
                    if event.id == "3":
                        scope.cancel()
        await log.disconnected.wait()
    assert scope.cancelled_caught


async def test_stalled_server_is_not_a_timeout(app_server: tuple[str, ServerLog]) -> None:
    # The client's 50 ms read timeout would kill this stream; trio-sse drops the read
    # timeout for streams (callers bound time with cancel scopes instead).
    url, _ = app_server
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient(timeout=0.05) as client,
            open_event_stream(client, "GET", f"{url}/events?n=2&delay=0.3&retry=1") as events,
        ):
            assert [e.id async for e in events] == ["0", "1"]


async def test_slow_consumer_gets_everything_in_order(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, _ = app_server
    received: list[str] = []
    with trio.fail_after(GUARD):
        async with open_event_stream(
            client, "GET", f"{url}/events?n=40&size=2000", max_buffer_size=2, reconnect=False
        ) as events:
            async for event in events:
                await trio.sleep(0.005)
                received.append(event.id)
    assert received == [str(i) for i in range(40)]


async def test_status_and_content_type_errors(
    app_server: tuple[str, ServerLog], client: httpx.AsyncClient
) -> None:
    url, _ = app_server
    with trio.fail_after(GUARD):
        with pytest.raises(StatusError) as status:
            async with open_event_stream(client, "GET", f"{url}/status/429", retry=None):
                pass  # pragma: no cover
        with pytest.raises(ContentTypeError) as content_type:
            async with open_event_stream(client, "GET", f"{url}/json"):
                pass  # pragma: no cover
    assert status.value.status_code == 429
    assert status.value.body.startswith("the server says no")
    assert len(status.value.body) == 2048
    assert content_type.value.content_type == "application/json"


async def test_connection_refused_is_a_network_error(client: httpx.AsyncClient) -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with trio.fail_after(GUARD), pytest.raises(NetworkError, match="ConnectError"):
        async with open_event_stream(client, "GET", f"http://127.0.0.1:{port}/", retry=None):
            pass  # pragma: no cover


async def test_connection_closed_mid_event_discards_the_partial_event(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    # No Content-Length, Connection: close: the close is the end of the body, and the
    # event it cut off was never terminated, so it is never delivered.
    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD + b"id: 1\ndata: whole\n\nid: 2\ndata: cut o")

    url = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", url, reconnect=False) as events:
            assert [(e.id, e.data) async for e in events] == [("1", "whole")]


async def test_chunked_body_cut_mid_event_is_a_network_error(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    head = SSE_HEAD.replace(b"connection: close", b"transfer-encoding: chunked")
    first = b"data: whole\n\n"

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(head + b"%x\r\n%s\r\n" % (len(first), first) + b"20\r\ndata: cu")

    url = await serve_raw(nursery, handler)
    received: list[str] = []
    with trio.fail_after(GUARD), pytest.raises(NetworkError) as info:
        async with open_event_stream(client, "GET", url, reconnect=False) as events:
            async for event in events:
                received.append(event.data)
    assert received == ["whole"]
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


async def test_httpx2_client_against_the_real_server(app_server: tuple[str, ServerLog]) -> None:
    url, log = app_server
    with trio.fail_after(GUARD):
        async with httpx2.AsyncClient() as client:
            async with open_event_stream(client, "GET", f"{url}/events?n=5&retry=1") as events:
                assert [e.id async for e in events] == ["0", "1", "2", "3", "4"]
            assert not log.disconnected.is_set()
            async with open_event_stream(client, "GET", f"{url}/forever") as events:
                async for _ in events:
                    break
            await log.disconnected.wait()


async def test_gzip_encoded_stream_is_decoded_as_it_arrives(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    compressor = zlib.compressobj(wbits=31)  # gzip framing
    head = SSE_HEAD.replace(b"connection: close", b"content-encoding: gzip\r\nconnection: close")
    second_sent = trio.Event()
    first_received = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(
            head + compressor.compress(b"data: one\n\n") + compressor.flush(zlib.Z_SYNC_FLUSH)
        )
        await first_received.wait()  # the first event must arrive before the second is sent
        await stream.send_all(compressor.compress(b"data: two\n\n") + compressor.flush())
        second_sent.set()

    url = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", url, reconnect=False) as events:
            received = []
            async for event in events:
                received.append(event.data)
                first_received.set()
    assert received == ["one", "two"]
    assert second_sent.is_set()


async def test_redirect_is_followed_when_asked(
    app_server: tuple[str, ServerLog], nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    url, _ = app_server

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(
            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: %s/events?n=2\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n" % url.encode()
        )

    old = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        with pytest.raises(StatusError) as info:  # httpx does not follow redirects by default
            async with open_event_stream(client, "GET", old):
                pass  # pragma: no cover
        assert info.value.status_code == 307
        async with open_event_stream(
            client, "GET", old, follow_redirects=True, reconnect=False
        ) as events:
            assert events.url == f"{url}/events?n=2"
            assert [e.id async for e in events] == ["0", "1"]


async def test_the_pool_keeps_no_connection_of_a_cancelled_stream(
    app_server: tuple[str, ServerLog],
) -> None:
    url, log = app_server
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool  # httpx exposes no public view of its httpcore pool
    async with httpx.AsyncClient(transport=transport) as client:
        with trio.fail_after(GUARD):
            async with open_event_stream(
                client, "GET", f"{url}/events?n=3", reconnect=False
            ) as events:
                assert len([e async for e in events]) == 3
            assert len(pool.connections) == 1  # read to the end: kept for reuse
            with trio.CancelScope() as scope:
                async with open_event_stream(client, "GET", f"{url}/forever") as events:
                    async for _ in events:
                        scope.cancel()
            assert pool.connections == []  # cut off: closed, not returned to the pool
            await log.disconnected.wait()


async def test_a_fast_stream_lets_sibling_tasks_run_every_few_milliseconds(
    nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    # The server writes 20,000 events (one HTTP chunk each) as fast as the socket takes
    # them, so the pump never waits for data and the consumer rarely waits for the pump.
    # A sibling task that only loops on checkpoints must still get turns, often.
    count = 20_000
    body = chunked(*(b"data: %d\n\n" % i for i in range(count)))

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(SSE_HEAD_CHUNKED + body)

    url = await serve_raw(nursery, handler)
    received = 0
    turns: list[tuple[float, int]] = []  # (when, events received by then)
    done = False

    async def sibling() -> None:
        while not done:
            turns.append((time.perf_counter(), received))
            await trio.lowlevel.checkpoint()

    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", url, reconnect=False) as events:
            nursery.start_soon(sibling)
            async for event in events:
                assert event.data == str(received)
                received += 1
            done = True
    assert received == count
    gaps = [(later[0] - earlier[0], later[1] - earlier[1]) for earlier, later in pairwise(turns)]
    # A schedule point at least every 64 receives (twice that between two observations);
    # at the microseconds an event costs, that is well under a millisecond a turn.
    assert max(events for _, events in gaps) <= 2 * 64
    assert statistics.median(seconds for seconds, _ in gaps) < 0.002
