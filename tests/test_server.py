"""Against real HTTP servers on 127.0.0.1: hypercorn + sse-starlette, and a raw Trio server.

Each test runs under a ``fail_after`` guard on Trio's clock, so a hang fails fast.
"""

from __future__ import annotations

import gc
import zlib
from collections.abc import AsyncIterator
from functools import partial
from itertools import pairwise
from typing import Any

import httpx
import httpx2
import pytest
import trio
import trio.testing

from trio_sse import (
    ContentTypeError,
    IdleTimeoutError,
    NetworkError,
    RetriesExhaustedError,
    RetryPolicy,
    StatusError,
    open_event_stream,
)

from .servers import (
    SSE_HEAD,
    SSE_HEAD_CHUNKED,
    ServerLog,
    chunked,
    read_body,
    serve_raw,
    serve_raw_with_head,
)

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
    assert first["cache-control"] == "no-cache"
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


async def test_redirect_is_followed_unless_asked_not_to(
    app_server: tuple[str, ServerLog], nursery: trio.Nursery, client: httpx.AsyncClient
) -> None:
    url, log = app_server

    async def handler(stream: trio.SocketStream) -> None:
        await stream.send_all(
            b"HTTP/1.1 307 Temporary Redirect\r\nlocation: %s/events?n=2&retry=1\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n" % url.encode()
        )

    old = await serve_raw(nursery, handler)
    with trio.fail_after(GUARD):
        with pytest.raises(StatusError) as info:
            async with open_event_stream(client, "GET", old, follow_redirects=False):
                pass  # pragma: no cover
        assert info.value.status_code == 307
        async with open_event_stream(client, "GET", old) as events:  # as EventSource does
            assert events.url == f"{url}/events?n=2&retry=1"
            assert [e.id async for e in events] == ["0", "1"]
    # The reconnect went to the final URL, with the last ID, and was told it was over.
    assert log.requests[-1]["last-event-id"] == "1"
    assert events.status_code == 204


@pytest.mark.parametrize("module", [httpx, httpx2])
async def test_api_keys_never_follow_a_redirect_to_another_origin(
    nursery: trio.Nursery, module: Any
) -> None:
    heads: list[bytes] = []

    async def target(stream: trio.SocketStream, head: bytes) -> None:
        heads.append(head)
        await read_body(stream, head)  # closing with a body unread would reset the connection
        await stream.send_all(SSE_HEAD + b"data: here\n\n")

    other = await serve_raw_with_head(nursery, target)  # another port: another origin

    async def origin(stream: trio.SocketStream, head: bytes) -> None:
        heads.append(head)
        await read_body(stream, head)
        await stream.send_all(
            b"HTTP/1.1 308 Permanent Redirect\r\nlocation: http://127.0.0.1:%d/v1\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n" % other
        )

    port = await serve_raw_with_head(nursery, origin)
    keys = {"x-api-key": "sk-ant", "x-goog-api-key": "g", "api-key": "az", "authorization": "k"}
    with trio.fail_after(GUARD):
        async with (
            module.AsyncClient(follow_redirects=True) as client,  # asks the client to follow
            open_event_stream(
                client, "POST", f"http://127.0.0.1:{port}/v1", headers=keys, json={"q": 1}
            ) as events,
        ):
            assert [e.data async for e in events] == ["here"]
    first, second = heads
    assert b"x-api-key: sk-ant" in first.lower()
    assert second.startswith(b"POST /v1 ")  # a 308 keeps the method and the body
    for name in keys:
        assert name.encode() not in second.lower(), name


