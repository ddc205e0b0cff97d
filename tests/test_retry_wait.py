"""The waits a stream really takes under the server's ``retry:`` and ``Retry-After``.

Scripted transports under the autojump clock, then one real server on 127.0.0.1.
"""

from __future__ import annotations

import random
from itertools import pairwise
from typing import Any

import httpx
import trio
import trio.testing

from trio_sse import RetryPolicy, open_event_stream

from .scripted import Drop, Script, scripted_client, sse
from .servers import SSE_HEAD, serve_raw_with_head

HUGE_RETRY = "9" * 400
"""A ``retry:`` of 400 digits: beyond a float in seconds."""


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 9) for a, b in pairwise(times)]


def unavailable(**headers: str) -> Script:
    return Script([b"busy"], status=503, headers={"content-type": "text/plain", **headers})


async def collect(client: Any, method: str = "GET", **kwargs: Any) -> list[str]:
    async with open_event_stream(client, method, "/s", **kwargs) as events:
        return [event.data async for event in events]


async def test_jitter_goes_on_top_of_the_servers_retry(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([sse([("retry", "2000"), ("data", "a")]), Drop()]),
        *[unavailable()] * 3,
        Script([sse("b")]),
        Script(status=204),
    )
    policy = RetryPolicy(factor=2, cap=30, jitter=1.0, random=random.Random(11).random)
    assert await collect(client, retry=policy) == ["a", "b"]
    draws = random.Random(11)
    expected = [round(min(30, 2 * 2**n * (1 + draws.random())), 9) for n in range(4)]
    expected.append(round(2 * (1 + draws.random()), 9))  # a new run after the event "b"
    assert gaps(seen.times) == expected
    assert all(gap >= 2 for gap in gaps(seen.times))  # never sooner than the server asked


async def test_full_jitter_still_applies_without_a_server_retry(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(unavailable(), Script([sse("a")]))
    policy = RetryPolicy(base=4, jitter=1.0, random=lambda: 0.75)
    assert await collect(client, "POST", retry=policy) == ["a"]
    assert gaps(seen.times) == [1.0]


async def test_an_oversized_retry_waits_the_cap_and_loses_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        Script([sse([("id", "1"), ("data", "a")], [("retry", HUGE_RETRY), ("data", "b")]), Drop()]),
        Script([sse([("id", "2"), ("data", "c")])]),
        Script(status=204),
    )
    policy = RetryPolicy(cap=7, jitter=1.0, random=lambda: 0.5)
    assert await collect(client, retry=policy) == ["a", "b", "c"]
    assert gaps(seen.times) == [7, 7]  # the server's retry holds until a new one comes


async def test_a_retry_after_date_too_far_off_falls_back_to_the_policy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    client, seen = scripted_client(
        unavailable(**{"retry-after": "0 JAN 2147483648 0:0"}), Script([sse("a")])
    )
    policy = RetryPolicy(base=3, jitter=0)
    assert await collect(client, "POST", retry=policy) == ["a"]
    assert gaps(seen.times) == [3]


async def test_an_oversized_retry_from_a_real_server(nursery: trio.Nursery) -> None:
    connections = 0

    async def handler(stream: trio.SocketStream, head: bytes) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            body = b"id: 1\ndata: a\n\nretry: %s\ndata: b\n\n" % HUGE_RETRY.encode()
            await stream.send_all(SSE_HEAD + body)
        else:
            await stream.send_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")

    port = await serve_raw_with_head(nursery, handler)
    policy = RetryPolicy(cap=0.05, jitter=0)
    with trio.fail_after(10):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "GET", f"http://127.0.0.1:{port}/", retry=policy) as events,
        ):
            received = [(event.data, event.retry) async for event in events]
            assert events.status_code == 204
    assert received == [("a", None), ("b", int(HUGE_RETRY))]
    assert connections == 2


async def test_a_retry_after_date_too_far_off_from_a_real_server(nursery: trio.Nursery) -> None:
    connections = 0

    async def handler(stream: trio.SocketStream, head: bytes) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await stream.send_all(
                b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 0 JAN 2147483648 0:0\r\n"
                b"content-length: 4\r\nconnection: close\r\n\r\nbusy"
            )
        else:
            await stream.send_all(SSE_HEAD + b"data: a\n\n")

    port = await serve_raw_with_head(nursery, handler)
    policy = RetryPolicy(base=0.01, jitter=0)
    with trio.fail_after(10):
        async with (
            httpx.AsyncClient() as client,
            open_event_stream(client, "POST", f"http://127.0.0.1:{port}/", retry=policy) as events,
        ):
            assert [event.data async for event in events] == ["a"]
    assert connections == 2
