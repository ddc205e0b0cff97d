"""Backpressure: a server streams as fast as it can to a consumer that takes 1 ms per event.

The server (a separate process) writes 64 KiB events without end; TCP flow control is all
that slows it. The consumer reads through ``open_event_stream`` and sleeps 1 ms per event.
A sampler task records this process's RSS every half second. Memory should stay flat,
bounded by the buffer (64 events) times the event size plus the decoder's limit, however
much has streamed by.

    python bench/backpressure.py [--gigabytes G] [--event-kib K]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import httpx
import trio
from _loopback import accept_stream, chunk, listening, save_results, server_process

import trio_sse

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def serve(event_kib: int) -> None:
    """Stream events to each connection until it goes away; print the port first."""
    framed = chunk(b"data: " + b"x" * (event_kib * 1024) + b"\n\n")
    with listening() as listener, accept_stream(listener) as connection:
        try:
            while True:
                connection.sendall(framed)
        except OSError:
            return


async def consume(url: str, limit_bytes: int, samples: list[tuple[float, int, float]]) -> None:
    received = 0
    start = time.perf_counter()

    async def sample() -> None:
        while True:
            samples.append((time.perf_counter() - start, received, rss_mib()))
            await trio.sleep(0.5)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample)
        async with (
            httpx.AsyncClient(timeout=None) as client,
            trio_sse.open_event_stream(client, "GET", url) as events,
        ):
            async for event in events:
                received += len(event.data)
                await trio.sleep(0.001)
                if received >= limit_bytes:
                    break
        samples.append((time.perf_counter() - start, received, rss_mib()))
        nursery.cancel_scope.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--event-kib", type=int, default=64)
    parser.add_argument("--json", metavar="FILE", help="also write the samples there")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.event_kib)
        return
    samples: list[tuple[float, int, float]] = []
    with server_process(__file__, "--event-kib", str(args.event_kib)) as (url, _):
        trio.run(consume, url, int(args.gigabytes * 2**30), samples)
    print(
        f"Python {sys.version.split()[0]}, {args.event_kib} KiB events, consumer 1 ms per event, "
        f"buffer {trio_sse.DEFAULT_MAX_BUFFER_SIZE} events"
    )
    print(f"  {'seconds':>8}{'received MB':>13}{'RSS MiB':>9}")
    step = max(1, len(samples) // 12)
    for seconds, received, rss in [*samples[::step], samples[-1]]:
        print(f"  {seconds:>8.1f}{received / 1e6:>13.0f}{rss:>9.1f}")
    settled = [rss for _, received, rss in samples if received >= 2**27]  # after 128 MiB
    if settled:
        print(f"RSS after the first 128 MiB: {min(settled):.1f} to {max(settled):.1f} MiB")
    save_results(
        args.json,
        {
            "event_kib": args.event_kib,
            "buffer": trio_sse.DEFAULT_MAX_BUFFER_SIZE,
            "samples": [
                {"seconds": seconds, "received_mb": received / 1e6, "rss_mib": rss}
                for seconds, received, rss in samples
            ],
        },
    )


if __name__ == "__main__":
    main()
