"""Many streams at once: 1,000 concurrent streams of 200 events from one loopback server.

The server (a separate process, a thread per connection) answers every request with the
same 200 Anthropic-shaped events, one HTTP chunk each. Each contender runs in a fresh
process of its own, so its peak RSS is its own: one ``httpx.AsyncClient`` with a pool
large enough for every stream (httpx's default allows 100 connections), all streams in
one nursery, every event JSON-decoded. Contenders alternate over rounds; the best wall
time and the largest peak RSS of each are kept.

    python bench/scale.py [--streams N] [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import resource
import socketserver
import subprocess
import sys
import time

import httpx
import httpx_sse
import trio
from pipeline import body  # a sibling script: bench/ is on sys.path when run

import trio_sse


def serve(count: int) -> None:
    """A thread per connection on 127.0.0.1; print the port first."""
    payload = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n" + body(count)
    )

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            head = b""
            while b"\r\n\r\n" not in head:
                data = self.request.recv(65536)
                if not data:
                    return
                head += data
            self.request.sendall(payload)

    socketserver.ThreadingTCPServer.daemon_threads = True
    socketserver.ThreadingTCPServer.request_queue_size = 2048
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        print(server.server_address[1], flush=True)
        server.serve_forever()


async def trio_sse_stream(client: httpx.AsyncClient, url: str) -> int:
    count = 0
    async with trio_sse.open_event_stream(client, "GET", url) as events:
        async for event in events:
            json.loads(event.data)
            count += 1
    return count


async def httpx_sse_stream(client: httpx.AsyncClient, url: str) -> int:
    count = 0
    async with httpx_sse.aconnect_sse(client, "GET", url) as source:
        async for event in source.aiter_sse():
            json.loads(event.data)
            count += 1
    return count


CONTENDERS = {"trio-sse": trio_sse_stream, "httpx-sse": httpx_sse_stream}


async def run_streams(name: str, url: str, streams: int) -> int:
    consume = CONTENDERS[name]
    totals: list[int] = []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=None, limits=limits) as client:

        async def one() -> None:
            totals.append(await consume(client, url))

        async with trio.open_nursery() as nursery:
            for _ in range(streams):
                nursery.start_soon(one)
    return sum(totals)


def contender(name: str, url: str, streams: int, events: int) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    received = trio.run(run_streams, name, url, streams)
    wall = time.perf_counter() - start
    if received != streams * events:
        raise SystemExit(f"{name}: received {received} events, expected {streams * events}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"wall": wall, "peak_kib": peak, "baseline_kib": baseline}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events)
        return
    if args.contender:
        contender(args.contender, args.url, args.streams, args.events)
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--events", str(args.events)],
        stdout=subprocess.PIPE,
        text=True,
    )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/stream"
        for _ in range(args.rounds):
            for name in CONTENDERS:
                out = subprocess.run(
                    [sys.executable, __file__, "--contender", name, "--url", url,
                     "--streams", str(args.streams), "--events", str(args.events)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[name].append(json.loads(out.stdout))
    finally:
        server.kill()
        server.wait()
    total = args.streams * args.events
    print(
        f"Python {sys.version.split()[0]}, {args.streams:,} concurrent streams x {args.events} "
        f"events, best wall time of {args.rounds} rounds, largest peak RSS"
    )
    print(f"  {'client':<10}{'wall s':>8}{'events/s':>12}{'peak RSS MiB':>14}{'KiB/stream':>12}")
    summary: dict[str, tuple[float, float]] = {}
    for name, runs in results.items():
        wall = min(run["wall"] for run in runs)
        peak = max(run["peak_kib"] for run in runs)
        per_stream = (peak - min(run["baseline_kib"] for run in runs)) / args.streams
        summary[name] = (total / wall, per_stream)
        print(
            f"  {name:<10}{wall:>8.2f}{total / wall:>12,.0f}{peak / 1024:>14.1f}{per_stream:>12.1f}"
        )
    ratio = summary["trio-sse"][0] / summary["httpx-sse"][0]
    print(f"trio-sse aggregate events/s over httpx-sse's: {ratio:.2f}x (the target is 1.3x)")


if __name__ == "__main__":
    main()
