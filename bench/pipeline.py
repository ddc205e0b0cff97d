"""The whole pipeline, loopback socket to JSON, against raw httpx and httpx-sse under Trio.

A server in a separate process streams N Anthropic-shaped events, one HTTP chunk each,
over 127.0.0.1. Consumers, each in this process, one at a time, interleaved over rounds:

- (a) raw httpx ``aiter_bytes()``: no parsing at all, the floor;
- (b) httpx-sse ``aiter_sse()`` under Trio, ``json.loads`` on every event;
- (c) trio-sse ``open_event_stream``, ``json.loads`` on every event.

Prints the best round's µs per event and the ratios. The providers issue adds the Anthropic
consumer and the anthropic SDK's own stream.

    python bench/pipeline.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
import httpx_sse
import trio

import trio_sse

Consumer = Callable[[httpx.AsyncClient, str], Awaitable[int]]


# -- the server (a separate process) ------------------------------------------------------


def body(count: int) -> bytes:
    """``count`` events, each its own HTTP chunk, then the last chunk."""
    chunks = []
    for i in range(count):
        payload = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": f" token{i % 100}"},
        }
        event = f"event: content_block_delta\ndata: {json.dumps(payload)}\n\n".encode()
        chunks.append(b"%x\r\n%s\r\n" % (len(event), event))
    chunks.append(b"0\r\n\r\n")
    return b"".join(chunks)


def serve(count: int) -> None:
    """Answer each connection on 127.0.0.1 with the whole stream; print the port first."""
    payload = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n" + body(count)
    )
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print(listener.getsockname()[1], flush=True)
        while True:
            connection, _ = listener.accept()
            with connection:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = connection.recv(65536)
                    if not data:
                        break
                    head += data
                else:
                    connection.sendall(payload)


# -- the consumers ------------------------------------------------------------------------


async def raw_httpx(client: httpx.AsyncClient, url: str) -> int:
    size = 0
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def httpx_sse_consumer(client: httpx.AsyncClient, url: str) -> int:
    count = 0
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        async for event in source.aiter_sse():
            json.loads(event.data)
            count += 1
    return count


async def trio_sse_consumer(client: httpx.AsyncClient, url: str) -> int:
    count = 0
    async with trio_sse.open_event_stream(client, "GET", url) as events:
        async for event in events:
            json.loads(event.data)
            count += 1
    return count


CONSUMERS: dict[str, Consumer] = {
    "(a) raw httpx aiter_bytes": raw_httpx,
    "(b) httpx-sse aiter_sse": httpx_sse_consumer,
    "(c) trio-sse open_event_stream": trio_sse_consumer,
}


async def run(url: str, events: int, rounds: int) -> dict[str, float]:
    best = {name: float("inf") for name in CONSUMERS}
    async with httpx.AsyncClient(timeout=None) as client:
        for _ in range(rounds):
            for name, consume in CONSUMERS.items():
                start = time.perf_counter()
                result = await consume(client, url)
                best[name] = min(best[name], time.perf_counter() - start)
                if name != "(a) raw httpx aiter_bytes" and result != events:
                    raise SystemExit(f"{name} received {result} events, expected {events}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--events", str(args.events)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        best = trio.run(run, f"http://127.0.0.1:{port}/stream", args.events, args.rounds)
    finally:
        server.kill()
        server.wait()
    floor = best["(a) raw httpx aiter_bytes"]
    print(f"Python {sys.version.split()[0]}, {args.events:,} events, best of {args.rounds} rounds")
    print(f"  {'consumer':<34}{'µs/event':>10}{'events/s':>12}{'x floor':>9}")
    for name, seconds in best.items():
        per_event = seconds / args.events
        print(f"  {name:<34}{per_event * 1e6:>10.2f}{1 / per_event:>12,.0f}{seconds / floor:>9.2f}")
    ratio = best["(b) httpx-sse aiter_sse"] / best["(c) trio-sse open_event_stream"]
    print(f"trio-sse events/s over httpx-sse's: {ratio:.2f}x (the target is 1.5x)")
    print(
        f"trio-sse time over the raw floor: {best['(c) trio-sse open_event_stream'] / floor:.2f}x"
    )


if __name__ == "__main__":
    main()