@pytest.mark.parametrize("module", [httpx, httpx2])
async def test_the_clients_cookies_never_follow_a_redirect_to_another_origin(
    nursery: trio.Nursery, module: Any
) -> None:
    heads: list[bytes] = []

    async def target(stream: trio.SocketStream, head: bytes) -> None:
        heads.append(head)
        await stream.send_all(SSE_HEAD + b"data: here\n\n")

    other = await serve_raw_with_head(nursery, target)  # another port: another origin

    async def origin(stream: trio.SocketStream, head: bytes) -> None:
        heads.append(head)
        await stream.send_all(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:%d/feed\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n" % other
        )

    port = await serve_raw_with_head(nursery, origin)
    url = f"http://127.0.0.1:{port}/"
    with trio.fail_after(GUARD):
        async with module.AsyncClient(cookies={"session": "SECRET"}) as client:
            with pytest.raises(StatusError) as info:
                async with open_event_stream(client, "GET", url, retry=None):
                    pass  # pragma: no cover
        assert info.value.status_code == 302
        assert len(heads) == 1
        assert b"session=SECRET" in heads[0]
        async with (  # without the cookie it follows
            module.AsyncClient() as client,
            open_event_stream(client, "GET", url, reconnect=False) as events,
        ):
            assert [e.data async for e in events] == ["here"]
    assert len(heads) == 3
    assert all(b"secret" not in head.lower() for head in heads[1:])


async def test_a_post_taken_before_its_head_is_never_sent_twice(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock
) -> None:
    requests: list[str] = []

    async def handler(stream: trio.SocketStream, head: bytes) -> None:
        requests.append("dropped" if not requests else "held")
        await read_body(stream, head)  # the request is in: the model starts (and bills)
        if requests[-1] == "held":
            await trio.sleep(100)  # thinking before the head, past the watchdog

    port = await serve_raw_with_head(nursery, handler)
    url = f"http://127.0.0.1:{port}/"
    with trio.fail_after(60):
        async with httpx.AsyncClient() as client:
            # The server closes without a head: RemoteProtocolError, after the request.
            with pytest.raises(NetworkError, match="RemoteProtocolError") as dropped:
                async with open_event_stream(client, "POST", url, json={"q": 1}):
                    pass  # pragma: no cover
            assert not isinstance(dropped.value, RetriesExhaustedError)
            assert requests == ["dropped"]
            with pytest.raises(IdleTimeoutError):
                async with open_event_stream(client, "POST", url, json={"q": 1}, idle_timeout=5):
                    pass  # pragma: no cover
    assert requests == ["dropped", "held"]


