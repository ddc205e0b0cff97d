"""The whole pipeline, loopback socket to JSON, against raw httpx, httpx-sse and the SDK.

A server in a separate process streams one Anthropic Messages reply of N events (text
deltas between a message_start and a message_stop), one HTTP chunk each, over 127.0.0.1.
Consumers, each in this process, one at a time, interleaved over rounds:

- (a) raw httpx ``aiter_bytes()``: no parsing at all, the floor;
- (b) httpx-sse ``aiter_sse()`` under Trio, ``json.loads`` on every event;
- (c) trio-sse ``open_event_stream``, ``json.loads`` on every event;
- (c') trio-sse's decoder called inline on ``aiter_bytes``, ``json.loads`` on every event:
  no pump and no channel, the lower bound of any design that reads through httpx;
- (d) trio-sse's pump with the Anthropic consumer as a sibling task (``interpret_events``),
  every neutral event received;
- (e) the official anthropic SDK's async ``messages.stream()`` (asyncio), every event.

Prints the best round's µs per event and the ratios.

    python bench/pipeline.py [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anthropic
import httpx
import trio
from _loopback import (
    accept_stream,
    anthropic_reply,
    chunk,
    consume_httpx_sse,
    consume_trio_sse,
    listening,
    save_results,
    server_process,
)

import trio_sse
from trio_sse.providers import anthropic as anthropic_format
from trio_sse.providers import interpret_events

Consumer = Callable[[httpx.AsyncClient, str], Awaitable[int]]


# -- the server (a separate process) ------------------------------------------------------


def body(count: int) -> bytes:
    """A reply of ``count`` events, each its own HTTP chunk, then the last chunk."""
    return b"".join(chunk(event) for event in anthropic_reply(count - 5)) + b"0\r\n\r\n"


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


async def decoder_inline(client: httpx.AsyncClient, url: str) -> int:
    count = 0
    decoder = trio_sse.SSEDecoder()
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            for event in decoder.feed(chunk):
                json.loads(event.data)
                count += 1
    return count


async def trio_sse_anthropic(client: httpx.AsyncClient, url: str) -> int:
    pump = partial(trio_sse.pump_events, client, "GET", url, reconnect=False)
    async with trio.open_nursery() as nursery:
        events: trio_sse.EventStream = await nursery.start(pump)
        reply = await nursery.start(interpret_events, anthropic_format.Interpreter(), events)
        async for _ in reply:
            pass
    assert reply.message.stop_reason == "end_turn"
    return events.statistics().events_delivered


CONSUMERS: dict[str, Consumer] = {
    "(a) raw httpx aiter_bytes": raw_httpx,
    "(b) httpx-sse aiter_sse": consume_httpx_sse,
    "(c) trio-sse open_event_stream": consume_trio_sse,
    "(c') trio-sse decoder inline": decoder_inline,
    "(d) trio-sse + Anthropic consumer": trio_sse_anthropic,
}
SDK = "(e) anthropic SDK messages.stream"


async def trio_round(url: str, events: int, best: dict[str, float]) -> None:
    async with httpx.AsyncClient(timeout=None) as client:
        for name, consume in CONSUMERS.items():
            start = time.perf_counter()
            result = await consume(client, url)
            best[name] = min(best[name], time.perf_counter() - start)
            if name != "(a) raw httpx aiter_bytes" and result != events:
                raise SystemExit(f"{name} received {result} events, expected {events}")


async def sdk_round(url: str, events: int, best: dict[str, float]) -> None:
    client = anthropic.AsyncAnthropic(api_key="x", base_url=url, max_retries=0)
    start = time.perf_counter()
    async with client.messages.stream(
        model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        async for _ in stream:
            pass
        final = await stream.get_final_message()
    best[SDK] = min(best[SDK], time.perf_counter() - start)
    await client.close()
    if final.usage.output_tokens != events - 5:
        raise SystemExit(f"{SDK} ended with {final.usage.output_tokens} tokens")


def run(url: str, events: int, rounds: int) -> dict[str, float]:
    best = {name: float("inf") for name in [*CONSUMERS, SDK]}
    for _ in range(rounds):
        trio.run(trio_round, url, events, best)
        asyncio.run(sdk_round(url.removesuffix("/stream"), events, best))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events)
        return
    with server_process(__file__, "--events", str(args.events)) as (url, _):
        best = run(url, args.events, args.rounds)
    floor = best["(a) raw httpx aiter_bytes"]
    print(f"Python {sys.version.split()[0]}, {args.events:,} events, best of {args.rounds} rounds")
    print(f"  {'consumer':<36}{'µs/event':>10}{'events/s':>12}{'x floor':>9}")
    for name, seconds in best.items():
        per_event = seconds / args.events
        print(f"  {name:<36}{per_event * 1e6:>10.2f}{1 / per_event:>12,.0f}{seconds / floor:>9.2f}")
    ratio = best["(b) httpx-sse aiter_sse"] / best["(c) trio-sse open_event_stream"]
    print(f"trio-sse events/s over httpx-sse's: {ratio:.2f}x (the target is 1.5x)")
    print(
        f"trio-sse time over the raw floor: {best['(c) trio-sse open_event_stream'] / floor:.2f}x"
        " (the target is 1.35x)"
    )
    sdk_ratio = best[SDK] / best["(d) trio-sse + Anthropic consumer"]
    print(f"trio-sse + Anthropic consumer events/s over the SDK's: {sdk_ratio:.2f}x (target 4x)")
    per_event = {name: seconds / args.events * 1e6 for name, seconds in best.items()}
    save_results(
        args.json, {"events": args.events, "rounds": args.rounds, "us_per_event": per_event}
    )


if __name__ == "__main__":
    main()
