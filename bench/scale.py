"""Many streams at once: 1,000 concurrent streams of 200 events from one loopback server.

The server (a separate process, a thread per connection) answers every request with the
same 200 Anthropic-shaped events, one HTTP chunk each. Each contender runs in a fresh
process of its own, so its peak RSS is its own: one ``httpx.AsyncClient`` with a pool
large enough for every stream (httpx's default allows 100 connections), all streams in
one nursery, every event JSON-decoded. Contenders alternate over rounds; the best wall
time of each is kept, and its peak RSS over the baseline of its own process per stream:
the median round and the largest (httpx-sse's moves by up to 10 KiB a stream from round
to round, so one round's outlier would decide a comparison of the largest).

    python bench/scale.py [--streams N] [--events N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import resource
import socketserver
import statistics
import subprocess
import sys
import time

import httpx
import trio
from _loopback import SSE_HEAD, consume_httpx_sse, consume_trio_sse, save_results, server_process
from pipeline import body


def serve(count: int) -> None:
    """A thread per connection on 127.0.0.1; print the port first."""
    payload = SSE_HEAD + body(count)

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


CONTENDERS = {"trio-sse": consume_trio_sse, "httpx-sse": consume_httpx_sse}


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
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
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
    results: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
    with server_process(__file__, "--events", str(args.events)) as (url, _):
        for _ in range(args.rounds):
            for name in CONTENDERS:
                out = subprocess.run(
                    [sys.executable, __file__, "--contender", name, "--url", url,
                     "--streams", str(args.streams), "--events", str(args.events)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[name].append(json.loads(out.stdout))
    total = args.streams * args.events
    print(
        f"Python {sys.version.split()[0]}, {args.streams:,} concurrent streams x {args.events} "
        f"events, best wall time of {args.rounds} rounds; peak RSS over the process's own "
        "baseline, per stream: the median round (and the largest)"
    )
    print(f"  {'client':<10}{'wall s':>8}{'events/s':>12}{'KiB/stream':>12}{'largest':>9}")
    summary: dict[str, tuple[float, float, float]] = {}
    for name, runs in results.items():
        wall = min(run["wall"] for run in runs)
        kib = [(run["peak_kib"] - run["baseline_kib"]) / args.streams for run in runs]
        rate, median, largest = summary[name] = (total / wall, statistics.median(kib), max(kib))
        print(f"  {name:<10}{wall:>8.2f}{rate:>12,.0f}{median:>12.1f}{largest:>9.1f}")
        print(f"  {'':<10}every round, KiB/stream: " + ", ".join(f"{k:.1f}" for k in kib))
    ratio = summary["trio-sse"][0] / summary["httpx-sse"][0]
    print(f"trio-sse aggregate events/s over httpx-sse's: {ratio:.2f}x (the target is 1.3x)")
    extra = summary["trio-sse"][1] - summary["httpx-sse"][1]
    largest = summary["trio-sse"][2] - summary["httpx-sse"][2]
    print(
        f"trio-sse's memory per stream over httpx-sse's: {extra:+.1f} KiB, median rounds "
        f"({largest:+.1f} KiB the largest; the target is at most +10)"
    )
    save_results(
        args.json,
        {
            "streams": args.streams,
            "events": args.events,
            "rounds": args.rounds,
            "events_per_second": {name: rate for name, (rate, _, _) in summary.items()},
            "kib_per_stream": {name: kib for name, (_, kib, _) in summary.items()},
            "largest_kib_per_stream": {name: kib for name, (_, _, kib) in summary.items()},
        },
    )


if __name__ == "__main__":
    main()