# httpcore's Trio backend closes the TCP stream when the TLS handshake raises an Exception,
# not when it is cancelled (httpcore 1.0.9, _backends/trio.py, start_tls; httpx2's core too):
# the socket is left in a reference cycle for the garbage collector, which warns.
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.parametrize("module", [httpx, httpx2])
async def test_a_post_whose_watchdog_fired_in_the_tls_handshake_is_retried(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock, module: Any
) -> None:
    # A server that takes the connection and never answers the TLS hello: the request
    # was never written (httpcore's trace says so), so sending it again bills nothing.
    connections = 0

    async def mute(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        async with stream:
            while await stream.receive_some():
                pass

    listeners = await nursery.start(partial(trio.serve_tcp, mute, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    policy = RetryPolicy(base=1, jitter=0, max_attempts=3)
    with trio.fail_after(60):
        async with module.AsyncClient() as client:
            with pytest.raises(RetriesExhaustedError) as info:
                async with open_event_stream(
                    client,
                    "POST",
                    f"https://127.0.0.1:{port}/",
                    json={"q": 1},
                    retry=policy,
                    idle_timeout=5,
                ):
                    pass  # pragma: no cover
    try:
        assert info.value.attempts == 3
        assert isinstance(info.value.last_error, IdleTimeoutError)
        assert connections == 3
    finally:
        del info  # its traceback holds httpcore's frames, and so the sockets they leaked
        gc.collect()  # warned about here, in this test, not in a later one


async def test_a_post_that_could_not_connect_is_retried(io_clock: trio.testing.MockClock) -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    policy = RetryPolicy(base=1, jitter=0, max_attempts=3)
    with trio.fail_after(60):
        async with httpx.AsyncClient() as client:
            with pytest.raises(RetriesExhaustedError) as info:
                async with open_event_stream(
                    client, "POST", f"http://127.0.0.1:{port}/", json={"q": 1}, retry=policy
                ):
                    pass  # pragma: no cover
    assert info.value.attempts == 3
    assert "ConnectError" in str(info.value.last_error)


@pytest.mark.parametrize("module", [httpx, httpx2])
async def test_last_event_id_is_sent_as_the_ids_utf8_bytes(
    nursery: trio.Nursery, module: Any
) -> None:
    received: list[bytes | None] = []
    bodies = [
        b"retry: 0\nid: \xc3\xa9t\xc3\xa9-1\ndata: a\n\n",  # not ASCII: a crash once
        b"id:  2 \ndata: b\n\n",  # whitespace around: a dead stream once (h11 refused it)
        b"id: 3\x0b\ndata: c\n\n",  # a vertical tab: no header may carry it
        b"id: 4\ndata: d\n\n",
    ]

    async def handler(stream: trio.SocketStream, head: bytes) -> None:
        value = None
        for line in head.split(b"\r\n")[1:]:
            name, _, rest = line.partition(b":")
            if name.lower() == b"last-event-id":
                value = rest.strip(b" ")
        received.append(value)
        if not bodies:
            await stream.send_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            return
        await stream.send_all(SSE_HEAD + bodies.pop(0))

    port = await serve_raw_with_head(nursery, handler)
    with trio.fail_after(GUARD):
        async with (
            module.AsyncClient() as client,
            open_event_stream(client, "GET", f"http://127.0.0.1:{port}/") as events,
        ):
            assert [e.data async for e in events] == ["a", "b", "c", "d"]
    assert received == [None, "été-1".encode(), b"2", None, b"4"]


@pytest.fixture
def io_clock() -> trio.testing.MockClock:
    """Trio's clock, jumping ahead only after 50 ms of real idleness: the server's delays
    and the watchdog run on virtual time, while loopback I/O (microseconds) never looks
    idle. Either way a jump goes to the earliest deadline, the server's own sleep."""
    return trio.testing.MockClock(autojump_threshold=0.05)


async def test_a_slow_head_then_a_body_is_not_idle_and_a_post_is_sent_once(
    nursery: trio.Nursery, io_clock: trio.testing.MockClock
) -> None:
    requests = 0

    async def handler(stream: trio.SocketStream, head: bytes) -> None:
        nonlocal requests
        requests += 1
        await read_body(stream, head)
        await trio.sleep(4)
        await stream.send_all(SSE_HEAD)  # the head alone, after 4 s
        await trio.sleep(4)  # 8 s since the request, never 5 s without a byte
        await stream.send_all(b"data: a\n\n")

    port = await serve_raw_with_head(nursery, handler)
    with trio.fail_after(60):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(
                client, "POST", f"http://127.0.0.1:{port}/", json={"q": 1}, idle_timeout=5
            ) as events,
        ):
            assert [e.data async for e in events] == ["a"]
    assert requests == 1


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
    turns: list[int] = []  # events received by each of the sibling's turns
    done = False

    async def sibling() -> None:
        while not done:
            turns.append(received)
            await trio.lowlevel.checkpoint()

    with trio.fail_after(GUARD):
        async with open_event_stream(client, "GET", url, reconnect=False) as events:
            nursery.start_soon(sibling)
            async for event in events:
                assert event.data == str(received)
                received += 1
            done = True
    assert received == count
    gaps = [later - earlier for earlier, later in pairwise(turns)]
    # A schedule point at least every 64 receives (twice that between two observations):
    # counted in events, not timed, so a loaded machine cannot fail it.
    assert len(turns) > count // (2 * 64)
    assert max(gaps) <= 2 * 64
