"""Reconnection against real servers on 127.0.0.1 that misbehave on purpose.

Raw Trio servers (a framework will not cut an event in half, stall, or restart on cue)
and the hypercorn + sse-starlette app. Each test runs under a ``fail_after`` guard.
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import httpx
import pytest
import trio

from trio_sse import EventTooLargeError, RetryPolicy, open_event_stream

from .servers import SSE_HEAD, ResumableFeed, last_event_id, serve_raw_with_head

GUARD = 20
FAST = RetryPolicy(base=0.01, cap=0.05, jitter=0, max_attempts=None)
"""Quick retries: these tests are about what is delivered, not about the waits."""


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_connections_killed_mid_event_lose_and_repeat_nothing(nursery: trio.Nursery) -> None:
    feed = ResumableFeed(total=50, per_connection=7)
    port = await serve_raw_with_head(nursery, feed.serve)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "GET", f"http://127.0.0.1:{port}/") as events,
        ):
            ids = [int(e.id) async for e in events]
            stats = events.statistics()
    assert ids == list(range(1, 51))
    assert feed.connections == 9  # 8 cut connections, then the 204
    assert feed.resumed_from == [None, *(str(i) for i in range(7, 50, 7)), "50"]
    assert (stats.connection_attempts, stats.reconnects) == (9, 8)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts fds in /proc/self/fd")
async def test_a_thousand_reconnects_leave_no_descriptor_open(nursery: trio.Nursery) -> None:
    feed = ResumableFeed(total=1000, per_connection=1)
    port = await serve_raw_with_head(nursery, feed.serve)
    async with httpx.AsyncClient() as client:
        before = open_fds()
        with trio.fail_after(60):
            async with open_event_stream(client, "GET", f"http://127.0.0.1:{port}/") as events:
                ids = [int(e.id) async for e in events]
        await trio.testing.wait_all_tasks_blocked()
        after = open_fds()
    assert ids == list(range(1, 1001))  # each exactly once, in order
    assert feed.connections == 1001
    assert after <= before


async def test_a_server_restart_is_survived(nursery: trio.Nursery) -> None:
    first_half_sent = trio.Event()

    async def before_restart(stream: trio.SocketStream, head: bytes) -> None:
        await stream.send_all(SSE_HEAD + b"".join(b"id: %d\ndata: x\n\n" % i for i in range(1, 6)))
        first_half_sent.set()
        await trio.sleep_forever()  # until the server goes down

    after = ResumableFeed(total=10, per_connection=10)
    first_server = trio.CancelScope()

    async def run_first_server(task_status: trio.TaskStatus[int]) -> None:
        with first_server:
            async with trio.open_nursery() as own:
                task_status.started(await serve_raw_with_head(own, before_restart))

    port: int = await nursery.start(run_first_server)

    async def restart() -> None:
        await first_half_sent.wait()
        await trio.sleep(0.05)
        first_server.cancel()  # its listener and every connection close
        await trio.sleep(0.3)  # the client finds nobody listening for a while
        await serve_raw_with_head(nursery, after.serve, port=port)

    nursery.start_soon(restart)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "GET", f"http://127.0.0.1:{port}/", retry=FAST) as events,
        ):
            ids = [int(e.id) async for e in events]
            refused = events.statistics().connection_attempts - after.connections - 1
    assert ids == list(range(1, 11))
    assert after.resumed_from[0] == "5"
    assert refused >= 1  # it did retry while the server was down


async def test_a_stalled_server_is_left_for_a_new_connection(nursery: trio.Nursery) -> None:
    connections = 0

    async def stall_once(stream: trio.SocketStream, head: bytes) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await stream.send_all(SSE_HEAD + b"id: 1\ndata: a\n\n")
            await trio.sleep_forever()
        elif last_event_id(head) == "1":
            await stream.send_all(SSE_HEAD + b"id: 2\ndata: b\n\n")
        else:
            await stream.send_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")

    port = await serve_raw_with_head(nursery, stall_once)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(
                client, "GET", f"http://127.0.0.1:{port}/", retry=FAST, idle_timeout=0.2
            ) as events,
        ):
            assert [e.data async for e in events] == ["a", "b"]
    assert connections == 3


async def test_retryable_statuses_from_a_real_server(nursery: trio.Nursery) -> None:
    answers = [b"503 Service Unavailable", b"429 Too Many Requests"]

    async def flaky(stream: trio.SocketStream, head: bytes) -> None:
        if answers:
            status = answers.pop(0)
            await stream.send_all(
                b"HTTP/1.1 %s\r\nretry-after: 0\r\ncontent-length: 0\r\n"
                b"connection: close\r\n\r\n" % status
            )
        else:
            await stream.send_all(SSE_HEAD + b"id: 0\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n")

    port = await serve_raw_with_head(nursery, flaky)
    with trio.fail_after(GUARD):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "POST", f"http://127.0.0.1:{port}/", retry=FAST) as events,
        ):
            assert [e.data async for e in events] == ["a", "b"]
            assert events.statistics().connection_attempts == 3
    assert answers == []


async def test_an_endless_line_is_cut_off_with_memory_bounded(nursery: trio.Nursery) -> None:
    offered = 100 * 2**20
    chunk = b"x" * 2**16
    sent = 0
    hung_up = trio.Event()

    async def endless(stream: trio.SocketStream, head: bytes) -> None:
        nonlocal sent
        await stream.send_all(SSE_HEAD + b"data: ")
        try:
            while sent < offered:
                await stream.send_all(chunk)
                sent += len(chunk)
        except trio.BrokenResourceError:
            hung_up.set()  # the client closed the connection, as it should

    port = await serve_raw_with_head(nursery, endless)
    limit = 2**20
    tracemalloc.start()
    try:
        with trio.fail_after(GUARD):
            async with httpx.AsyncClient() as client:
                with pytest.raises(EventTooLargeError):
                    async with open_event_stream(
                        client, "GET", f"http://127.0.0.1:{port}/", max_event_size=limit
                    ) as events:
                        await events.receive()
            await hung_up.wait()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent < 8 * limit  # the connection was closed long before the 100 MB
    assert peak < 4 * limit  # a few copies of the limit, not the stream
