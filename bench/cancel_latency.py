"""Cancellation latency: from ``cancel()`` to the server seeing the connection close.

The server (a separate process) sends an event every millisecond and watches its socket;
when the client's close arrives it reports the wall-clock time. The client receives a few
events inside ``open_event_stream``, notes the time and cancels the enclosing scope.
Same machine, same clock: the difference is the latency. Prints the median and the worst
of N runs.

    python bench/cancel_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import select
import statistics
import sys
import time

import httpx
import trio
from _loopback import accept_stream, chunk, listening, server_process

import trio_sse


def serve() -> None:
    """One connection after another; print the port, then each disconnect's time."""
    tick = chunk(b"data: tick\n\n")
    with listening() as listener:
        while True:
            with accept_stream(listener) as connection:
                try:
                    while True:
                        connection.sendall(tick)
                        readable, _, _ = select.select([connection], [], [], 0.001)
                        if readable and not connection.recv(65536):
                            break
                except OSError:
                    pass
            print(repr(time.time()), flush=True)


async def cancel_once(client: httpx.AsyncClient, url: str) -> float:
    with trio.CancelScope() as scope:
        async with trio_sse.open_event_stream(client, "GET", url) as events:
            seen = 0
            async for _ in events:
                seen += 1
                if seen == 5:
                    cancelled_at = time.time()
                    scope.cancel()
    return cancelled_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    latencies: list[float] = []
    with server_process(__file__) as (url, server):
        assert server.stdout is not None
        reports = server.stdout

        async def run() -> None:
            async with httpx.AsyncClient(timeout=None) as client:
                for _ in range(args.runs):
                    cancelled_at = await cancel_once(client, url)
                    seen_at = float(await trio.to_thread.run_sync(reports.readline))
                    latencies.append(seen_at - cancelled_at)

        trio.run(run)
    median = statistics.median(latencies) * 1e3
    print(f"Python {sys.version.split()[0]}, {args.runs} runs: cancel() to the server seeing EOF")
    print(f"  median {median:.2f} ms, worst {max(latencies) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
