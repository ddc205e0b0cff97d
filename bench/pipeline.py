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
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
import trio
from _loopback import (
    accept_stream,
    chunk,
    consume_httpx_sse,
    consume_trio_sse,
    listening,
    server_process,
    token_event,
)

Consumer = Callable[[httpx.AsyncClient, str], Awaitable[int]]


# -- the server (a separate process) ------------------------------------------------------


def body(count: int) -> bytes:
    """``count`` events, each its own HTTP chunk, then the last chunk."""
    return b"".join(chunk(token_event(i)) for i in range(count)) + b"0\r\n\r\n"


def serve(count: int) -> None:
    """Answer each connection on 127.0.0.1 with the whole stream; print the port first."""
    payload = body(count)
    with listening() as listener:
        while True:
            with accept_stream(listener) as connection:
                connection.sendall(payload)


# -- the consumers ------------------------------------------------------------------------


async def raw_httpx(client: httpx.AsyncClient, url: str) -> int:
    size = 0
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


CONSUMERS: dict[str, Consumer] = {
    "(a) raw httpx aiter_bytes": raw_httpx,
    "(b) httpx-sse aiter_sse": consume_httpx_sse,
    "(c) trio-sse open_event_stream": consume_trio_sse,
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
    with server_process(__file__, "--events", str(args.events)) as (url, _):
        best = trio.run(run, url, args.events, args.rounds)
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
