"""Soak: a server that drops connections at random points, for N minutes.

The server (a separate process) numbers its events 1, 2, 3, ... and resumes after the
``Last-Event-ID`` a client sends. Each connection is cut after a random number of bytes,
usually in the middle of an event; one connection in twenty is answered 503 instead.
The client reads through ``open_event_stream`` (a GET: it reconnects) and checks that
every event arrives exactly once, in order. Expected: 0 duplicates, 0 gaps, flat memory,
as many open file descriptors at the end as at the start.

    python bench/soak.py [--minutes M] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from functools import partial

import httpx
import trio

import trio_sse

PAGE = os.sysconf("SC_PAGE_SIZE")
HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-store\r\nconnection: close\r\n\r\nretry: 5\n\n"
)
UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 0\r\ncontent-length: 0\r\n\r\n"


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# --- the server ---------------------------------------------------------------------------


async def serve(seed: int) -> None:
    rng = random.Random(seed)
    sent = connections = 0

    async def connection(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        # A client that leaves (at the end of the soak) is no error.
        async with stream:
            with contextlib.suppress(trio.BrokenResourceError):
                await respond(stream)

    async def respond(stream: trio.SocketStream) -> None:
        nonlocal sent
        head = b""
        while b"\r\n\r\n" not in head:
            data = await stream.receive_some()
            if not data:
                return
            head += data
        if rng.random() < 0.05:
            await stream.send_all(UNAVAILABLE)
            return
        last = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"last-event-id:"):
                last = int(line.partition(b":")[2])
        budget = rng.randrange(1, 64 * 1024)  # bytes before the cut
        await stream.send_all(HEAD)
        while True:
            batch = b"".join(
                b'id: %d\nevent: tick\ndata: {"n": %d}\n\n' % (i, i)
                for i in range(last + 1, last + 21)
            )
            if len(batch) > budget:  # the cut falls inside this batch, mostly mid-event
                await stream.send_all(batch[:budget])
                sent = max(sent, last + batch[:budget].count(b"\n\n"))
                return
            await stream.send_all(batch)
            last += 20
            sent = max(sent, last)
            budget -= len(batch)
            await trio.sleep(0.001)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, connection, 0, host="127.0.0.1"))
        print(listeners[0].socket.getsockname()[1], flush=True)
        with trio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                print(sent, connections, flush=True)
                nursery.cancel_scope.cancel()


# --- the client ---------------------------------------------------------------------------


async def soak(url: str, seconds: float, report: dict[str, float]) -> None:
    seen = 0
    duplicates = gaps = received = 0
    peak = early = rss_mib()
    fds_before = open_fds()
    async with httpx.AsyncClient() as client:
        with trio.move_on_after(seconds):
            async with trio_sse.open_event_stream(client, "GET", url) as events:
                try:
                    async for event in events:
                        received += 1
                        n = int(event.id)
                        if n <= seen:
                            duplicates += 1
                        else:
                            gaps += n - seen - 1
                            seen = n
                        if received % 10_000 == 0:
                            peak = max(peak, rss_mib())
                            if received == 10_000:
                                early = peak
                finally:
                    stats = events.statistics()
    await trio.sleep(0.1)  # let the cancelled connection's close finish
    report.update(
        received=received,
        last_id=seen,
        duplicates=duplicates,
        gaps=gaps,
        attempts=stats.connection_attempts,
        reconnects=stats.reconnects,
        early_rss=early,
        peak_rss=max(peak, rss_mib()),
        fds_before=fds_before,
        fds_after=open_fds(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        trio.run(serve, args.seed)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--seed", str(args.seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = f"http://127.0.0.1:{int(server.stdout.readline())}/stream"
    report: dict[str, float] = {}
    start = time.perf_counter()
    try:
        trio.run(soak, url, args.minutes * 60, report)
    finally:
        server.send_signal(signal.SIGTERM)
        sent, connections = map(int, server.stdout.readline().split())
        server.wait()
    elapsed = time.perf_counter() - start
    print(f"Python {sys.version.split()[0]}, {args.minutes:g} min, seed {args.seed}")
    print(f"  server: {sent:,} events sent over {connections:,} connections")
    rate = report["received"] / elapsed
    print(f"  client: {report['received']:,.0f} events received ({rate:,.0f}/s)")
    print(f"  duplicates {report['duplicates']:.0f}, gaps {report['gaps']:.0f}")
    print(
        f"  connection attempts {report['attempts']:,.0f}, reconnects {report['reconnects']:,.0f}"
    )
    print(
        f"  RSS {report['early_rss']:.1f} MiB after 10,000 events, "
        f"peak {report['peak_rss']:.1f} MiB"
    )
    print(f"  open fds: {report['fds_before']:.0f} before, {report['fds_after']:.0f} after")
    print(f"  last id received {report['last_id']:,.0f} (the rest was in flight at the end)")


if __name__ == "__main__":
    main()
